#include "accounts/password_worker.h"

#include "accounts/password.h"

namespace harvest::accounts {

PasswordWorker::PasswordWorker(EventLoop& loop, size_t max_queued)
    : loop_(loop), max_queued_(max_queued), thread_([this] { run(); }) {}

PasswordWorker::~PasswordWorker() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    jobs_.clear();
  }
  wake_.notify_one();
  thread_.join();
}

bool PasswordWorker::enqueue(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    if (jobs_.size() >= max_queued_) return false;
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

bool PasswordWorker::verify(std::string encoded_hash, std::string password, std::function<void(bool)> done) {
  return enqueue([this, encoded_hash = std::move(encoded_hash), password = std::move(password),
                  done = std::move(done)] {
    const bool matches = verify_password(encoded_hash, password);
    loop_.post([done, matches] { done(matches); });
  });
}

bool PasswordWorker::hash(std::string password, std::function<void(std::string)> done) {
  return enqueue([this, password = std::move(password), done = std::move(done)] {
    std::string encoded = hash_password(password);
    loop_.post([done, encoded = std::move(encoded)]() mutable { done(std::move(encoded)); });
  });
}

void PasswordWorker::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (stop_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace harvest::accounts

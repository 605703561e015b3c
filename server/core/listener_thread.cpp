#include "core/listener_thread.h"

namespace harvest {

void ListenerThread::start(std::function<void()> loop) {
  stop_.store(false, std::memory_order_release);
  thread_ = std::thread(std::move(loop));
}

void ListenerThread::stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  if (wake_) wake_();
  thread_.join();
}

void ListenerThread::post(std::function<void()> task) {
  {
    std::lock_guard lock(tasks_mutex_);
    tasks_.push_back(std::move(task));
  }
  if (wake_) wake_();
}

void ListenerThread::run_tasks() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lock(tasks_mutex_);
    batch.swap(tasks_);
  }
  for (auto& task : batch) task();
}

}  // namespace harvest

#pragma once
// Runs argon2id off the loop thread: one hash costs ~0.1 s of CPU and 64 MiB, which would stall
// every viewer if the loop did it. One thread, a short queue: a flood of sign-ins is refused
// (503) instead of piling up memory and delay; results come back on the loop thread.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/event_loop.h"

namespace harvest::accounts {

class PasswordWorker {
public:
  explicit PasswordWorker(EventLoop& loop, size_t max_queued = 16);
  // Finishes the job in hand; queued ones are dropped (their callbacks never run).
  ~PasswordWorker();
  PasswordWorker(const PasswordWorker&) = delete;
  PasswordWorker& operator=(const PasswordWorker&) = delete;

  // Loop thread. False (and `done` never runs) when the queue is full.
  bool verify(std::string encoded_hash, std::string password, std::function<void(bool matches)> done);
  // `done` gets the encoded hash, empty if hashing failed.
  bool hash(std::string password, std::function<void(std::string encoded)> done);

private:
  bool enqueue(std::function<void()> job);
  void run();

  EventLoop& loop_;
  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace harvest::accounts

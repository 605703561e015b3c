#pragma once
// Runs argon2id off the loop thread: one hash costs ~0.1 s of CPU and 64 MiB, which would stall
// every viewer if the loop did it. One thread (core/worker_thread.h), a short queue: a flood of
// sign-ins is refused (503) instead of piling up memory and delay; results come back on the
// loop thread.
#include <functional>
#include <string>

#include "core/event_loop.h"
#include "core/worker_thread.h"

namespace harvest::accounts {

class PasswordWorker {
public:
  explicit PasswordWorker(EventLoop& loop, size_t max_queued = 16) : loop_(loop), worker_(max_queued) {}

  // Loop thread. False (and `done` never runs) when the queue is full.
  bool verify(std::string encoded_hash, std::string password, std::function<void(bool matches)> done);
  // `done` gets the encoded hash, empty if hashing failed.
  bool hash(std::string password, std::function<void(std::string encoded)> done);

private:
  EventLoop& loop_;
  WorkerThread worker_;  // last: its thread stops before loop_ could be gone
};

}  // namespace harvest::accounts

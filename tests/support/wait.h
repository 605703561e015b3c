#pragma once
// Waiting on a condition with a deadline: the only way tests synchronise.
#include <chrono>
#include <functional>
#include <thread>

namespace harvest::test {

// Polls `condition` every few milliseconds until it holds or `timeout` passes.
// Returns whether it held. Never use a bare sleep to wait for something.
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10),
                       std::chrono::milliseconds poll = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace harvest::test

#pragma once
// The control plane's single event loop. Room state, commerce decisions and
// GStreamer bus messages are all handled on this one thread, so they need no locks.
//
// The loop itself is libwebsockets' service loop (realtime::HttpServer drives it);
// this class is the part every module sees: post work from any thread, run timers.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace harvest {

class EventLoop {
public:
  using Task = std::function<void()>;
  using Clock = std::chrono::steady_clock;
  using TimerId = uint64_t;

  EventLoop();

  // Thread-safe: queues `task` to run on the loop thread and wakes the loop.
  void post(Task task);

  // Loop thread only: runs `task` once after `delay`. Returns an id for cancel().
  TimerId run_after(std::chrono::milliseconds delay, Task task);
  void cancel(TimerId id);

  bool in_loop_thread() const { return std::this_thread::get_id() == loop_thread_; }

  // --- for the driver of the loop (realtime::HttpServer) ---
  // `waker` must be safe to call from any thread; it makes the loop call run_pending().
  void set_waker(std::function<void()> waker);
  void bind_to_current_thread() { loop_thread_ = std::this_thread::get_id(); }
  // Runs queued tasks and due timers; returns the time until the next timer (or max()).
  std::chrono::milliseconds run_pending();
  void request_stop();
  bool stop_requested() const;

private:
  mutable std::mutex mutex_;
  std::deque<Task> queue_;
  std::function<void()> waker_;
  bool stop_ = false;
  std::thread::id loop_thread_;
  // Timers are loop-thread only: (deadline, id) -> task.
  std::map<std::pair<Clock::time_point, TimerId>, Task> timers_;
  std::map<TimerId, Clock::time_point> timer_deadlines_;
  TimerId next_timer_id_ = 1;
};

}  // namespace harvest

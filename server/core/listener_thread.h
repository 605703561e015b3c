#pragma once
// The shape the ingest listeners (RTMP, SRT) share: one thread of their own that runs their
// event loop until stop(), and post() to run a task on it. What differs (the sockets, how the
// thread waits and is woken) stays in each server: `wake` ends the thread's wait (RTMP writes its
// eventfd); a server whose loop wakes up by itself every few ms (SRT's srt_epoll_uwait) passes none.
#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace harvest {

class ListenerThread {
public:
  explicit ListenerThread(std::function<void()> wake = {}) : wake_(std::move(wake)) {}
  ~ListenerThread() { stop(); }
  ListenerThread(const ListenerThread&) = delete;
  ListenerThread& operator=(const ListenerThread&) = delete;

  // Starts the thread running `loop`, which should return once stopping() is true.
  void start(std::function<void()> loop);
  // Asks the loop to end, wakes it and joins it. Idempotent; call before the state the loop uses
  // goes away.
  void stop();
  bool stopping() const { return stop_.load(std::memory_order_acquire); }

  // Any thread: queues `task` for the loop thread, which runs it in run_tasks().
  void post(std::function<void()> task);
  // Loop thread: runs the tasks queued so far, in order.
  void run_tasks();

private:
  std::function<void()> wake_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex tasks_mutex_;
  std::deque<std::function<void()>> tasks_;
};

}  // namespace harvest

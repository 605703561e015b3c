#pragma once
// One thread for work too slow for the loop thread (decoding an uploaded photo): jobs run in
// order, one at a time, so such work uses at most one core whatever the number of clients.
// The queue is bounded; a full queue refuses the job and the caller answers "busy", so queued
// uploads cannot hold unbounded memory.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace harvest {

class WorkerThread {
public:
  using Job = std::function<void()>;

  explicit WorkerThread(size_t max_queued);
  // Finishes the job in hand and drops the queued ones.
  ~WorkerThread();
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  // Any thread. False (and `job` dropped) when max_queued jobs are already waiting.
  bool try_post(Job job);

private:
  void run();

  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace harvest

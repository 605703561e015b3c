#include "core/event_loop.h"

namespace harvest {

EventLoop::EventLoop() : loop_thread_(std::this_thread::get_id()) {}

void EventLoop::post(Task task) {
  std::function<void()> waker;
  {
    std::lock_guard lock(mutex_);
    // Wake the loop only when the queue turns non-empty: run_pending() takes the whole queue
    // at once, so a task posted after that finds it empty again and wakes the loop itself.
    if (queue_.empty()) waker = waker_;
    queue_.push_back(std::move(task));
  }
  if (waker) waker();
}

EventLoop::TimerId EventLoop::run_after(std::chrono::milliseconds delay, Task task) {
  const TimerId id = next_timer_id_++;
  const auto deadline = Clock::now() + delay;
  timers_.emplace(std::make_pair(deadline, id), std::move(task));
  timer_deadlines_.emplace(id, deadline);
  // The driver re-reads the next deadline after every run_pending(); make sure one happens.
  std::function<void()> waker;
  {
    std::lock_guard lock(mutex_);
    waker = waker_;
  }
  if (waker) waker();
  return id;
}

void EventLoop::cancel(TimerId id) {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return;
  timers_.erase(std::make_pair(it->second, id));
  timer_deadlines_.erase(it);
}

void EventLoop::set_waker(std::function<void()> waker) {
  std::lock_guard lock(mutex_);
  waker_ = std::move(waker);
}

namespace {

// Posted tasks run per call of run_pending() for at most about this long (at least one task);
// the rest stay queued, in order, and run_pending() returns 0 so the driver comes back after
// one look at the sockets. Thousands of websockets opening at once post thousands of tasks
// (their opens, from the fan-out shards): run all in one go, they kept the loop from the
// sockets for tens of seconds on a loaded machine, long enough for lws to hang up on a host
// whose keepalive PONG sat unread (docs/reliability.md "Floods"). Too small a budget starves
// the queue instead: the socket passes in between take long while thousands of connections
// open, and a bystander's buy queued behind 1,000 opens waited over 20 s with 10 ms (and with
// 50 ms on a loaded machine). A quarter of a second keeps every stall far below lws' 30 s
// keepalive grace and lets the queue drain at most of the loop's speed.
constexpr auto kTaskBudget = std::chrono::milliseconds(250);

}  // namespace

std::chrono::milliseconds EventLoop::run_pending() {
  std::deque<Task> batch;
  bool stopping = false;
  {
    std::lock_guard lock(mutex_);
    batch.swap(queue_);
    stopping = stop_;  // the driver's last call: run everything
  }
  const auto started = Clock::now();
  size_t done = 0;
  while (done < batch.size()) {
    Task task = std::move(batch[done++]);
    task();
    if (!stopping && Clock::now() - started >= kTaskBudget) break;
  }
  if (done < batch.size()) {
    std::lock_guard lock(mutex_);
    // Before anything the tasks just run posted: the order of posting is kept.
    for (size_t i = batch.size(); i-- > done;) queue_.push_front(std::move(batch[i]));
  }

  const auto now = Clock::now();
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    timer_deadlines_.erase(node.key().second);
    node.mapped()();
  }
  {
    std::lock_guard lock(mutex_);
    if (!queue_.empty()) return std::chrono::milliseconds(0);
  }
  if (timers_.empty()) return std::chrono::milliseconds::max();
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(timers_.begin()->first.first - now);
  return std::max(wait, std::chrono::milliseconds(0));
}

void EventLoop::request_stop() {
  std::function<void()> waker;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    waker = waker_;
  }
  if (waker) waker();
}

bool EventLoop::stop_requested() const {
  std::lock_guard lock(mutex_);
  return stop_;
}

}  // namespace harvest

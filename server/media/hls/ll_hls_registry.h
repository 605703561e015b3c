#pragma once
// The live LL-HLS renditions by stream id, and the requests blocked on them (blocking playlist
// reload, a preload-hinted part asked for before it exists). A request waits on the loop
// thread without blocking it: it is parked here with a deadline, and woken when its stream
// writes a part (LlHlsStream::on_part posts a wake-up to the loop).
//
// add/remove/find: any thread. wait(): loop thread; `done` runs on the loop thread, once.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/event_loop.h"
#include "media/hls/ll_hls.h"

namespace harvest::media::hls {

class LlHlsRegistry {
public:
  explicit LlHlsRegistry(EventLoop& loop);
  ~LlHlsRegistry();
  LlHlsRegistry(const LlHlsRegistry&) = delete;
  LlHlsRegistry& operator=(const LlHlsRegistry&) = delete;

  void add(const std::string& stream_id, const std::shared_ptr<LlHlsStream>& stream);
  void remove(const std::string& stream_id);
  std::shared_ptr<LlHlsStream> find(const std::string& stream_id) const;

  enum class Outcome { ready, timed_out, gone };
  // What a parked request waits for: decide_blocking or decide_part_file over the position.
  using Verdict = std::function<BlockVerdict(const LlPosition&)>;
  // Calls `done` once `verdict` over the stream's position is no longer `wait` (ready), at
  // `deadline` (timed_out), or when the stream is removed (gone). Loop thread.
  void wait(const std::string& stream_id, Verdict verdict, std::chrono::milliseconds deadline,
            std::function<void(Outcome)> done);
  size_t waiting() const { return waiters_.size(); }

private:
  void wake(const std::string& stream_id);  // loop thread

  struct Waiter {
    std::string stream_id;
    Verdict verdict;
    EventLoop::TimerId timer = 0;
    std::function<void(Outcome)> done;
  };
  EventLoop& loop_;
  std::shared_ptr<LlHlsRegistry*> self_;  // reset on destruction: wake-ups posted later do nothing
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<LlHlsStream>> streams_;
  std::map<uint64_t, Waiter> waiters_;  // loop thread
  uint64_t next_waiter_ = 1;
};

}  // namespace harvest::media::hls

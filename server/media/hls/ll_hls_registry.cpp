#include "media/hls/ll_hls_registry.h"

#include <vector>

namespace harvest::media::hls {

LlHlsRegistry::LlHlsRegistry(EventLoop& loop) : loop_(loop), self_(std::make_shared<LlHlsRegistry*>(this)) {}

LlHlsRegistry::~LlHlsRegistry() {
  *self_ = nullptr;
  std::lock_guard lock(mutex_);
  for (auto& [id, stream] : streams_) stream->set_on_part(nullptr);
}

void LlHlsRegistry::add(const std::string& stream_id, const std::shared_ptr<LlHlsStream>& stream) {
  std::weak_ptr<LlHlsRegistry*> weak = self_;
  EventLoop* loop = &loop_;
  // A part is out (muxer thread): wake the requests waiting for this stream, on the loop.
  stream->set_on_part([weak, loop, stream_id] {
    loop->post([weak, stream_id] {
      if (auto self = weak.lock(); self && *self) (*self)->wake(stream_id);
    });
  });
  std::lock_guard lock(mutex_);
  streams_[stream_id] = stream;
}

void LlHlsRegistry::remove(const std::string& stream_id) {
  {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(stream_id);
    if (it == streams_.end()) return;
    it->second->set_on_part(nullptr);
    streams_.erase(it);
  }
  std::weak_ptr<LlHlsRegistry*> weak = self_;
  loop_.post([weak, stream_id] {
    if (auto self = weak.lock(); self && *self) (*self)->wake(stream_id);
  });
}

std::shared_ptr<LlHlsStream> LlHlsRegistry::find(const std::string& stream_id) const {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second;
}

void LlHlsRegistry::wait(const std::string& stream_id, Verdict verdict, std::chrono::milliseconds deadline,
                         std::function<void(Outcome)> done) {
  const uint64_t id = next_waiter_++;
  std::weak_ptr<LlHlsRegistry*> weak = self_;
  Waiter w{stream_id, std::move(verdict), 0, std::move(done)};
  w.timer = loop_.run_after(deadline, [weak, id] {
    auto self = weak.lock();
    if (!self || !*self) return;
    auto& waiters = (*self)->waiters_;
    auto it = waiters.find(id);
    if (it == waiters.end()) return;
    auto fn = std::move(it->second.done);
    waiters.erase(it);
    fn(Outcome::timed_out);
  });
  waiters_.emplace(id, std::move(w));
  wake(stream_id);  // it may have come meanwhile
}

void LlHlsRegistry::wake(const std::string& stream_id) {
  const auto stream = find(stream_id);
  const std::optional<LlPosition> now = stream ? std::optional(stream->position()) : std::nullopt;
  std::vector<std::pair<std::function<void(Outcome)>, Outcome>> due;
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    Waiter& w = it->second;
    if (w.stream_id != stream_id) {
      ++it;
      continue;
    }
    std::optional<Outcome> outcome;
    if (!now) outcome = Outcome::gone;
    else if (w.verdict(*now) != BlockVerdict::wait) outcome = Outcome::ready;
    if (!outcome) {
      ++it;
      continue;
    }
    loop_.cancel(w.timer);
    due.emplace_back(std::move(w.done), *outcome);
    it = waiters_.erase(it);
  }
  for (auto& [fn, outcome] : due) fn(outcome);
}

}  // namespace harvest::media::hls

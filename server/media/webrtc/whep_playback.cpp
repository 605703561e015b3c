#include "media/webrtc/whep_playback.h"

#include <variant>

#include "core/clock.h"
#include "core/log.h"
#include "core/tokens.h"
#include "media/ingest/publish_session.h"
#include "media/ingest/stream_pipeline.h"

namespace harvest::media::webrtc {

WhepCounters& whep_counters() {
  static WhepCounters counters;
  return counters;
}

struct WhepPlayback::Session {
  std::string stream_id;
  std::weak_ptr<PublishSession> publish;  // the publisher session it plays
  std::shared_ptr<WhepPeer> peer;
  std::function<void(Outcome)> done;  // until answered
  int64_t answered_ms = 0;
};

WhepPlayback::WhepPlayback(EventLoop& loop, IngestManager& ingest, std::function<bool(const std::string&)> stream_exists,
                           WhepOptions options)
    : loop_(loop), ingest_(ingest), stream_exists_(std::move(stream_exists)), options_(std::move(options)) {
  count();
}

WhepPlayback::~WhepPlayback() {
  while (!sessions_.empty()) finish(sessions_.begin()->first, "server stopping");
  fanouts_.clear();
}

void WhepPlayback::play(const std::string& stream_id, const std::string& offer_sdp, std::function<void(Outcome)> done) {
  const auto parsed = parse_offer(offer_sdp);
  if (const auto* reason = std::get_if<std::string>(&parsed)) return done(Outcome{400, {}, {}, "bad_sdp", *reason, 0});
  const PlaybackCodecs codecs = choose_playback_codecs(std::get<SdpOffer>(parsed));
  if (!codecs.video)
    return done(Outcome{400, {}, {}, "no_usable_codec",
                        "the offer receives no H.264 video with packetization-mode=1 (a recvonly video section)", 0});
  if (!stream_exists_(stream_id)) return done(Outcome{404, {}, {}, "not_found", "no such stream", 0});
  auto publish = ingest_.current_session(stream_id);
  auto pipeline = publish && !publish->ended.load() ? publish->pipeline() : nullptr;
  if (!pipeline || !pipeline->has_video())
    return done(Outcome{409, {}, {}, "offline", "the stream is not live (no publisher is sending video now)", 0});
  if (sessions_.size() >= options_.max_viewers) {
    whep_counters().refused_full.fetch_add(1, std::memory_order_relaxed);
    return done(Outcome{503, {}, {}, "too_many_viewers",
                        "this server plays " + std::to_string(options_.max_viewers) +
                            " WebRTC viewers at most: watch over HLS (hls_url) instead",
                        kRetryAfterS});
  }
  auto& fanout = fanouts_[stream_id];
  if (fanout && !fanout->attached_to(pipeline.get())) fanout.reset();  // a previous publisher session's
  if (!fanout) {
    std::string error;
    fanout = WhepFanout::attach(pipeline, error);
    if (!fanout) {
      fanouts_.erase(stream_id);
      return done(Outcome{500, {}, {}, "internal", "cannot play the stream over WebRTC: " + error, 0});
    }
    log::info("whep_branch_started").kv("stream", stream_id).kv("audio", fanout->has_audio());
  }
  // A stream without audio still answers the offer's audio section as sendonly (its source just
  // sends nothing): answered `inactive`, Chromium received no video on the bundled transport
  // either (glass_to_glass's video-only publisher; tests/browser/whep_play.mjs checks both).
  PlaybackCodecs used = codecs;

  const std::string id = tokens::random_hex(16);
  auto session = std::make_unique<Session>();
  session->stream_id = stream_id;
  session->publish = publish;
  session->done = std::move(done);
  sessions_.emplace(id, std::move(session));
  count();

  auto on_loop = [this, life = std::weak_ptr<int>(life_)](std::function<void()> task) {
    loop_.post([life, task = std::move(task)] {
      if (!life.expired()) task();
    });
  };
  WhepPeerEvents events;
  events.answered = [this, on_loop, id](const std::string& sdp) {
    on_loop([this, id, sdp] {
      auto it = sessions_.find(id);
      if (it == sessions_.end() || !it->second->done) return;
      Session& s = *it->second;
      auto reply = std::move(s.done);
      s.done = nullptr;
      s.answered_ms = steady_ms();
      // Media from now on: webrtcbin has linked its inputs with the local description.
      auto f = fanouts_.find(s.stream_id);
      if (f != fanouts_.end() && f->second) f->second->add(s.peer);
      log::info("whep_viewer_answered").kv("stream", s.stream_id).kv("session", id);
      watch(id);
      reply(Outcome{201, id, sdp, {}, {}, 0});
    });
  };
  events.failed = [this, on_loop, id](const std::string& reason) {
    on_loop([this, id, reason] { finish(id, "negotiation failed: " + reason); });
  };
  events.lost = [this, on_loop, id](const std::string& reason) { on_loop([this, id, reason] { finish(id, reason); }); };
  std::string error;
  auto peer = WhepPeer::start(offer_sdp, used, options_.ice, std::move(events), error);
  if (!peer) return finish(id, error);
  sessions_.at(id)->peer = std::move(peer);
  loop_.run_after(kMaxNegotiation, [this, life = std::weak_ptr<int>(life_), id] {
    if (life.expired()) return;
    auto it = sessions_.find(id);
    if (it != sessions_.end() && it->second->done) finish(id, "no answer in time");
  });
}

void WhepPlayback::watch(const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Session& s = *it->second;
  auto publish = s.publish.lock();
  if (!publish || publish->ended.load()) return finish(id, "the stream's publisher session ended");
  const int64_t now = steady_ms();
  const int64_t rtcp = s.peer ? s.peer->last_rtcp_ms() : 0;
  if (rtcp == 0 && std::chrono::milliseconds(now - s.answered_ms) >= kFirstRtcp)
    return finish(id, "no RTCP from the viewer after the answer (it never connected)");
  if (rtcp != 0 && std::chrono::milliseconds(now - rtcp) >= kMaxSilence)
    return finish(id, "no RTCP from the viewer for " + std::to_string(kMaxSilence.count()) + " s (it vanished)");
  loop_.run_after(std::chrono::seconds(1), [this, life = std::weak_ptr<int>(life_), id] {
    if (!life.expired()) watch(id);
  });
}

bool WhepPlayback::end(const std::string& stream_id, const std::string& session_id, const std::string& reason) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end() || it->second->stream_id != stream_id) return false;
  finish(session_id, reason);
  return true;
}

void WhepPlayback::finish(std::string id, const std::string& reason) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  std::unique_ptr<Session> s = std::move(it->second);
  sessions_.erase(it);
  count();
  auto f = fanouts_.find(s->stream_id);
  if (s->peer) {
    if (f != fanouts_.end() && f->second) f->second->remove(s->peer.get());
    s->peer->stop();  // no event after this
  }
  // The last viewer of the stream takes the branch down (its payloader and Opus encoder).
  if (f != fanouts_.end() && (!f->second || f->second->viewers() == 0)) {
    bool others = false;
    for (const auto& [_, other] : sessions_) others = others || other->stream_id == s->stream_id;
    if (!others) {
      fanouts_.erase(f);
      log::info("whep_branch_stopped").kv("stream", s->stream_id);
    }
  }
  log::info("whep_viewer_ended").kv("stream", s->stream_id).kv("session", id).kv("reason", reason);
  if (s->done) s->done(Outcome{500, {}, {}, "negotiation_failed", "the WebRTC session could not be set up: " + reason, 0});
}

void WhepPlayback::count() const {
  whep_counters().viewers.store(static_cast<int64_t>(sessions_.size()), std::memory_order_relaxed);
}

}  // namespace harvest::media::webrtc

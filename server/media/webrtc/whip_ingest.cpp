#include "media/webrtc/whip_ingest.h"

#include <atomic>
#include <variant>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/tokens.h"
#include "media/ingest/publish_session.h"
#include "media/ingest/stream_pipeline.h"

namespace harvest::media::webrtc {

struct WhipIngest::Session {
  std::string stream_id;
  std::shared_ptr<PublishSession> publish;
  std::shared_ptr<StreamPipeline> pipeline;
  std::unique_ptr<WhipPeer> peer;
  std::function<void(Outcome)> done;  // until answered
  bool probe = false;  // an uplink check: no publish session, no pipeline
  // When the peer last handed MPEG-TS to the pipeline (steady ms; 0: not yet). Written on
  // GStreamer's threads.
  std::shared_ptr<std::atomic<int64_t>> last_output_ms = std::make_shared<std::atomic<int64_t>>(0);
};

WhipIngest::WhipIngest(EventLoop& loop, IngestManager& ingest, WhipPeerOptions options)
    : loop_(loop), ingest_(ingest), options_(std::move(options)) {}

WhipIngest::~WhipIngest() {
  while (!sessions_.empty()) finish(sessions_.begin()->first, "server stopping");
}

std::optional<WhipIngest::Outcome> WhipIngest::check_offer(const std::string& stream_id, const std::string& stream_key,
                                                            const std::string& offer_sdp, IngestCodecs& codecs) {
  auto refuse = [](int status, std::string code, std::string message, const char* counted_as) {
    count_ingest_refusal("whip", counted_as);
    return Outcome{status, {}, {}, std::move(code), std::move(message)};
  };
  if (ingest_.stream_for_key(stream_key) != stream_id)
    return refuse(401, "unauthorized", "this stream's key is required (Authorization: Bearer STREAM_KEY)", "bad_key");
  const auto parsed = parse_offer(offer_sdp);
  if (const auto* reason = std::get_if<std::string>(&parsed)) return refuse(400, "bad_sdp", *reason, "bad_sdp");
  codecs = choose_ingest_codecs(std::get<SdpOffer>(parsed));
  if (!codecs.video && !codecs.audio)
    return refuse(400, "no_usable_codec", "the offer sends no H.264, VP8 or Opus track", "unsupported_codec");
  return std::nullopt;
}

void WhipIngest::publish(const std::string& stream_id, const std::string& stream_key, const std::string& offer_sdp,
                         const std::string& peer, std::function<void(Outcome)> done) {
  IngestCodecs codecs;
  if (auto refused = check_offer(stream_id, stream_key, offer_sdp, codecs)) return done(std::move(*refused));

  const std::string id = tokens::random_hex(16);
  auto session = std::make_unique<Session>();
  session->stream_id = stream_id;
  session->publish = std::make_shared<PublishSession>();
  session->publish->protocol = "whip";
  session->publish->publisher = peer;
  // A new publisher on the key replaces this one (IngestManager kicks it): end it on the loop.
  session->publish->kick = [this, life = std::weak_ptr<int>(life_), id](const std::string& reason) {
    loop_.post([this, life, id, reason] {
      if (!life.expired()) finish(id, reason);
    });
  };
  const IngestManager::Answer answer = ingest_.publish(session->publish, stream_key);
  if (!answer.accepted) return done(Outcome{409, {}, {}, "refused", answer.description});
  session->pipeline = ingest_.make_pipeline(session->publish);
  Status st = session->pipeline->add_ts_input();
  if (st) st = session->pipeline->start();
  if (!st) {
    ingest_.unpublish(session->publish, "pipeline failed");
    return done(Outcome{500, {}, {}, "internal", "cannot start the media pipeline: " + st.message()});
  }
  session->done = std::move(done);
  // Media goes straight into the pipeline from GStreamer's threads; it holds the pipeline and
  // the session, never `Session*`.
  auto ts = [pipeline = session->pipeline, last = session->last_output_ms](const uint8_t* data, size_t size) {
    last->store(steady_ms(), std::memory_order_relaxed);
    pipeline->push_ts({reinterpret_cast<const char*>(data), size});
  };
  // Health is RTP arriving, as it is bytes arriving for RTMP: the stall timeout (takeover) and
  // kMaxSilence measure from it, and a VP8 transcode's encoder latency does not count.
  auto rtp = [publish = session->publish](size_t bytes) {
    publish->bytes_received.fetch_add(bytes, std::memory_order_relaxed);
    metrics().ingest("whip").bytes_in.fetch_add(bytes, std::memory_order_relaxed);
    publish->touch();
  };
  sessions_.emplace(id, std::move(session));
  count_sessions();
  start_peer(id, offer_sdp, codecs, std::move(ts), std::move(rtp), /*discard_media=*/false);
  // The silence clock starts with the answer (the publisher cannot send before it has one);
  // until then, this bounds the negotiation.
  loop_.run_after(kMaxNegotiation, [this, life = std::weak_ptr<int>(life_), id] {
    if (life.expired()) return;
    auto it = sessions_.find(id);
    if (it != sessions_.end() && it->second->done)
      finish(id, "no answer within " + std::to_string(kMaxNegotiation.count()) + " s");
  });
}

void WhipIngest::watch_silence(const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || !it->second->publish) return;
  const int64_t now = steady_ms();
  const std::chrono::milliseconds silent{now - it->second->publish->last_data_steady_ms.load()};
  if (silent >= kMaxSilence)
    return finish(id, "no media for " + std::to_string(kMaxSilence.count()) + " s (the publisher vanished)");
  // RTP still arrives but nothing has come out of the peer for kMediaStall after media had
  // flowed: the receive side is stuck (seen under heavy load: the muxer waiting for a track
  // whose jitterbuffer stays empty). Ending the session makes the browser reconnect.
  const int64_t last_output = it->second->last_output_ms->load(std::memory_order_relaxed);
  const bool rtp_flowing = silent < std::chrono::seconds(2);  // else it is the vanished case above
  if (rtp_flowing && last_output != 0 && std::chrono::milliseconds(now - last_output) >= kMediaStall) {
    log::warn("whip_media_stalled").kv("stream", it->second->stream_id).kv("session", id).kv("idle_ms", now - last_output);
    return finish(id, "media stalled");
  }
  loop_.run_after(std::chrono::seconds(1), [this, life = std::weak_ptr<int>(life_), id] {
    if (!life.expired()) watch_silence(id);
  });
}

void WhipIngest::probe(const std::string& stream_id, const std::string& stream_key, const std::string& offer_sdp,
                       std::function<void(Outcome)> done) {
  IngestCodecs codecs;
  if (auto refused = check_offer(stream_id, stream_key, offer_sdp, codecs)) return done(std::move(*refused));
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->second->probe && it->second->stream_id == stream_id) {
      finish(it->first, "replaced by a new uplink check");
      break;
    }
  }
  const std::string id = tokens::random_hex(16);
  auto session = std::make_unique<Session>();
  session->stream_id = stream_id;
  session->probe = true;
  session->done = std::move(done);
  sessions_.emplace(id, std::move(session));
  count_sessions();
  loop_.run_after(kMaxProbe, [this, life = std::weak_ptr<int>(life_), id] {
    if (!life.expired()) finish(id, "uplink check over");
  });
  start_peer(id, offer_sdp, codecs, [](const uint8_t*, size_t) {}, nullptr, /*discard_media=*/true);
}

void WhipIngest::start_peer(const std::string& id, const std::string& offer_sdp, const IngestCodecs& codecs,
                            std::function<void(const uint8_t*, size_t)> ts, std::function<void(size_t)> rtp,
                            bool discard_media) {
  WhipPeerEvents events;
  events.ts = std::move(ts);
  events.rtp = std::move(rtp);
  auto on_loop = [this, life = std::weak_ptr<int>(life_)](std::function<void()> task) {
    loop_.post([life, task = std::move(task)] {
      if (!life.expired()) task();
    });
  };
  events.answered = [this, on_loop, id](const std::string& sdp) {
    on_loop([this, id, sdp] {
      auto it = sessions_.find(id);
      if (it == sessions_.end() || !it->second->done) return;
      auto reply = std::move(it->second->done);
      it->second->done = nullptr;
      log::info(it->second->probe ? "whip_probe_answered" : "whip_session_answered")
          .kv("stream", it->second->stream_id).kv("session", id);
      if (it->second->publish) {
        it->second->publish->touch();
        watch_silence(id);
      }
      reply(Outcome{201, id, sdp, {}, {}});
    });
  };
  events.failed = [this, on_loop, id](const std::string& reason) {
    on_loop([this, id, reason] { finish(id, "negotiation failed: " + reason); });
  };
  events.lost = [this, on_loop, id](const std::string& reason) { on_loop([this, id, reason] { finish(id, reason); }); };

  std::string error;
  Session& s = *sessions_.at(id);
  WhipPeerOptions options = options_;
  options.discard_media = discard_media;
  s.peer = WhipPeer::start(offer_sdp, codecs, options, std::move(events), error);
  if (!s.peer) finish(id, error);
}

bool WhipIngest::end(const std::string& stream_id, const std::string& session_id, const std::string& reason) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end() || it->second->stream_id != stream_id) return false;
  finish(session_id, reason);
  return true;
}

void WhipIngest::finish(std::string session_id, const std::string& reason) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  std::unique_ptr<Session> s = std::move(it->second);
  sessions_.erase(it);
  count_sessions();
  const std::string transport = s->peer ? s->peer->transport_summary() : "no peer";
  s->peer.reset();  // stops webrtcbin: no event after this
  if (s->publish) {
    s->publish->ended.store(true);
    if (s->pipeline) s->pipeline->flush(true);
    s->pipeline.reset();
    ingest_.unpublish(s->publish, reason);
  }
  log::info(s->probe ? "whip_probe_ended" : "whip_session_ended").kv("stream", s->stream_id).kv("session", session_id).kv("reason", reason).kv("transport", transport);
  if (s->done) s->done(Outcome{500, {}, {}, "negotiation_failed", "the WebRTC session could not be set up: " + reason});
}

void WhipIngest::count_sessions() const {
  metrics().whip_sessions.store(static_cast<int64_t>(sessions_.size()), std::memory_order_relaxed);
}

}  // namespace harvest::media::webrtc

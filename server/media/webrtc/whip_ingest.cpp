#include "media/webrtc/whip_ingest.h"

#include <variant>

#include "core/clock.h"
#include "core/log.h"
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
};

WhipIngest::WhipIngest(EventLoop& loop, IngestManager& ingest, WhipPeerOptions options)
    : loop_(loop), ingest_(ingest), options_(std::move(options)) {}

WhipIngest::~WhipIngest() {
  while (!sessions_.empty()) finish(sessions_.begin()->first, "server stopping");
}

std::optional<WhipIngest::Outcome> WhipIngest::check_offer(const std::string& stream_id, const std::string& stream_key,
                                                            const std::string& offer_sdp, IngestCodecs& codecs) {
  auto refuse = [](int status, std::string code, std::string message) {
    return Outcome{status, {}, {}, std::move(code), std::move(message)};
  };
  if (ingest_.stream_for_key(stream_key) != stream_id)
    return refuse(401, "unauthorized", "this stream's key is required (Authorization: Bearer STREAM_KEY)");
  const auto parsed = parse_offer(offer_sdp);
  if (const auto* reason = std::get_if<std::string>(&parsed)) return refuse(400, "bad_sdp", *reason);
  codecs = choose_ingest_codecs(std::get<SdpOffer>(parsed));
  if (!codecs.video && !codecs.audio)
    return refuse(400, "no_usable_codec", "the offer sends no H.264, VP8 or Opus track");
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
  auto ts = [pipeline = session->pipeline, publish = session->publish](const uint8_t* data, size_t size) {
    publish->bytes_received.fetch_add(size, std::memory_order_relaxed);
    publish->touch();
    pipeline->push_ts({reinterpret_cast<const char*>(data), size});
  };
  sessions_.emplace(id, std::move(session));
  start_peer(id, offer_sdp, codecs, std::move(ts), /*discard_media=*/false);
  watch_media(id);
}

void WhipIngest::watch_media(const std::string& session_id) {
  loop_.run_after(std::chrono::seconds(1), [this, life = std::weak_ptr<int>(life_), session_id] {
    if (life.expired()) return;
    auto it = sessions_.find(session_id);
    if (it == sessions_.end() || !it->second->publish) return;
    const PublishSession& p = *it->second->publish;
    // Only once media has flowed: ICE and DTLS setup is not a stall.
    if (p.bytes_received.load(std::memory_order_relaxed) > 0) {
      const int64_t idle_ms = steady_ms() - p.last_data_steady_ms.load();
      if (idle_ms >= std::chrono::duration_cast<std::chrono::milliseconds>(kMediaStall).count()) {
        log::warn("whip_media_stalled").kv("stream", it->second->stream_id).kv("session", session_id).kv("idle_ms", idle_ms);
        return finish(session_id, "media stalled");
      }
    }
    watch_media(session_id);
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
  loop_.run_after(kMaxProbe, [this, life = std::weak_ptr<int>(life_), id] {
    if (!life.expired()) finish(id, "uplink check over");
  });
  start_peer(id, offer_sdp, codecs, [](const uint8_t*, size_t) {}, /*discard_media=*/true);
}

void WhipIngest::start_peer(const std::string& id, const std::string& offer_sdp, const IngestCodecs& codecs,
                            std::function<void(const uint8_t*, size_t)> ts, bool discard_media) {
  WhipPeerEvents events;
  events.ts = std::move(ts);
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
      reply(Outcome{201, id, sdp, {}, {}});
    });
  };
  events.failed = [this, on_loop, id](const std::string& reason) {
    on_loop([this, id, reason] { finish(id, "negotiation failed: " + reason); });
  };
  events.disconnected = [this, on_loop, id] { on_loop([this, id] { finish(id, "ICE connection lost"); }); };

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

void WhipIngest::finish(const std::string& session_id, const std::string& reason) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  std::unique_ptr<Session> s = std::move(it->second);
  sessions_.erase(it);
  s->peer.reset();  // stops webrtcbin: no event after this
  if (s->publish) {
    s->publish->ended.store(true);
    if (s->pipeline) s->pipeline->flush(true);
    s->pipeline.reset();
    ingest_.unpublish(s->publish, reason);
  }
  log::info(s->probe ? "whip_probe_ended" : "whip_session_ended").kv("stream", s->stream_id).kv("session", session_id).kv("reason", reason);
  if (s->done) s->done(Outcome{500, {}, {}, "negotiation_failed", "the WebRTC session could not be set up: " + reason});
}

}  // namespace harvest::media::webrtc

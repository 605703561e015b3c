#include "media/webrtc/whip_ingest.h"

#include <variant>

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
};

WhipIngest::WhipIngest(EventLoop& loop, IngestManager& ingest, WhipPeerOptions options)
    : loop_(loop), ingest_(ingest), options_(std::move(options)) {}

WhipIngest::~WhipIngest() {
  while (!sessions_.empty()) finish(sessions_.begin()->first, "server stopping");
}

void WhipIngest::publish(const std::string& stream_id, const std::string& stream_key, const std::string& offer_sdp,
                         const std::string& peer, std::function<void(Outcome)> done) {
  auto refuse = [&done](int status, std::string code, std::string message) {
    done(Outcome{status, {}, {}, std::move(code), std::move(message)});
  };
  if (ingest_.stream_for_key(stream_key) != stream_id)
    return refuse(401, "unauthorized", "this stream's key is required (Authorization: Bearer STREAM_KEY)");
  const auto parsed = parse_offer(offer_sdp);
  if (const auto* reason = std::get_if<std::string>(&parsed)) return refuse(400, "bad_sdp", *reason);
  const IngestCodecs codecs = choose_ingest_codecs(std::get<SdpOffer>(parsed));
  if (!codecs.video && !codecs.audio)
    return refuse(400, "no_usable_codec", "the offer sends no H.264, VP8 or Opus track");

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
  if (!answer.accepted) return refuse(409, "refused", answer.description);
  session->pipeline = ingest_.make_pipeline(session->publish);
  Status st = session->pipeline->add_ts_input();
  if (st) st = session->pipeline->start();
  if (!st) {
    ingest_.unpublish(session->publish, "pipeline failed");
    return refuse(500, "internal", "cannot start the media pipeline: " + st.message());
  }

  // Events come on GStreamer's threads; media goes straight into the pipeline, the rest to
  // the loop. They hold the pipeline and session, never `Session*`.
  WhipPeerEvents events;
  events.ts = [pipeline = session->pipeline, publish = session->publish](const uint8_t* data, size_t size) {
    publish->bytes_received.fetch_add(size, std::memory_order_relaxed);
    publish->touch();
    pipeline->push_ts({reinterpret_cast<const char*>(data), size});
  };
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
      log::info("whip_session_answered").kv("stream", it->second->stream_id).kv("session", id);
      reply(Outcome{201, id, sdp, {}, {}});
    });
  };
  events.failed = [this, on_loop, id](const std::string& reason) {
    on_loop([this, id, reason] { finish(id, "negotiation failed: " + reason); });
  };
  events.disconnected = [this, on_loop, id] { on_loop([this, id] { finish(id, "ICE connection lost"); }); };

  session->done = std::move(done);
  std::string error;
  Session& s = *session;
  sessions_.emplace(id, std::move(session));
  s.peer = WhipPeer::start(offer_sdp, codecs, options_, std::move(events), error);
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
  s->publish->ended.store(true);
  if (s->pipeline) s->pipeline->flush(true);
  s->pipeline.reset();
  ingest_.unpublish(s->publish, reason);
  log::info("whip_session_ended").kv("stream", s->stream_id).kv("session", session_id).kv("reason", reason);
  if (s->done) s->done(Outcome{500, {}, {}, "negotiation_failed", "the WebRTC session could not be set up: " + reason});
}

}  // namespace harvest::media::webrtc

#include "media/rtmp/conn.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "media/rtmp/server.h"
#include "media/ingest/stream_pipeline.h"

namespace harvest::media::rtmp {
namespace {

constexpr uint32_t kControlCsid = 2;
constexpr uint32_t kCommandCsid = 3;
constexpr uint32_t kStatusCsid = 5;
constexpr uint32_t kPublishStreamId = 1;
constexpr uint32_t kOutChunkSize = 4096;
constexpr size_t kMaxPendingBytes = 8 * 1024 * 1024;
constexpr int64_t kDiscoveryWindowMs = 1500;

std::string strip_query(std::string s) {
  if (auto q = s.find('?'); q != std::string::npos) s.resize(q);
  while (!s.empty() && s.back() == '/') s.pop_back();
  while (!s.empty() && s.front() == '/') s.erase(0, 1);
  return s;
}

int codec_id_of(const Amf0Value* v, std::string_view avc_fourcc) {
  if (v == nullptr) return -1;
  if (v->is_number()) return static_cast<int>(v->as_number());
  if (v->is_string()) return v->as_string() == avc_fourcc ? (avc_fourcc == "avc1" ? 7 : 10) : 99;
  return -1;
}

}  // namespace

RtmpConn::RtmpConn(RtmpServer& server, int fd, uint64_t id, std::string address, std::string peer)
    : server_(server),
      fd_(fd),
      id_(id),
      address_(std::move(address)),
      peer_(std::move(peer)),
      parser_(server.options().pre_auth_limits) {
  opened_ms_ = last_read_ms_ = steady_ms();
}

RtmpConn::~RtmpConn() {
  if (!finished_) close("connection destroyed", false);
}

void RtmpConn::close(const std::string& reason, bool error) {
  if (finished_) return;
  finished_ = true;
  flush();
  server_.forget(fd_);
  ::close(fd_);
  auto line = error ? log::warn("rtmp_conn_closed") : log::info("rtmp_conn_closed");
  line.kv("conn", id_).kv("peer", peer_).kv("reason", reason).kv("bytes_in", bytes_in_);
  if (session_ && !session_->stream_id.empty()) line.kv("stream", session_->stream_id);
  end_publishing(reason);
}

void RtmpConn::end_publishing(const std::string& reason) {
  if (!session_) return;
  auto session = std::move(session_);
  session_.reset();
  session->ended.store(true);
  if (pipeline_) pipeline_->flush(true);  // batched media goes in before the end of stream
  pipeline_.reset();
  IngestManager* ingest = &server_.ingest();
  server_.loop().post([ingest, session, reason] { ingest->unpublish(session, reason); });
}

void RtmpConn::check_timeouts(int64_t now) {
  if (finished_) return;
  if (close_deadline_ms_ != 0 && now >= close_deadline_ms_) {
    close(close_reason_);
    return;
  }
  // A publisher that paused still gets its last frames out (all but the newest video frame, which
  // a timed hand-over keeps for a card cue: StreamPipeline::flush_locked).
  if (pipeline_) pipeline_->flush(false);
  const auto& opt = server_.options();
  if (state_ != State::publishing && now - opened_ms_ > opt.setup_timeout.count()) {
    close(state_ == State::handshake ? "handshake not completed in time (truncated or slow handshake)"
                                     : "no publish within the setup timeout (slow or idle client)");
  } else if (state_ == State::publishing && now - last_read_ms_ > opt.idle_timeout.count()) {
    close("no data from the publisher within the idle timeout");
  }
}

void RtmpConn::on_readable() {
  uint8_t buf[65536];
  // Bounded work per wakeup keeps one fast publisher from starving the others.
  for (int round = 0; round < 8 && !finished_; ++round) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) {
      close(state_ == State::handshake ? "peer closed during the handshake" : "peer closed the connection",
            state_ == State::handshake);
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      close(std::string("read failed: ") + std::strerror(errno));
      return;
    }
    last_read_ms_ = steady_ms();
    bytes_in_ += static_cast<uint64_t>(n);
    if (session_ && state_ == State::publishing) {
      session_->bytes_received.fetch_add(static_cast<uint64_t>(n));
      metrics().ingest_rtmp.bytes_in.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    }
    if (state_ == State::closing) continue;  // discard while a refusal drains
    on_bytes({buf, static_cast<size_t>(n)});
  }
  flush();
}

void RtmpConn::on_bytes(std::span<const uint8_t> bytes) {
  if (state_ == State::handshake) {
    std::string reply;
    const size_t used = handshake_.feed(bytes, reply);
    out_ += reply;
    if (handshake_.state() == ServerHandshake::State::failed) {
      close("garbage: " + std::string(handshake_.failure()));
      return;
    }
    if (handshake_.state() != ServerHandshake::State::done) return;
    state_ = State::connecting;
    bytes = bytes.subspan(used);
    if (bytes.empty()) return;
  }
  // Until a valid key, message by message: the `publish` that presents one lifts the parser's
  // limits (on_command) for the bytes after it, which may be in this same read.
  while (!bytes.empty()) {
    std::vector<RtmpMessage> messages;
    size_t used = bytes.size();
    const auto err = authenticated_ ? parser_.feed(bytes, messages) : parser_.feed_message(bytes, messages, used);
    bytes = bytes.subspan(used);
    for (auto& m : messages) {
      if (finished_ || state_ == State::closing) return;
      on_message(m);
    }
    if (finished_ || state_ == State::closing) return;
    if (err != ChunkParser::Error::none) {
      close("bad chunk stream: " + std::string(ChunkParser::describe(err)) +
            (authenticated_ ? "" : " (before a valid stream key)"));
      return;
    }
  }
  if (!finished_ && state_ == State::publishing && pipeline_) on_video_head();
  // Acknowledge what we received, as the peer's window asks.
  if (!finished_ && bytes_in_ - acked_ >= ack_window_) {
    acked_ = bytes_in_;
    send_control(kAcknowledgement, static_cast<uint32_t>(bytes_in_ & 0xffffffff));
  }
}

void RtmpConn::on_message(RtmpMessage& msg) {
  switch (msg.type) {
    case kSetChunkSize:
    case kAbort:
    case kAcknowledgement:
    case kSetPeerBandwidth:
      return;
    case kWindowAckSize:
      if (msg.payload.size() >= 4) {
        const auto* p = reinterpret_cast<const uint8_t*>(msg.payload.data());
        const uint32_t w = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
        if (w >= 4096) ack_window_ = w;
      }
      return;
    case kUserControl:
      if (msg.payload.size() >= 6 && msg.payload[0] == 0 && msg.payload[1] == 6) {
        // Ping request: answer with a ping response carrying the same timestamp.
        std::string body("\x00\x07", 2);
        body.append(msg.payload, 2, 4);
        write_message(out_, kControlCsid, kUserControl, 0, 0, body, out_chunk_size_);
      }
      return;
    case kCommandAmf0:
    case kCommandAmf3: {
      std::string_view body = msg.payload;
      if (msg.type == kCommandAmf3 && !body.empty()) body.remove_prefix(1);
      auto values = amf0_decode_all({reinterpret_cast<const uint8_t*>(body.data()), body.size()});
      if (!values || values->empty() || !(*values)[0].is_string()) {
        close("garbage: malformed AMF0 command");
        return;
      }
      on_command(*values);
      return;
    }
    case kDataAmf0:
    case kDataAmf3: {
      std::string_view body = msg.payload;
      if (msg.type == kDataAmf3 && !body.empty()) body.remove_prefix(1);
      auto values = amf0_decode_all({reinterpret_cast<const uint8_t*>(body.data()), body.size()});
      if (values) on_data(*values);
      return;
    }
    case kAudio:
    case kVideo:
      if (!authenticated_) {
        close("media before publish with a valid stream key");
        return;
      }
      if (state_ != State::publishing) {
        if (state_ == State::awaiting_answer) {
          // Media may follow publish before our answer arrives; keep it (bounded) for the pipeline.
          pending_bytes_ += msg.payload.size();
          if (pending_bytes_ > kMaxPendingBytes) close("too much media before the publish was accepted");
          else pending_.push_back(std::move(msg));
        }
        return;
      }
      on_media(msg);
      return;
    case kAggregate:
      close("aggregate messages are not supported");
      return;
    default:
      return;
  }
}

void RtmpConn::on_command(const std::vector<Amf0Value>& v) {
  const std::string& name = v[0].as_string();
  const double txn = v.size() > 1 ? v[1].as_number() : 0;
  if (name == "connect") {
    const Amf0Value* obj = v.size() > 2 ? &v[2] : nullptr;
    const Amf0Value* app = obj != nullptr ? obj->get("app") : nullptr;
    app_ = app != nullptr && app->is_string() ? strip_query(app->as_string()) : "";
    if (app_ != "live") {
      send_command(kCommandCsid, 0,
                   {Amf0Value::string("_error"), Amf0Value::number(txn), Amf0Value::null(),
                    Amf0Value::object({{"level", Amf0Value::string("error")},
                                       {"code", Amf0Value::string("NetConnection.Connect.Rejected")},
                                       {"description", Amf0Value::string("unknown application '" + app_ +
                                                                         "': publish to rtmp://HOST/live/KEY")}})});
      state_ = State::closing;
      close_reason_ = "connect refused: unknown application '" + app_ + "'";
      close_deadline_ms_ = steady_ms() + 1000;
      return;
    }
    send_control(kWindowAckSize, 2'500'000);
    send_control(kSetPeerBandwidth, 2'500'000, uint8_t{2});
    send_control(kSetChunkSize, kOutChunkSize);
    out_chunk_size_ = kOutChunkSize;
    send_command(kCommandCsid, 0,
                 {Amf0Value::string("_result"), Amf0Value::number(txn),
                  Amf0Value::object({{"fmsVer", Amf0Value::string("FMS/3,0,1,123")},
                                     {"capabilities", Amf0Value::number(31)}}),
                  Amf0Value::object({{"level", Amf0Value::string("status")},
                                     {"code", Amf0Value::string("NetConnection.Connect.Success")},
                                     {"description", Amf0Value::string("Connection succeeded.")},
                                     {"objectEncoding", Amf0Value::number(0)}})});
    state_ = State::connected;
  } else if (name == "createStream") {
    send_command(kCommandCsid, 0,
                 {Amf0Value::string("_result"), Amf0Value::number(txn), Amf0Value::null(),
                  Amf0Value::number(kPublishStreamId)});
  } else if (name == "publish") {
    if (state_ != State::connected) return;  // duplicate, or before connect
    const std::string key = v.size() > 3 && v[3].is_string() ? strip_query(v[3].as_string()) : "";
    state_ = State::awaiting_answer;
    // The key directory mirrors the registry; the loop still decides below. A key that opens a
    // stream lifts the pre-auth limits now, so media sent right after publish is not refused.
    if (!authenticated_ && !key.empty() && server_.ingest().stream_for_key(key)) {
      authenticated_ = true;
      parser_.set_limits(server_.options().limits);
      server_.on_authenticated(*this);
    }
    session_ = std::make_shared<PublishSession>();
    session_->protocol = "rtmp";
    session_->publisher = peer_;
    RtmpServer* server = &server_;
    const uint64_t id = id_;
    session_->kick = [server, id](const std::string& reason) {
      server->post([server, id, reason] { server->kick(id, reason); });
    };
    IngestManager* ingest = &server_.ingest();
    auto session = session_;
    server_.loop().post([ingest, server, id, session, key] {
      const IngestManager::Answer answer = ingest->publish(session, key);
      if (!answer.accepted) session->ended.store(true);
      server->post([server, id, answer, session] {
        if (RtmpConn* c = server->find(id)) c->on_publish_answer(answer);
        else if (answer.accepted) server->loop().post([server, session] {
          server->ingest().unpublish(session, "publisher gone before the answer");
        });
      });
    });
  } else if (name == "deleteStream" || name == "closeStream" || name == "FCUnpublish") {
    if (state_ == State::publishing) {
      end_publishing("publisher stopped (" + name + ")");
      state_ = State::connected;
      opened_ms_ = steady_ms();  // a new publish on this connection gets a fresh setup timeout
    }
  } else if (name == "play") {
    send_status("error", "NetStream.Play.Failed", "this server takes publishers only; watch over HLS");
    state_ = State::closing;
    close_reason_ = "play refused";
    close_deadline_ms_ = steady_ms() + 1000;
  } else if (txn > 0 && (name == "releaseStream" || name == "FCPublish" || name == "getStreamLength")) {
    send_command(kCommandCsid, 0, {Amf0Value::string("_result"), Amf0Value::number(txn), Amf0Value::null()});
  }
}

void RtmpConn::on_publish_answer(const IngestManager::Answer& answer) {
  if (finished_ || state_ != State::awaiting_answer) return;
  if (!answer.accepted) {
    session_.reset();
    pending_.clear();
    refuse_and_close(answer.code, answer.description);
    return;
  }
  state_ = State::publishing;
  last_read_ms_ = steady_ms();
  send_status("status", "NetStream.Publish.Start", answer.description);
  flush();
  auto held = std::move(pending_);
  pending_.clear();
  pending_bytes_ = 0;
  for (auto& m : held) {
    if (finished_ || state_ != State::publishing) break;
    on_media(m);
  }
}

void RtmpConn::refuse_and_close(const std::string& code, const std::string& description) {
  send_status("error", code, description);
  state_ = State::closing;
  close_reason_ = "publish refused: " + description;
  // Give the client a moment to read the status before the socket goes.
  close_deadline_ms_ = steady_ms() + 500;
  flush();
}

void RtmpConn::on_data(const std::vector<Amf0Value>& v) {
  if (v.empty() || !v[0].is_string()) return;
  size_t i = 0;
  if (v[0].as_string() == "@setDataFrame") i = 1;
  if (v.size() < i + 2 || !v[i].is_string() || v[i].as_string() != "onMetaData") return;
  const Amf0Value& meta = v[i + 1];
  if (!meta.is_object_like()) return;
  have_metadata_ = true;
  const int vcodec = codec_id_of(meta.get("videocodecid"), "avc1");
  const int acodec = codec_id_of(meta.get("audiocodecid"), "mp4a");
  meta_video_ = vcodec >= 0;
  meta_audio_ = acodec >= 0;
  nlohmann::json info;
  if (const auto* w = meta.get("width")) info["metadata_width"] = w->as_number();
  if (const auto* h = meta.get("height")) info["metadata_height"] = h->as_number();
  if (const auto* f = meta.get("framerate")) info["declared_fps"] = f->as_number();
  if (const auto* e = meta.get("encoder"); e != nullptr && e->is_string()) info["encoder"] = e->as_string();
  // Phone apps that send landscape-encoded video with an orientation put it here.
  for (const char* key : {"rotation", "rotate", "orientation"}) {
    if (const auto* r = meta.get(key); r != nullptr && (r->is_number() || r->is_string())) {
      const int deg = r->is_number() ? static_cast<int>(r->as_number()) : std::atoi(r->as_string().c_str());
      info["rotation"] = ((deg % 360) + 360) % 360;
    }
  }
  if (session_) session_->merge_info(info);
}

void RtmpConn::on_media(RtmpMessage& msg) {
  if (!session_) return;
  session_->touch();
  if (msg.type == kVideo) {
    auto tag = parse_video_tag(msg.payload);
    if (!tag) return;
    if (tag->codec != VideoCodec::h264) {
      const std::string what = tag->codec == VideoCodec::hevc
                                   ? "HEVC (H.265)" + std::string(tag->fourcc.empty() ? " over legacy RTMP (FLV codec id 12)"
                                                                                       : " (enhanced RTMP hvc1)")
                                   : std::string(codec_name(tag->codec)) + " (FLV codec id " +
                                         std::to_string(tag->codec_id) + ")";
      log::warn("publish_refused").kv("stream", session_->stream_id).kv("publisher", peer_).kv("reason", "unsupported_codec").kv("codec", what);
      count_ingest_refusal("rtmp", "unsupported_codec");
      refuse_and_close("NetStream.Publish.Failed", "unsupported video codec " + what + ": publish H.264 video");
      return;
    }
    if (tag->sequence_header) {
      const std::string config(tag->data);
      if (!looks_like_avc_config(config)) return;
      if (config != video_config_ && pipeline_) pipeline_->update_video_config(config);
      video_config_ = config;
    }
  } else {
    auto tag = parse_audio_tag(msg.payload);
    if (!tag) return;
    if (tag->codec != AudioCodec::aac) {
      const std::string what = std::string(codec_name(tag->codec)) + " (FLV sound format " +
                               std::to_string(tag->sound_format) + ")";
      log::warn("publish_refused").kv("stream", session_->stream_id).kv("publisher", peer_).kv("reason", "unsupported_codec").kv("codec", what);
      count_ingest_refusal("rtmp", "unsupported_codec");
      refuse_and_close("NetStream.Publish.Failed", "unsupported audio codec " + what + ": publish AAC audio");
      return;
    }
    if (tag->sequence_header && audio_config_.empty()) {
      if (auto cfg = parse_audio_specific_config(tag->data)) {
        aac_ = *cfg;
        audio_config_ = std::string(tag->data);
      }
    }
  }
  if (pipeline_ || pipeline_failed_) {
    if (pipeline_) push(msg);
    return;
  }
  pending_bytes_ += msg.payload.size();
  pending_.push_back(std::move(msg));
  if (tracks_ready()) {
    start_pipeline();
  } else if (pending_bytes_ > kMaxPendingBytes) {
    refuse_and_close("NetStream.Publish.Failed", "no H.264/AAC sequence header received");
  }
}

bool RtmpConn::tracks_ready() const {
  const bool have_v = !video_config_.empty(), have_a = !audio_config_.empty();
  if (!have_v && !have_a) return false;
  if (have_metadata_ && (meta_video_ || meta_audio_)) {
    if ((!meta_video_ || have_v) && (!meta_audio_ || have_a)) return true;
  } else if (have_v && have_a) {
    return true;
  }
  // A track the metadata promised (or that usually comes) is late: start with what we have.
  if (pending_.empty()) return false;
  const int64_t span = static_cast<int64_t>(pending_.back().timestamp) - static_cast<int64_t>(pending_.front().timestamp);
  return span >= kDiscoveryWindowMs || span < 0 || pending_.size() >= 400;
}

void RtmpConn::start_pipeline() {
  pipeline_ = server_.ingest().make_pipeline(session_);
  Status st;
  if (!video_config_.empty()) st = pipeline_->add_h264_input(video_config_);
  if (st && !audio_config_.empty()) st = pipeline_->add_aac_input(audio_config_, aac_.sample_rate, aac_.channels);
  if (st) st = pipeline_->start();
  if (st && prompt_) pipeline_->set_prompt(true);
  nlohmann::json info = {{"video_codec", video_config_.empty() ? nlohmann::json(nullptr) : nlohmann::json("h264")},
                         {"audio_codec", audio_config_.empty() ? nlohmann::json(nullptr) : nlohmann::json("aac")}};
  session_->merge_info(info);
  if (!st) {
    pipeline_failed_ = true;
    pipeline_.reset();
    session_->set_pipeline(nullptr);
    refuse_and_close("NetStream.Publish.Failed", "cannot start the media pipeline: " + st.message());
    return;
  }
  log::info("ingest_tracks")
      .kv("stream", session_->stream_id)
      .kv("video", !video_config_.empty())
      .kv("audio", !audio_config_.empty())
      .kv("audio_rate", aac_.sample_rate);
  auto held = std::move(pending_);
  pending_.clear();
  pending_bytes_ = 0;
  for (const auto& m : held) push(m);
}

void RtmpConn::push(const RtmpMessage& msg) {
  const int64_t ts_ns = unwrap_.unwrap(msg.timestamp) * 1'000'000;
  media_ms_ = std::max(media_ms_, ts_ns / 1'000'000);
  if (msg.type == kVideo) {
    if (!pipeline_->has_video()) return;  // a track that appeared after the pipeline started
    auto tag = parse_video_tag(msg.payload);
    if (!tag || tag->sequence_header || tag->end_of_sequence || tag->data.empty()) return;
    if (!got_keyframe_ && !tag->keyframe) return;  // a segment must start decodable
    got_keyframe_ = true;
    const int64_t dts = repair_.map(TimestampRepair::video, ts_ns);
    const int64_t pts = dts + std::max<int64_t>(tag->composition_ms, 0) * 1'000'000;
    session_->set_epoch_once(dts);
    if (tag->keyframe && announced_keyframe_ != msg.timestamp) {
      // Arrived whole: still cut here, before it crosses the pipeline.
      keyframe_arrived(ts_ns / 1'000'000);
      pipeline_->keyframe_coming(dts, pts);
    }
    if (tag->keyframe) announced_keyframe_.reset();
    pipeline_->push_video(tag->data, dts, pts, tag->keyframe);
  } else {
    if (!pipeline_->has_audio()) return;
    auto tag = parse_audio_tag(msg.payload);
    if (!tag || tag->sequence_header || tag->data.empty()) return;
    const int64_t pts = repair_.map(TimestampRepair::audio, ts_ns);
    session_->set_epoch_once(pts);
    pipeline_->push_audio(tag->data, pts);
  }
  session_->timestamp_repairs.store(repair_.repairs());
}

void RtmpConn::on_video_head() {
  const auto part = parser_.partial(kVideo, 5);
  if (!part || announced_keyframe_ == part->timestamp || !got_keyframe_ || !pipeline_->has_video()) return;
  // The 5-byte FLV VideoTagHeader is in. An AVC keyframe carrying NAL units (not a sequence
  // header or its end) is one push() will cut on.
  const auto tag = parse_video_tag(part->head);
  if (!tag || tag->codec_id != 7 || !tag->keyframe || tag->sequence_header || tag->end_of_sequence) return;
  announced_keyframe_ = part->timestamp;
  // The timestamps push() will give the whole message: the same mapping, on copies.
  TimestampUnwrapper unwrap = unwrap_;
  TimestampRepair repair = repair_;
  const int64_t media_ms = unwrap.unwrap(part->timestamp);
  media_ms_ = std::max(media_ms_, media_ms);
  keyframe_arrived(media_ms);
  const int64_t dts = repair.map(TimestampRepair::video, media_ms * 1'000'000);
  pipeline_->keyframe_coming(dts, dts + std::max<int64_t>(tag->composition_ms, 0) * 1'000'000);
}

void RtmpConn::keyframe_arrived(int64_t media_ms) {
  if (last_keyframe_ms_ >= 0 && media_ms > last_keyframe_ms_) keyframe_interval_ms_ = media_ms - last_keyframe_ms_;
  last_keyframe_ms_ = media_ms;
}

bool RtmpConn::wants_prompt_reads() const {
  // Keyframes closer together than this cut often anyway; prompt reads would cost a wake-up per
  // frame for most of the stream.
  constexpr int64_t kMinInterval = 250;
  if (state_ != State::publishing || !pipeline_ || last_keyframe_ms_ < 0) return false;
  // Until a second keyframe shows the interval, expect one a segment's length after the first:
  // that one ends the first segment, whose listing is the publish-to-playlist time.
  const int64_t interval = keyframe_interval_ms_ > 0 ? keyframe_interval_ms_
                                                      : static_cast<int64_t>(session_->segment_target_ns / 1'000'000);
  if (interval < kMinInterval) return false;
  // In media time, not wall time: publishers send faster than real time at times (ffmpeg's
  // initial burst, a phone catching up after a stall), and the keyframe comes with its media.
  const int64_t due = last_keyframe_ms_ + interval;
  const int64_t lead = std::min<int64_t>(100, interval / 4);
  // A keyframe that does not come within another interval: back to rounds until the next one.
  return media_ms_ >= due - lead && media_ms_ < due + interval;
}

void RtmpConn::set_prompt(bool on) {
  prompt_ = on;
  if (pipeline_) pipeline_->set_prompt(on);
}

void RtmpConn::send_control(uint8_t type, uint32_t value, std::optional<uint8_t> extra) {
  std::string body;
  for (int s = 24; s >= 0; s -= 8) body.push_back(static_cast<char>((value >> s) & 0xff));
  if (extra) body.push_back(static_cast<char>(*extra));
  write_message(out_, kControlCsid, type, 0, 0, body, out_chunk_size_);
}

void RtmpConn::send_command(uint32_t csid, uint32_t stream_id, const std::vector<Amf0Value>& values) {
  write_message(out_, csid, kCommandAmf0, stream_id, 0, amf0_encode_all(values), out_chunk_size_);
}

void RtmpConn::send_status(const std::string& level, const std::string& code, const std::string& description) {
  send_command(kStatusCsid, kPublishStreamId,
               {Amf0Value::string("onStatus"), Amf0Value::number(0), Amf0Value::null(),
                Amf0Value::object({{"level", Amf0Value::string(level)},
                                   {"code", Amf0Value::string(code)},
                                   {"description", Amf0Value::string(description)}})});
}

void RtmpConn::flush() {
  if (finished_ && fd_ < 0) return;
  while (out_pos_ < out_.size()) {
    const ssize_t n = ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL);
    if (n <= 0) break;
    out_pos_ += static_cast<size_t>(n);
  }
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  }
  if (finished_) return;
  const bool pending = out_pos_ < out_.size();
  if (pending != write_armed_) {
    write_armed_ = pending;
    server_.want_write(fd_, pending);
  }
  if (out_.size() - out_pos_ > server_.options().max_output_bytes) close("peer does not read our replies");
}

void RtmpConn::on_writable() { flush(); }

}  // namespace harvest::media::rtmp

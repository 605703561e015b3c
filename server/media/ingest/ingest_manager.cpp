#include "media/ingest/ingest_manager.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <utility>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"

namespace harvest::media {

namespace fs = std::filesystem;

IngestManager::IngestManager(EventLoop& loop, StreamRegistry& registry, IngestOptions options)
    : loop_(loop), registry_(registry), options_(std::move(options)) {
  {
    std::lock_guard lock(keys_->mutex);
    for (const StreamState* s : registry_.all()) keys_->stream_by_key[s->record.stream_key] = s->record.id;
  }
  registry_.add_listener([this, keys = keys_](const StreamState& s, StreamRegistry::Change change) {
    using Change = StreamRegistry::Change;
    if (change == Change::created || change == Change::key_rotated) {
      std::lock_guard lock(keys->mutex);
      std::erase_if(keys->stream_by_key, [&s](const auto& entry) { return entry.second == s.record.id; });
      keys->stream_by_key[s.record.stream_key] = s.record.id;
    }
    // A rotated key (perhaps leaked) or an ended show: whoever publishes now is cut off, and
    // only the new key (or nobody) may publish again.
    if (change == Change::key_rotated || change == Change::ended) {
      if (auto session = current_session(s.record.id); session && session->kick)
        session->kick(change == Change::ended ? "the show has ended" : "the stream key was changed");
    }
  });
  // Segments of a previous run are of no use: nobody has their playlist any more.
  std::error_code ec;
  if (!options_.shared_hls_root) fs::remove_all(options_.hls_root, ec);
  fs::create_directories(options_.hls_root, ec);
  arm_stats_timer();
}

IngestManager::~IngestManager() { shutdown(); }

std::optional<std::string> IngestManager::stream_for_key(const std::string& stream_key) const {
  std::lock_guard lock(keys_->mutex);
  auto it = keys_->stream_by_key.find(stream_key);
  if (it == keys_->stream_by_key.end()) return std::nullopt;
  return it->second;
}

bool IngestManager::has_healthy_publisher(const std::string& stream_id) const {
  std::shared_ptr<PublishSession> s;
  {
    std::lock_guard lock(keys_->mutex);
    auto it = keys_->publishing.find(stream_id);
    if (it == keys_->publishing.end()) return false;
    s = it->second.lock();
  }
  return s && !s->ended.load() && steady_ms() - s->last_data_steady_ms.load() < options_.stall_timeout.count();
}

void IngestManager::mirror_publishing(const std::string& stream_id, const std::shared_ptr<PublishSession>& session) {
  std::lock_guard lock(keys_->mutex);
  if (session) keys_->publishing[stream_id] = session;
  else keys_->publishing.erase(stream_id);
}

IngestManager::Answer IngestManager::publish(const std::shared_ptr<PublishSession>& session,
                                             const std::string& stream_key) {
  Answer answer;
  if (shut_down_) {
    answer.code = "NetStream.Publish.Failed";
    answer.description = "server is shutting down";
    return answer;
  }
  // Every refusal: RTMP's BadName with a sentence for the publisher, a warning naming the
  // reason (and `detail_key=detail` when given), and the refusal counted by reason.
  auto refuse = [&](const std::string& stream_id, const char* reason, const char* description,
                    const char* detail_key = nullptr, const std::string& detail = {}) {
    answer.code = "NetStream.Publish.BadName";
    answer.description = description;
    log::Line line = log::warn("publish_refused");
    if (!stream_id.empty()) line.kv("stream", stream_id);
    line.kv("protocol", session->protocol).kv("publisher", session->publisher).kv("reason", reason);
    if (detail_key != nullptr) line.kv(detail_key, detail);
    count_ingest_refusal(session->protocol, reason);
    return answer;
  };
  StreamState* stream = registry_.find_by_key(stream_key);
  if (stream == nullptr) return refuse({}, "bad_key", "stream key not recognised");
  if (stream->record.ended_at_ms != 0) return refuse(stream->record.id, "ended", "this show has ended");
  if (stream->live && !stream->ingest_node.empty()) {
    // Another node's ingest holds it (several nodes): one publisher per stream, on one node.
    // Once that node stops announcing it (its publisher gone past the grace period, or the
    // node dead), this node may take it.
    return refuse(stream->record.id, "other_node", "stream is being published on another node", "node",
                  stream->ingest_node);
  }
  const std::string& id = stream->record.id;
  StreamIngest& si = streams_[id];
  bool takeover = false;
  if (si.current && si.publishing) {
    const int64_t idle = steady_ms() - si.current->last_data_steady_ms.load();
    if (idle < options_.stall_timeout.count())
      return refuse(id, "busy", "stream is already being published", "current_publisher", si.current->publisher);
    takeover = true;
    log::warn("publisher_taken_over")
        .kv("stream", id)
        .kv("stalled_publisher", si.current->publisher)
        .kv("stalled_ms", idle)
        .kv("new_publisher", session->publisher);
    auto old = si.current;
    old->ended.store(true);
    if (old->kick) old->kick("taken over by a new publisher after a stall");
    finish(old);
  }
  if (si.grace_timer != 0) {
    loop_.cancel(si.grace_timer);
    si.grace_timer = 0;
  }
  const bool resumes = si.writer && si.current != nullptr;  // within grace, or a takeover
  if (!resumes) {
    si.writer = std::make_shared<hls::HlsWriter>(options_.hls_root + "/" + id, options_.hls);
    si.ll.reset();
    if (options_.ll != nullptr) {
      hls::LlHlsOptions llo = options_.ll_options;
      llo.segment_target_s = options_.hls.target_segment_s;
      llo.window_segments = options_.hls.window_segments;
      llo.linger_segments = options_.hls.linger_segments;
      si.ll = std::make_shared<hls::LlHlsStream>(options_.hls_root + "/" + id, llo);
      si.writer->mirror_to(si.ll);
      options_.ll->add(id, si.ll);
    }
    si.live_session = std::to_string(now_ms());
    // The whole live session is kept as a replay: the writer links every segment into it.
    if (options_.replays != nullptr)
      si.writer->record_to(options_.replays->start_recording(id, si.live_session, now_ms()));
  }
  si.new_live_session = !resumes;

  session->id = next_session_id_++;
  session->stream_id = id;
  session->segment_prefix = si.writer->segment_prefix(session->id);
  session->start_index = si.writer->next_sequence();
  session->segment_target_ns = static_cast<uint64_t>(options_.hls.target_segment_s * 1e9);
  session->ll = si.ll;
  session->touch();
  // The replaced session's last segments are dropped from now on (its listing is closed).
  if (si.current) si.current->listing.close();
  si.current = session;
  session->listing.open(si.writer);
  si.publishing = true;
  mirror_publishing(id, session);
  si.session_begun = false;
  si.last_end_ns = 0;
  si.last_bytes = 0;
  si.last_frames = 0;
  si.last_stats_ms = steady_ms();
  registry_.set_live(id, true);
  log::info("publish_started")
      .kv("stream", id)
      .kv("protocol", session->protocol)
      .kv("publisher", session->publisher)
      .kv("session", session->id)
      .kv("resumed", resumes)
      .kv("takeover", takeover);
  metrics().ingest(session->protocol).publishes.fetch_add(1, std::memory_order_relaxed);
  if (takeover) metrics().ingest(session->protocol).takeovers.fetch_add(1, std::memory_order_relaxed);
  answer.accepted = true;
  answer.code = "NetStream.Publish.Start";
  answer.description = "publishing " + id;
  return answer;
}

void IngestManager::unpublish(const std::shared_ptr<PublishSession>& session, const std::string& reason) {
  session->ended.store(true);
  if (session->stream_id.empty()) return;  // never accepted
  auto it = streams_.find(session->stream_id);
  if (it == streams_.end()) return;
  StreamIngest& si = it->second;
  finish(session);
  if (si.current != session || !si.publishing) return;  // replaced already
  si.publishing = false;
  mirror_publishing(session->stream_id, nullptr);
  log::info("publisher_left")
      .kv("stream", session->stream_id)
      .kv("session", session->id)
      .kv("reason", reason)
      .kv("grace_ms", static_cast<int64_t>(options_.grace.count()));
  const std::string stream_id = session->stream_id;
  const uint64_t session_id = session->id;
  si.grace_timer = loop_.run_after(options_.grace, [this, stream_id, session_id] { grace_expired(stream_id, session_id); });
  nlohmann::json stats = registry_.find(stream_id) != nullptr ? registry_.find(stream_id)->ingest : nlohmann::json::object();
  stats["publisher"] = nullptr;
  stats["waiting_for_publisher"] = true;
  stats["bitrate_bps"] = 0;
  stats["fps"] = 0;
  registry_.set_ingest_stats(stream_id, stats);
}

void IngestManager::grace_expired(const std::string& stream_id, uint64_t session_id) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return;
  StreamIngest& si = it->second;
  si.grace_timer = 0;
  if (!si.current || si.current->id != session_id || si.publishing) return;
  si.current->listing.close();  // nothing is listed after the ENDLIST below
  si.current.reset();
  if (observer_ != nullptr && si.writer && !si.live_session.empty()) {
    const int64_t end_pdt = si.writer->program_date_time_ms(si.last_end_ns).value_or(now_ms());
    observer_->on_live_session_ended(stream_id, si.live_session, si.last_end_ns, end_pdt);
  }
  si.live_session.clear();
  if (si.writer) si.writer->end_stream();
  registry_.set_live(stream_id, false);
  log::info("stream_offline").kv("stream", stream_id).kv("reason", "no publisher within the grace period");
}

std::shared_ptr<StreamPipeline> IngestManager::make_pipeline(const std::shared_ptr<PublishSession>& session) {
  StreamPipeline::Options po;
  po.name = "ingest-" + session->stream_id + "-" + std::to_string(session->id);
  po.segment_prefix = session->segment_prefix;
  po.start_index = session->start_index;
  po.segment_target_ns = session->segment_target_ns;
  std::weak_ptr<PublishSession> weak = session;
  auto pipeline = std::make_shared<StreamPipeline>(
      loop_, po, session,
      [this, weak](GstMessage* m) {
        if (auto s = weak.lock()) on_message(s, m);
      },
      [weak](const std::string& reason) {
        auto s = weak.lock();
        if (!s) return;
        log::warn("publish_refused").kv("stream", s->stream_id).kv("publisher", s->publisher).kv("reason", reason);
        count_ingest_refusal(s->protocol, "media_error");
        if (s->kick) s->kick(reason);
      },
      [this, weak, stream_id = session->stream_id, protocol = session->protocol](const std::string& path,
                                                                                 uint64_t start_ns, uint64_t end_ns) {
        // Listed here, on the thread that cut it: a hop to the loop first would add its wake-up.
        auto s = weak.lock();
        const bool listed = s && s->listing.list(path, start_ns, end_ns, session_wall_ms(*s, end_ns));
        s.reset();
        loop_.post([this, weak, stream_id, protocol, path, end_ns, listed] {
          if (listed) segment_listed(stream_id, protocol, weak.lock(), end_ns);
          else remove_file(path);  // a replaced session's last words, or the stream ended
        });
      });
  session->set_pipeline(pipeline);
  return pipeline;
}

void IngestManager::on_message(const std::shared_ptr<PublishSession>& session, GstMessage* message) {
  if (streams_.find(session->stream_id) == streams_.end()) return;
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_EOS:
      stop_pipeline(session);
      return;
    case GST_MESSAGE_ERROR: {
      GError* err = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_error(message, &err, &debug);
      log::error("pipeline_error")
          .kv("stream", session->stream_id)
          .kv("session", session->id)
          .kv("element", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)))
          .kv("error", err != nullptr ? err->message : "?")
          .kv("debug", debug != nullptr ? debug : "");
      if (err != nullptr) g_error_free(err);
      g_free(debug);
      if (session->kick) session->kick("media pipeline failed");
      stop_pipeline(session);
      return;
    }
    case GST_MESSAGE_WARNING: {
      GError* err = nullptr;
      gst_message_parse_warning(message, &err, nullptr);
      log_pipeline_warning(session->stream_id, GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), err != nullptr ? err->message : "?");
      if (err != nullptr) g_error_free(err);
      return;
    }
    case GST_MESSAGE_ELEMENT:
      if (observer_ != nullptr) observer_->on_element_message(session->stream_id, session, message);
      return;
    default:
      return;
  }
}

// The same warning from the same element is logged once a minute with how often it came. A
// sink dropping late frames ("A lot of buffers are being dropped") is the burned-in encoder
// falling behind now and then, which /metrics counts (harvest_burned_frames_dropped_total):
// info, not warn, so a healthy show's log stays quiet.
void IngestManager::log_pipeline_warning(const std::string& stream_id, const std::string& element,
                                         const std::string& text) {
  constexpr int64_t kRepeatMs = 60'000;
  uint64_t times = 1;
  if (auto it = streams_.find(stream_id); it != streams_.end()) {
    StreamIngest::WarningSeen& seen = it->second.warnings[element + "\n" + text];
    ++seen.since;
    const int64_t now = now_ms();
    if (seen.logged_ms != 0 && now - seen.logged_ms < kRepeatMs) return;
    seen.logged_ms = now;
    times = std::exchange(seen.since, 0);
  }
  const bool late_frames = text.find("buffers are being dropped") != std::string::npos;
  (late_frames ? log::info("pipeline_dropping_late_frames") : log::warn("pipeline_warning"))
      .kv("stream", stream_id)
      .kv("element", element)
      .kv("warning", text)
      .kv("times", times);
}

std::string IngestManager::live_session(const std::string& stream_id) const {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? std::string() : it->second.live_session;
}

int64_t IngestManager::session_wall_ms(const PublishSession& session, uint64_t end_ns) {
  // Running time 0 of the session is the wall time its first buffer arrived.
  const int64_t epoch = session.epoch_wall_ms.load();
  return epoch != 0 ? epoch : now_ms() - static_cast<int64_t>(end_ns / 1'000'000);
}

void IngestManager::segment_listed(const std::string& stream_id, const std::string& protocol,
                                   const std::shared_ptr<PublishSession>& session, uint64_t end_ns) {
  metrics().ingest(protocol).segments.fetch_add(1, std::memory_order_relaxed);
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return;
  StreamIngest& si = it->second;
  if (session && si.current == session && si.writer) {
    if (!si.session_begun) {
      // The listing began the session on the writer with its first segment.
      si.session_begun = true;
      const int64_t start_ms = si.writer->program_date_time_ms(0).value_or(now_ms());
      mark_orientation(si, *session, start_ms);
      if (observer_ != nullptr)
        observer_->on_session_media(session->stream_id, si.live_session, session, si.new_live_session);
    }
    si.last_end_ns = std::max(si.last_end_ns, end_ns);
  }
  if (si.writer) si.writer->settle();
}

void IngestManager::remove_file(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
}

void IngestManager::finish(const std::shared_ptr<PublishSession>& session) {
  auto pipeline = session->pipeline();
  if (!pipeline) return;
  pipeline->end_of_stream();  // the last segment is closed and reported before EOS arrives
  std::weak_ptr<PublishSession> weak = session;
  loop_.run_after(options_.drain_timeout, [this, weak] {
    if (auto s = weak.lock()) stop_pipeline(s);
  });
}

namespace {
// The picture as shown: rotation (onMetaData) applied to the coded size.
void add_orientation(nlohmann::json& stats) {
  const int rotation = stats.value("rotation", 0);
  const int w = stats.value("width", 0), h = stats.value("height", 0);
  if (w <= 0 || h <= 0) return;
  const bool swap = rotation == 90 || rotation == 270;
  stats["display_width"] = swap ? h : w;
  stats["display_height"] = swap ? w : h;
  stats["orientation"] = (swap ? w > h : h > w) ? "portrait" : (w == h ? "square" : "landscape");
}
}  // namespace

void IngestManager::mark_orientation(StreamIngest& si, const PublishSession& session, int64_t start_ms) {
  // A passthrough rendition cannot turn its pixels and MPEG-TS has no rotation flag, so a
  // publisher's rotation reaches players as a DATERANGE from the session's first segment on
  // (hls.js exposes date ranges; our player rotates the video with CSS). Rotation 0 needs none.
  if (!si.orientation_range.empty()) {
    si.writer->end_date_range(si.orientation_range, start_ms);
    si.orientation_range.clear();
  }
  nlohmann::json facts = session.info();
  const int rotation = facts.value("rotation", 0);
  if (rotation == 0) return;
  add_orientation(facts);
  hls::DateRange range;
  range.id = "orientation-" + std::to_string(session.id);
  range.cls = "com.harvestlive.orientation";
  range.start_ms = start_ms;
  range.attributes = {{"rotation", std::to_string(rotation)}};
  if (facts.contains("orientation")) range.attributes.emplace_back("orientation", facts["orientation"].get<std::string>());
  si.writer->add_date_range(std::move(range));
  si.orientation_range = "orientation-" + std::to_string(session.id);
}

void IngestManager::stop_pipeline(const std::shared_ptr<PublishSession>& session) {
  auto pipeline = session->pipeline();
  if (!pipeline) return;
  pipeline->stop();
  if (session->ended.load()) session->set_pipeline(nullptr);
}

void IngestManager::arm_stats_timer() {
  stats_timer_ = loop_.run_after(options_.stats_interval, [this] {
    stats_timer_ = 0;
    if (shut_down_) return;
    publish_stats();
    arm_stats_timer();
  });
}

void IngestManager::publish_stats() {
  const int64_t now = steady_ms();
  for (auto& [id, si] : streams_) {
    if (!si.current || !si.publishing) continue;
    PublishSession& s = *si.current;
    const uint64_t bytes = s.bytes_received.load();
    const uint64_t frames = s.video_frames.load();
    const double dt = static_cast<double>(std::max<int64_t>(now - si.last_stats_ms, 1)) / 1000.0;
    nlohmann::json stats = s.info();
    stats["protocol"] = s.protocol;
    stats["publisher"] = s.publisher;
    stats["bytes_received"] = bytes;
    stats["bitrate_bps"] = static_cast<int64_t>(static_cast<double>(bytes - si.last_bytes) * 8.0 / dt);
    stats["fps"] = std::round(static_cast<double>(frames - si.last_frames) / dt * 10.0) / 10.0;
    stats["timestamp_repairs"] = s.timestamp_repairs.load();
    stats["idle_ms"] = now - s.last_data_steady_ms.load();
    stats["session"] = s.id;
    if (!stats.contains("rotation")) stats["rotation"] = 0;
    add_orientation(stats);
    if (!stats.contains("video_codec")) stats["video_codec"] = nullptr;
    if (!stats.contains("audio_codec")) stats["audio_codec"] = nullptr;
    si.last_bytes = bytes;
    si.last_frames = frames;
    si.last_stats_ms = now;
    if (observer_ != nullptr) observer_->add_ingest_stats(id, stats);
    registry_.set_ingest_stats(id, std::move(stats));
  }
}

hls::HlsWriter* IngestManager::hls_writer(const std::string& stream_id) {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.writer.get();
}

std::shared_ptr<PublishSession> IngestManager::current_session(const std::string& stream_id) const {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.current;
}

void IngestManager::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (stats_timer_ != 0) loop_.cancel(stats_timer_);
  for (auto& [id, si] : streams_) {
    if (si.grace_timer != 0) loop_.cancel(si.grace_timer);
    if (si.current) {
      si.current->listing.close();
      si.current->ended.store(true);
      if (auto p = si.current->pipeline()) p->stop();
      si.current->set_pipeline(nullptr);
    }
    if (si.writer) si.writer->remove_files();
    if (si.ll && options_.ll != nullptr) options_.ll->remove(id);
  }
  streams_.clear();
  std::error_code ec;
  if (!options_.shared_hls_root) fs::remove_all(options_.hls_root, ec);
}

}  // namespace harvest::media

#include "media/restream/restream.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "core/log.h"
#include "core/stream_registry.h"
#include "media/gst/gst_build.h"
#include "media/ingest/stream_pipeline.h"

namespace harvest::media {

// ---------------------------------------------------------------------------------------------
// URLs

namespace {

constexpr size_t kMaxUrlBytes = 1024;

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    const char c = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
    if (c != prefix[i]) return false;
  }
  return true;
}

size_t scheme_length(std::string_view url) {
  if (starts_with_nocase(url, "rtmp://")) return 7;
  if (starts_with_nocase(url, "rtmps://")) return 8;
  return 0;
}

}  // namespace

std::string restream_url_problem(std::string_view url) {
  if (url.empty()) return "'url' is required";
  if (url.size() > kMaxUrlBytes) return "'url' is longer than 1024 bytes";
  for (char c : url) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f)
      return "'url' must not contain whitespace, control or non-ASCII characters";
  }
  const size_t scheme = scheme_length(url);
  if (scheme == 0) return "'url' must start with rtmp:// or rtmps://";
  const std::string_view rest = url.substr(scheme);
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return "'url' needs a path: rtmp://host[:port]/app/stream-key";
  std::string_view authority = rest.substr(0, slash);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos)
    authority = authority.substr(at + 1);
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return "'url' has a bad IPv6 host";
    host = authority.substr(0, close + 1);
    authority = authority.substr(close + 1);
    if (!authority.empty() && authority.front() != ':') return "'url' has a bad IPv6 host";
  } else if (const size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    authority = authority.substr(colon);
  } else {
    authority = {};
  }
  if (host.empty() || host == "[]") return "'url' has no host";
  if (!authority.empty()) {  // ":port"
    const std::string_view port = authority.substr(1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return "'url' has a bad port";
    const int p = std::stoi(std::string(port));
    if (p < 1 || p > 65535) return "'url' has a bad port";
  }
  const std::string_view path = rest.substr(slash + 1).substr(0, rest.substr(slash + 1).find('?'));
  const size_t last = path.rfind('/');
  if (last == std::string_view::npos || last == 0 || last + 1 == path.size())
    return "'url' needs an application and a stream key: rtmp://host[:port]/app/stream-key";
  return {};
}

std::string mask_restream_url(std::string_view url) {
  const size_t scheme = scheme_length(url);
  std::string out(url.substr(0, scheme));
  std::string_view rest = url.substr(scheme);
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    out += "****@";
    authority = authority.substr(at + 1);
  }
  out += authority;
  if (slash == std::string_view::npos) return out;
  const std::string_view path = rest.substr(slash);  // "/app/key?query"
  const size_t last = path.substr(0, path.find('?')).rfind('/');
  if (last == 0) {  // no stream key part: "/app"; a query could still carry a secret
    out += path.substr(0, path.find('?'));
    return out;
  }
  out += path.substr(0, last + 1);
  out += "****";
  return out;
}

std::chrono::milliseconds restream_backoff(int failures) {
  const int exponent = std::clamp(failures - 1, 0, 5);  // 2^5 s = 32 s > the cap
  return std::min(std::chrono::milliseconds(1000LL << exponent), std::chrono::milliseconds(30'000));
}

// ---------------------------------------------------------------------------------------------
// The taps' side: ingest streaming threads push into the current attempt's appsrcs.

struct Restream::Feed {
  std::mutex mutex;
  GstElement* video_src = nullptr;  // owned references; nullptr: no attempt is pushing
  GstElement* audio_src = nullptr;
  GstCaps* video_caps = nullptr;  // caps last set on the appsrcs
  GstCaps* audio_caps = nullptr;
  bool need_keyframe = true;
  bool have_base = false;
  GstClockTime base = 0;  // running time of the attempt's first keyframe -> timestamp 0
  static constexpr GstClockTime kMaxQueued = 3 * GST_SECOND;
  std::atomic<uint64_t> frames_sent{0};     // video frames handed to the attempts
  std::atomic<uint64_t> frames_dropped{0};  // video frames dropped for a slow remote

  // Attempt starts: the next keyframe opens it. Takes the references.
  void begin(GstElement* video, GstElement* audio) {
    std::lock_guard lock(mutex);
    clear_locked();
    video_src = video;
    audio_src = audio;
  }
  void end() {
    std::lock_guard lock(mutex);
    clear_locked();
  }
  ~Feed() { clear_locked(); }

  // The ingest pipeline hands media over in buffer lists (see StreamPipeline::kBatchMs).
  void push(GstSample* sample, bool video) {
    if (GstBufferList* list = gst_sample_get_buffer_list(sample)) {
      for (guint i = 0; i < gst_buffer_list_length(list); ++i)
        push(sample, gst_buffer_list_get(list, i), video);
    } else if (GstBuffer* buffer = gst_sample_get_buffer(sample)) {
      push(sample, buffer, video);
    }
  }

  void push(GstSample* sample, GstBuffer* buffer, bool video) {
    std::lock_guard lock(mutex);
    GstElement* src = video ? video_src : audio_src;
    if (src == nullptr) return;
    // Running time: x264enc shifts its timestamps (and segment) by 1000 h to keep DTS positive,
    // so raw video and audio timestamps are not comparable; running times are.
    const GstSegment* segment = gst_sample_get_segment(sample);
    auto running = [segment](GstClockTime t) {
      if (!GST_CLOCK_TIME_IS_VALID(t) || segment == nullptr || segment->format != GST_FORMAT_TIME) return t;
      return gst_segment_to_running_time(segment, GST_FORMAT_TIME, t);
    };
    const GstClockTime pts = running(GST_BUFFER_PTS(buffer));
    const GstClockTime dts = running(GST_BUFFER_DTS(buffer));
    const GstClockTime ts = GST_CLOCK_TIME_IS_VALID(dts) ? dts : pts;
    if (!GST_CLOCK_TIME_IS_VALID(ts)) return;
    // A remote slower than the show (or still connecting): at most kMaxQueued waits; beyond it
    // everything is dropped, and video resumes at a keyframe rather than frame by frame (a
    // decoder would show garbage until then anyway).
    if (gst_app_src_get_current_level_time(GST_APP_SRC(src)) > kMaxQueued) {
      if (video) {
        need_keyframe = true;
        frames_dropped.fetch_add(1);
      }
      return;
    }
    if (video) {
      const bool key = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
      if (need_keyframe && !key) {
        if (have_base) frames_dropped.fetch_add(1);
        return;
      }
      if (need_keyframe && !have_base) {
        base = ts;
        have_base = true;
      }
      need_keyframe = false;
    } else if (!have_base) {
      return;
    }
    if (ts < base) return;
    GstCaps*& last = video ? video_caps : audio_caps;
    GstCaps* caps = gst_sample_get_caps(sample);
    if (caps != nullptr && (last == nullptr || !gst_caps_is_equal(caps, last))) {
      gst_caps_replace(&last, caps);
      gst_app_src_set_caps(GST_APP_SRC(src), caps);
    }
    GstBuffer* out = gst_buffer_copy(buffer);  // shares the memory; new timestamps
    GST_BUFFER_PTS(out) = GST_CLOCK_TIME_IS_VALID(pts) ? (pts >= base ? pts - base : 0) : GST_CLOCK_TIME_NONE;
    GST_BUFFER_DTS(out) = GST_CLOCK_TIME_IS_VALID(dts) ? (dts >= base ? dts - base : 0) : GST_CLOCK_TIME_NONE;
    if (gst_app_src_push_buffer(GST_APP_SRC(src), out) == GST_FLOW_OK && video) frames_sent.fetch_add(1);
  }

 private:
  void clear_locked() {
    if (video_src != nullptr) gst_object_unref(video_src);
    if (audio_src != nullptr) gst_object_unref(audio_src);
    video_src = audio_src = nullptr;
    gst_caps_replace(&video_caps, nullptr);
    gst_caps_replace(&audio_caps, nullptr);
    need_keyframe = true;
    have_base = false;
    base = 0;
  }
};

namespace {

struct TapContext {
  std::shared_ptr<void> feed;  // keeps the Feed alive as long as the appsink may call
  bool video;
};

}  // namespace

const char* Restream::state_name(State s) {
  switch (s) {
    case State::idle:
      return "idle";
    case State::connecting:
      return "connecting";
    case State::live:
      return "live";
    case State::retrying:
      return "retrying";
    case State::error:
      return "error";
  }
  return "?";
}

Restream::Restream(EventLoop& loop, std::string stream_id)
    : loop_(loop), stream_id_(std::move(stream_id)), feed_(std::make_shared<Feed>()) {}

Restream::~Restream() {
  stop_attempt();
  if (retry_timer_ != 0) loop_.cancel(retry_timer_);
}

void Restream::set_url(std::string url) {
  if (url == url_) {
    // The same target again: a nudge to try now rather than at the end of the backoff.
    if ((state_ == State::retrying || state_ == State::error) && !url_.empty() && !source_.expired())
      start_attempt();
    return;
  }
  stop_attempt();
  if (retry_timer_ != 0) loop_.cancel(retry_timer_);
  retry_timer_ = 0;
  url_ = std::move(url);
  attempts_ = 0;
  failures_ = 0;
  last_error_.clear();
  bytes_sent_ = 0;
  feed_->frames_sent.store(0);
  feed_->frames_dropped.store(0);
  state_ = State::idle;
  if (!url_.empty() && !source_.expired()) start_attempt();
}

void Restream::attach_source(const std::shared_ptr<StreamPipeline>& pipeline, GstElement* video_tee,
                             GstElement* audio_tee) {
  detach_source();
  source_ = pipeline;
  video_tee_ = video_tee;
  audio_tee_ = audio_tee;
  tapped_ = false;
  failures_ = 0;
  if (!url_.empty()) start_attempt();
}

void Restream::detach_source() {
  stop_attempt();
  if (retry_timer_ != 0) loop_.cancel(retry_timer_);
  retry_timer_ = 0;
  source_.reset();
  video_tee_ = audio_tee_ = nullptr;
  tapped_ = false;
  if (state_ != State::error) state_ = State::idle;
}

bool Restream::link_taps(std::string& error) {
  if (tapped_) return true;
  auto pipeline = source_.lock();
  if (!pipeline || pipeline->pipeline() == nullptr || video_tee_ == nullptr) {
    error = "no burned-in video to restream";
    return false;
  }
  GstElement* bin = pipeline->pipeline();
  for (GstElement* tee : {video_tee_, audio_tee_}) {
    if (tee == nullptr) continue;
    const bool video = tee == video_tee_;
    GstElement* queue = add_element(bin, "queue", nullptr, error);
    GstElement* sink = add_element(bin, "appsink", nullptr, error);
    if (queue == nullptr || sink == nullptr) return false;
    // Leaky: nothing the restream does can block the tee (and so the burned-in HLS).
    g_object_set(queue, "leaky", 2, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time",
                 guint64{2'000'000'000}, nullptr);
    g_object_set(sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, "emit-signals", FALSE,
                 nullptr);
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = [](GstAppSink* s, gpointer data) -> GstFlowReturn {
      auto* ctx = static_cast<TapContext*>(data);
      GstSample* sample = gst_app_sink_pull_sample(s);
      if (sample == nullptr) return GST_FLOW_EOS;
      static_cast<Feed*>(ctx->feed.get())->push(sample, ctx->video);
      gst_sample_unref(sample);
      return GST_FLOW_OK;
    };
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, new TapContext{feed_, video},
                               [](gpointer data) { delete static_cast<TapContext*>(data); });
    if (!gst_element_link(queue, sink)) {
      error = "cannot link the restream tap";
      return false;
    }
    gst_element_sync_state_with_parent(sink);
    gst_element_sync_state_with_parent(queue);
    if (!link_pads(gst_element_request_pad_simple(tee, "src_%u"), gst_element_get_static_pad(queue, "sink"))) {
      error = "cannot link the restream tap to the tee";
      return false;
    }
  }
  tapped_ = true;
  return true;
}

void Restream::start_attempt() {
  stop_attempt();
  if (retry_timer_ != 0) loop_.cancel(retry_timer_);
  retry_timer_ = 0;
  ++attempts_;
  std::string error;
  if (!link_taps(error)) {
    state_ = State::error;
    last_error_ = error;
    log::error("restream_failed").kv("stream", stream_id_).kv("reason", error);
    return;
  }
  push_ = gst_pipeline_new(("restream-" + stream_id_).c_str());
  GstElement* vsrc = add_element(push_, "appsrc", nullptr, error);
  GstElement* vparse = add_element(push_, "h264parse", nullptr, error);
  GstElement* mux = add_element(push_, "flvmux", nullptr, error);
  GstElement* sink = add_element(push_, "rtmp2sink", nullptr, error);
  GstElement* asrc = audio_tee_ != nullptr ? add_element(push_, "appsrc", nullptr, error) : nullptr;
  GstElement* aparse = audio_tee_ != nullptr ? add_element(push_, "aacparse", nullptr, error) : nullptr;
  if (!error.empty()) {
    gst_object_unref(push_);
    push_ = nullptr;
    state_ = State::error;
    last_error_ = error;
    log::error("restream_failed").kv("stream", stream_id_).kv("reason", error);
    return;
  }
  for (GstElement* src : {vsrc, asrc}) {
    if (src == nullptr) continue;
    // Not live: flvmux then interleaves by timestamp, waiting for both tracks, never for a clock.
    g_object_set(src, "format", GST_FORMAT_TIME, "is-live", FALSE, "block", FALSE, "max-bytes", guint64{0},
                 "max-buffers", guint64{0}, "max-time", guint64{0}, nullptr);
  }
  g_object_set(mux, "streamable", TRUE, nullptr);
  g_object_set(sink, "location", url_.c_str(), "sync", FALSE, "async", FALSE, nullptr);
  bool linked = gst_element_link_many(vsrc, vparse, mux, sink, nullptr);
  if (asrc != nullptr) linked = linked && gst_element_link_many(asrc, aparse, mux, nullptr);
  if (!linked) {
    gst_object_unref(push_);
    push_ = nullptr;
    state_ = State::error;
    last_error_ = "cannot link the restream pipeline";
    log::error("restream_failed").kv("stream", stream_id_).kv("reason", last_error_);
    return;
  }
  rtmp_sink_ = sink;
  sink_buffers_ = std::make_shared<std::atomic<uint64_t>>(0);
  GstPad* sinkpad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(
      sinkpad, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo*, gpointer counter) {
        static_cast<std::shared_ptr<std::atomic<uint64_t>>*>(counter)->get()->fetch_add(1);
        return GST_PAD_PROBE_OK;
      },
      new std::shared_ptr<std::atomic<uint64_t>>(sink_buffers_),
      [](gpointer p) { delete static_cast<std::shared_ptr<std::atomic<uint64_t>>*>(p); });
  gst_object_unref(sinkpad);
  GstBus* bus = gst_pipeline_get_bus(GST_PIPELINE(push_));
  bridge_ = std::make_unique<GstBusBridge>(loop_, bus, [this](GstMessage* m) { on_bus(m); });
  gst_object_unref(bus);
  attempt_bytes_ = 0;
  state_ = State::connecting;
  log::info("restream_connecting")
      .kv("stream", stream_id_)
      .kv("url", mask_restream_url(url_))
      .kv("attempt", attempts_);
  if (gst_element_set_state(push_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    fail("cannot start the restream pipeline");
    return;
  }
  feed_->begin(GST_ELEMENT(gst_object_ref(vsrc)),
               asrc != nullptr ? GST_ELEMENT(gst_object_ref(asrc)) : nullptr);
  poll_timer_ = loop_.run_after(std::chrono::milliseconds(250), [this] {
    poll_timer_ = 0;
    poll();
  });
}

void Restream::stop_attempt() {
  if (poll_timer_ != 0) loop_.cancel(poll_timer_);
  poll_timer_ = 0;
  feed_->end();     // the taps drop from now on
  bridge_.reset();  // messages of this attempt still queued are dropped
  if (push_ != nullptr) {
    if (rtmp_sink_ != nullptr) {  // the bytes of this attempt
      GstStructure* stats = nullptr;
      g_object_get(rtmp_sink_, "stats", &stats, nullptr);
      guint64 out = 0;
      if (stats != nullptr && gst_structure_get_uint64(stats, "out-bytes-total", &out) &&
          out > attempt_bytes_)
        bytes_sent_ += out - attempt_bytes_;
      if (stats != nullptr) gst_structure_free(stats);
    }
    gst_element_set_state(push_, GST_STATE_NULL);
    gst_object_unref(push_);
  }
  push_ = nullptr;
  rtmp_sink_ = nullptr;
  sink_buffers_.reset();
}

void Restream::fail(const std::string& reason) {
  const bool was_live_long = state_ == State::live && now_ms() - live_since_ms_ >= 10'000;
  stop_attempt();
  last_error_ = reason;
  // A remote that held for a while starts the backoff over; one that fails at once climbs it.
  failures_ = was_live_long ? 1 : failures_ + 1;
  const auto delay = restream_backoff(failures_);
  state_ = State::retrying;
  retry_at_ms_ = now_ms() + delay.count();
  log::warn("restream_retrying")
      .kv("stream", stream_id_)
      .kv("url", mask_restream_url(url_))
      .kv("reason", reason)
      .kv("attempts", attempts_)
      .kv("retry_in_ms", static_cast<int64_t>(delay.count()));
  retry_timer_ = loop_.run_after(delay, [this] {
    retry_timer_ = 0;
    if (!url_.empty() && !source_.expired()) start_attempt();
  });
}

void Restream::on_bus(GstMessage* message) {
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR: {
      GError* err = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_error(message, &err, &debug);
      std::string reason = err != nullptr ? err->message : "restream failed";
      log::warn("restream_error")
          .kv("stream", stream_id_)
          .kv("element", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)))
          .kv("error", reason)
          .kv("debug", debug != nullptr ? debug : "");
      if (err != nullptr) g_error_free(err);
      g_free(debug);
      fail(reason);
      return;
    }
    case GST_MESSAGE_EOS:
      fail("the restream ended");
      return;
    default:
      return;
  }
}

void Restream::poll() {
  if (push_ == nullptr || rtmp_sink_ == nullptr) return;
  GstStructure* stats = nullptr;
  g_object_get(rtmp_sink_, "stats", &stats, nullptr);
  guint64 out = 0;
  if (stats != nullptr) {
    gst_structure_get_uint64(stats, "out-bytes-total", &out);
    gst_structure_free(stats);
  }
  if (out > attempt_bytes_) {
    bytes_sent_ += out - attempt_bytes_;
    attempt_bytes_ = out;
  }
  // Live once rtmp2sink rendered a buffer (the one after it is in its chain) and bytes left:
  // render waits for the publish to be accepted, and fails (an ERROR) if it is not.
  if (state_ == State::connecting && sink_buffers_ && sink_buffers_->load() >= 2 && out > 0) {
    state_ = State::live;
    live_since_ms_ = now_ms();
    log::info("restream_live")
        .kv("stream", stream_id_)
        .kv("url", mask_restream_url(url_))
        .kv("attempt", attempts_);
  }
  poll_timer_ = loop_.run_after(std::chrono::milliseconds(state_ == State::live ? 1000 : 250), [this] {
    poll_timer_ = 0;
    poll();
  });
}

nlohmann::json Restream::status() const {
  nlohmann::json out = {
      {"url", mask_restream_url(url_)},
      {"state", state_name(state_)},
      {"attempts", attempts_},
      {"last_error", last_error_.empty() ? nlohmann::json(nullptr) : nlohmann::json(last_error_)},
      {"bytes_sent", bytes_sent_},
      {"frames_sent", feed_->frames_sent.load()},
      {"frames_dropped", feed_->frames_dropped.load()}};
  if (state_ == State::retrying) out["retry_in_ms"] = std::max<int64_t>(0, retry_at_ms_ - now_ms());
  return out;
}

}  // namespace harvest::media

// A little over 600 lines because the three ingest shapes (RTMP's appsrc pair, SRT's MPEG-TS,
// and their shared tee/appsink/muxer tail) are built and torn down together; keeping them in one
// place keeps the element names that the burned-in branch and the taps look up in one place too.
#include "media/ingest/stream_pipeline.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <cmath>
#include <cstring>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/stream_registry.h"
#include "livecommerce.h"
#include "media/ingest/adts.h"
#include "media/ingest/annexb.h"
#include "media/ingest/h264_sps.h"
#include "media/ingest/publish_session.h"

namespace harvest::media {
namespace {

GstBuffer* buffer_from(std::string_view bytes) {
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, bytes.size(), nullptr);
  if (buf != nullptr && !bytes.empty()) gst_buffer_fill(buf, 0, bytes.data(), bytes.size());
  return buf;
}

void configure_appsrc(GstElement* src, GstCaps* caps, GstFormat format) {
  // Not live: the muxer waits for every track instead of racing the clock; timestamps are
  // the publisher's (repaired), so nothing here depends on when buffers arrive.
  g_object_set(src, "format", format, "is-live", FALSE, "max-bytes", guint64{16} * 1024 * 1024, "block", FALSE,
               nullptr);
  // Beyond max-bytes (downstream stuck) new buffers are dropped instead of growing the queue.
  gst_util_set_object_arg(G_OBJECT(src), "leaky-type", "upstream");
  if (caps != nullptr) {
    gst_app_src_set_caps(GST_APP_SRC(src), caps);
    gst_caps_unref(caps);
  }
}

struct CapsFacts {
  std::weak_ptr<PublishSession> session;
  bool video;
};

GstPadProbeReturn facts_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* facts = static_cast<CapsFacts*>(data);
  auto session = facts->session.lock();
  if (!session) return GST_PAD_PROBE_OK;
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
  GstCaps* caps = nullptr;
  gst_event_parse_caps(event, &caps);
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  nlohmann::json fields;
  if (facts->video) {
    int width = 0, height = 0, num = 0, den = 1;
    if (gst_structure_get_int(s, "width", &width)) fields["width"] = width;
    if (gst_structure_get_int(s, "height", &height)) fields["height"] = height;
    if (gst_structure_get_fraction(s, "framerate", &num, &den) && num > 0 && den > 0)
      fields["declared_fps"] = static_cast<double>(num) / den;
    if (const char* profile = gst_structure_get_string(s, "profile")) fields["video_profile"] = profile;
    fields["video_codec"] = "h264";
  } else {
    int rate = 0, channels = 0;
    if (gst_structure_get_int(s, "rate", &rate)) fields["audio_rate"] = rate;
    if (gst_structure_get_int(s, "channels", &channels)) fields["audio_channels"] = channels;
    fields["audio_codec"] = "aac";
  }
  session->merge_info(fields);
  return GST_PAD_PROBE_OK;
}

void add_facts_probe(GstPad* pad, std::weak_ptr<PublishSession> session, bool video) {
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, facts_probe, new CapsFacts{std::move(session), video},
                    [](gpointer d) { delete static_cast<CapsFacts*>(d); });
}

}  // namespace

StreamPipeline::StreamPipeline(EventLoop& loop, Options options, std::shared_ptr<PublishSession> session,
                               MessageHandler on_message, FatalHandler on_fatal, SegmentHandler on_segment)
    : loop_(loop), options_(std::move(options)), session_(session), on_fatal_(std::move(on_fatal)) {
  harvest_livecommerce_register();  // productcue; idempotent
  pipeline_ = gst_pipeline_new(options_.name.c_str());
  gst_object_ref_sink(pipeline_);
  built_ = true;
  muxer_ = std::make_unique<hls::TsMuxer>(false, false);
  hls::TsSegmenter::Options so;
  so.path_prefix = options_.segment_prefix;
  so.start_index = options_.start_index;
  so.target_ns = options_.segment_target_ns;
  segmenter_ = std::make_unique<hls::TsSegmenter>(std::move(so), std::move(on_segment));
  GstBus* bus = gst_pipeline_get_bus(GST_PIPELINE(pipeline_));
  bridge_ = std::make_unique<GstBusBridge>(loop_, bus, std::move(on_message));
  gst_object_unref(bus);
}

StreamPipeline::~StreamPipeline() {
  stop();
  for (GstBufferList* l : {video_batch_, audio_batch_})
    if (l != nullptr) gst_buffer_list_unref(l);
  for (GstCaps* c : {video_caps_, audio_caps_})
    if (c != nullptr) gst_caps_unref(c);
  bridge_.reset();
  if (pipeline_ != nullptr) gst_object_unref(pipeline_);
}

GstFlowReturn StreamPipeline::on_new_sample(GstElement* appsink, gpointer self) {
  GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(appsink));
  if (sample == nullptr) return GST_FLOW_EOS;
  auto* me = static_cast<StreamPipeline*>(self);
  me->on_sample(sample, g_object_get_data(G_OBJECT(appsink), "harvest-video") != nullptr);
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

namespace {
// Caps changed (pointer or content): returns true and keeps a reference to the new ones.
bool caps_changed(GstCaps*& seen, GstCaps* now) {
  if (now == nullptr || now == seen || (seen != nullptr && gst_caps_is_equal(seen, now))) return false;
  if (seen != nullptr) gst_caps_unref(seen);
  seen = gst_caps_ref(now);
  return true;
}

std::string_view codec_data_of(const GstStructure* s, GstMapInfo& map, GstBuffer*& buf) {
  buf = nullptr;
  const GValue* v = gst_structure_get_value(s, "codec_data");
  if (v == nullptr || !GST_VALUE_HOLDS_BUFFER(v)) return {};
  buf = gst_value_get_buffer(v);
  if (!gst_buffer_map(buf, &map, GST_MAP_READ)) {
    buf = nullptr;
    return {};
  }
  return {reinterpret_cast<const char*>(map.data), map.size};
}
}  // namespace

void StreamPipeline::on_sample(GstSample* sample, bool video) {
  std::lock_guard lock(mux_mutex_);
  // LL-HLS (fMP4): RTMP gives AVCC + raw AAC with their configurations in the caps; MPEG-TS
  // inputs (SRT, WHIP's muxed peer) give Annex B + ADTS, converted frame by frame below. The
  // rendition starts once the tracks are known (it must know whether to wait for video): RTMP's
  // appsrcs, or all of the demuxer's pads (no-more-pads; what comes before goes to TS only).
  if (!ll_begun_ && (ts_src_ == nullptr || ts_tracks_known_.load())) {
    ll_begun_ = true;
    if (auto session = session_.lock(); session && session->ll) {
      ll_ = session->ll;
      const int64_t epoch = session->epoch_wall_ms.load();
      ll_->begin_session(session->id, epoch != 0 ? epoch : now_ms(), has_video(), has_audio());
    }
  }
  if (GstCaps* caps = gst_sample_get_caps(sample); caps_changed(video ? video_caps_ : audio_caps_, caps)) {
    const GstStructure* s = gst_caps_get_structure(caps, 0);
    const char* format = gst_structure_get_string(s, "stream-format");
    GstMapInfo map;
    GstBuffer* data = nullptr;
    const std::string_view config = codec_data_of(s, map, data);
    if (video) {
      video_avc_ = format != nullptr && std::strcmp(format, "avc") == 0;
      if (video_avc_ && !muxer_->set_avc_config(config)) log::warn("ingest_bad_avc_config").kv("pipeline", options_.name);
      if (ll_ && video_avc_) {
        const auto facts = parse_avc_config_sps(config);
        ll_->set_video(config, facts ? facts->width : 0, facts ? facts->height : 0);
      }
    } else {
      audio_raw_ = format == nullptr || std::strcmp(format, "raw") == 0;
      int rate = 0, channels = 0;
      gst_structure_get_int(s, "rate", &rate);
      gst_structure_get_int(s, "channels", &channels);
      muxer_->set_aac_config(config, rate, channels);
      if (ll_ && audio_raw_) ll_->set_audio(config, rate, channels);
      audio_channels_ = channels;
    }
    if (data != nullptr) gst_buffer_unmap(data, &map);
  }
  auto each = [&](GstBuffer* buf) {
    if (video) {
      mux_video(buf);
      return;
    }
    GstMapInfo map;
    if (!gst_buffer_map(buf, &map, GST_MAP_READ)) return;
    const GstClockTime pts = GST_BUFFER_PTS(buf);
    mux_audio({reinterpret_cast<const char*>(map.data), map.size},
              GST_CLOCK_TIME_IS_VALID(pts) ? static_cast<int64_t>(pts) : std::max<int64_t>(last_video_dts_, 0));
    gst_buffer_unmap(buf, &map);
  };
  guint frames = 1;
  if (GstBufferList* list = gst_sample_get_buffer_list(sample)) {
    frames = gst_buffer_list_length(list);
    for (guint i = 0; i < frames; ++i) each(gst_buffer_list_get(list, i));
  } else if (GstBuffer* buf = gst_sample_get_buffer(sample)) {
    each(buf);
  }
  try_early_cut_locked();
  if (auto session = session_.lock()) {
    (video ? session->video_frames : session->audio_frames).fetch_add(frames);
    auto& counters = metrics().ingest(session->protocol);
    (video ? counters.video_frames_in : counters.audio_frames_in).fetch_add(frames, std::memory_order_relaxed);
  }
}

void StreamPipeline::write_out(int64_t pts_ns) {
  if (ts_out_.empty()) return;
  segmenter_->write(reinterpret_cast<const uint8_t*>(ts_out_.data()), ts_out_.size(),
                    static_cast<uint64_t>(std::max<int64_t>(pts_ns, 0)));
  ts_out_.clear();
}

void StreamPipeline::mux_video(GstBuffer* buf) {
  GstMapInfo map;
  if (!gst_buffer_map(buf, &map, GST_MAP_READ)) return;
  const GstClockTime pts = GST_BUFFER_PTS(buf), dts = GST_BUFFER_DTS(buf);
  const int64_t p = GST_CLOCK_TIME_IS_VALID(pts) ? static_cast<int64_t>(pts) : std::max<int64_t>(last_video_dts_, 0);
  const int64_t d = GST_CLOCK_TIME_IS_VALID(dts) ? static_cast<int64_t>(dts) : p;
  // The audio up to this frame goes first, so it lands in the segment this frame belongs to.
  while (!held_audio_.empty() && held_audio_.front().second <= d) {
    write_audio_frame(held_audio_.front().first, held_audio_.front().second);
    write_out(held_audio_.front().second);
    held_audio_.pop_front();
  }
  last_video_dts_ = std::max(last_video_dts_, d);
  const bool keyframe = !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  if (keyframe) early_cut_.reset();  // it got here first (media before it was lost): it cuts as usual
  muxer_->write_video(ts_out_, {reinterpret_cast<const char*>(map.data), map.size}, video_avc_, p, d,
                      keyframe);
  if (ll_ && video_avc_) ll_->add_video({reinterpret_cast<const char*>(map.data), map.size}, d, p, keyframe);
  if (ll_ && !video_avc_) ll_video_from_annexb({reinterpret_cast<const char*>(map.data), map.size}, d, p, keyframe);
  gst_buffer_unmap(buf, &map);
  write_out(p);
}

void StreamPipeline::write_audio_frame(std::string_view frame, int64_t pts_ns) {
  muxer_->write_audio(ts_out_, frame, audio_raw_, pts_ns);
  if (ll_ && audio_raw_) ll_->add_audio(frame, pts_ns);
  if (ll_ && !audio_raw_) ll_audio_from_adts(frame, pts_ns);
}

void StreamPipeline::ll_video_from_annexb(std::string_view access_unit, int64_t dts_ns, int64_t pts_ns,
                                          bool keyframe) {
  ll_sample_.clear();
  annexb_to_avcc(access_unit, ll_sample_, &ll_sets_);
  // The avcC from the first SPS + PPS (h264parse repeats them before every keyframe, so the
  // first keyframe brings them); LlHlsStream waits for it and then for a keyframe. Parameter
  // sets that make no configuration are forgotten, so the next ones are tried.
  if (!ll_video_configured_ && ll_sets_.complete()) {
    const std::string config = make_avc_config(ll_sets_.sps, ll_sets_.pps);
    const auto facts = parse_sps(ll_sets_.sps);
    if (!config.empty() && facts) {
      ll_->set_video(config, facts->width, facts->height);
      ll_video_configured_ = true;
    } else {
      // Once per pipeline: h264parse repeats the same broken sets before every keyframe.
      if (!ll_bad_sets_logged_)
        log::warn("llhls_bad_parameter_sets").kv("pipeline", options_.name).kv("sps_bytes", ll_sets_.sps.size());
      ll_bad_sets_logged_ = true;
      ll_sets_ = {};
    }
  }
  if (!ll_sample_.empty()) ll_->add_video(ll_sample_, dts_ns, pts_ns, keyframe);
}

void StreamPipeline::ll_audio_from_adts(std::string_view adts, int64_t pts_ns) {
  const auto split = split_adts(adts);
  if (!split) return;  // not ADTS (aacparse lets nothing else through): the TS rendition has it as it is
  if (!ll_audio_configured_) {
    ll_->set_audio(audio_specific_config(split->header), split->header.sample_rate, audio_channels_);
    ll_audio_configured_ = true;
  }
  // aacparse gives one frame per buffer; more are spaced a frame apart.
  const int64_t step = hls::Fmp4Muxer::aac_frame_ns(split->header.sample_rate);
  for (size_t i = 0; i < split->frames.size(); ++i)
    ll_->add_audio(split->frames[i], pts_ns + static_cast<int64_t>(i) * step);
}

void StreamPipeline::mux_audio(std::string_view frame, int64_t pts_ns) {
  // Audio ahead of the video waits for it (at most 1 s: a video track that stops must not hold
  // the audio back for ever); with no video track, or audio already behind it, it goes now.
  constexpr int64_t kMaxAudioLeadNs = 1'000'000'000;
  last_audio_pts_ = std::max(last_audio_pts_, pts_ns);
  if (muxer_->has_video() && (pts_ns > last_video_dts_ || !held_audio_.empty())) {
    held_audio_.emplace_back(std::string(frame), pts_ns);
    while (!held_audio_.empty() && (held_audio_.front().second <= last_video_dts_ ||
                                    held_audio_.back().second - held_audio_.front().second > kMaxAudioLeadNs)) {
      write_audio_frame(held_audio_.front().first, held_audio_.front().second);
      write_out(held_audio_.front().second);
      held_audio_.pop_front();
    }
    return;
  }
  write_audio_frame(frame, pts_ns);
  write_out(pts_ns);
}

void StreamPipeline::try_early_cut_locked() {
  if (!early_cut_ || last_video_dts_ < early_cut_->video_upto || last_audio_pts_ < early_cut_->audio_upto) return;
  const EarlyCut cut = *early_cut_;
  early_cut_.reset();
  // The audio up to the keyframe belongs to the segment it ends, as in mux_video().
  while (!held_audio_.empty() && held_audio_.front().second <= cut.dts_ns) {
    write_audio_frame(held_audio_.front().first, held_audio_.front().second);
    write_out(held_audio_.front().second);
    held_audio_.pop_front();
  }
  if (!segmenter_->cut(static_cast<uint64_t>(cut.pts_ns))) return;
  if (auto session = session_.lock())
    metrics().ingest(session->protocol).segments_cut_early.fetch_add(1, std::memory_order_relaxed);
}

void StreamPipeline::keyframe_coming(int64_t dts_ns, int64_t pts_ns) {
  if (video_src_ == nullptr) return;
  EarlyCut cut{std::max<int64_t>(dts_ns, 0), std::max<int64_t>(pts_ns, 0), -1, -1};
  {
    std::lock_guard lock(batch_mutex_);
    flush_locked(Handover::all);
    cut.video_upto = pushed_video_dts_;
    cut.audio_upto = pushed_audio_pts_;
  }
  std::lock_guard lock(mux_mutex_);
  if (!segmenter_->cut_due(static_cast<uint64_t>(cut.pts_ns))) return;
  early_cut_ = cut;
  try_early_cut_locked();
}

void StreamPipeline::set_prompt(bool on) {
  std::lock_guard lock(batch_mutex_);
  prompt_ = on;
  // Before the keyframe everything should be written: hand over now (all but the newest frame).
  if (on) flush_locked(Handover::eager);
}

void StreamPipeline::on_sink_eos() {
  std::lock_guard lock(mux_mutex_);
  if (--sinks_open_ > 0) return;
  for (auto& [frame, pts] : held_audio_) {
    write_audio_frame(frame, pts);
    write_out(pts);
  }
  held_audio_.clear();
  segmenter_->finish();
  if (ll_) ll_->finish();
}

GstElement* StreamPipeline::make(const char* factory) {
  GstElement* e = gst_element_factory_make(factory, nullptr);
  if (e == nullptr) log::error("pipeline_element_missing").kv("element", factory);
  return e;
}

Status StreamPipeline::link_chain(GstPad* src, bool video, bool parse_input) {
  if (!built_) return Status::error("pipeline could not be built");
  // SRT's demuxed elementary streams need parsing into access units / frames (and h264parse
  // repeats SPS/PPS before every keyframe so each segment decodes on its own); RTMP's are
  // parsed already, and TsMuxer repeats the parameter sets itself.
  GstElement* parse = parse_input ? make(video ? "h264parse" : "aacparse") : nullptr;
  GstElement* tee = gst_element_factory_make("tee", video ? "video_tee" : "audio_tee");
  GstElement* sink = gst_element_factory_make("appsink", video ? "video_out" : "audio_out");
  if ((parse_input && parse == nullptr) || tee == nullptr || sink == nullptr) return Status::error("missing elements");
  if (parse != nullptr && video) g_object_set(parse, "config-interval", -1, nullptr);
  g_object_set(tee, "allow-not-linked", TRUE, nullptr);
  // Written as fast as media arrives: no clock sync, no preroll wait, no stored sample.
  g_object_set(sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, "emit-signals", FALSE,
               "buffer-list", TRUE, nullptr);
  if (video) g_object_set_data(G_OBJECT(sink), "harvest-video", sink);
  GstAppSinkCallbacks callbacks{};
  callbacks.eos = [](GstAppSink*, gpointer self) { static_cast<StreamPipeline*>(self)->on_sink_eos(); };
  callbacks.new_sample = [](GstAppSink* s, gpointer self) {
    return StreamPipeline::on_new_sample(GST_ELEMENT(s), self);
  };
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, this, nullptr);
  gst_bin_add_many(GST_BIN(pipeline_), tee, sink, nullptr);
  if (parse != nullptr) gst_bin_add(GST_BIN(pipeline_), parse);
  // Video: productcue before the tee writes the card cues (SEI) into the passthrough rendition
  // (and every branch after the tee). See docs/media-link.md.
  GstElement* cue = video ? gst_element_factory_make("productcue", "productcue") : nullptr;
  if (cue != nullptr) gst_bin_add(GST_BIN(pipeline_), cue);
  GstElement* first = parse != nullptr ? parse : (cue != nullptr ? cue : tee);
  bool linked_chain = true;
  if (parse != nullptr && cue != nullptr) linked_chain = gst_element_link_many(parse, cue, tee, nullptr);
  else if (parse != nullptr) linked_chain = gst_element_link(parse, tee);
  else if (cue != nullptr) linked_chain = gst_element_link(cue, tee);
  if (!linked_chain) return Status::error("cannot link the parser chain");
  GstPad* tee_src = gst_element_request_pad_simple(tee, "src_%u");
  GstPad* sink_pad = gst_element_get_static_pad(sink, "sink");
  const bool ok = tee_src != nullptr && gst_pad_link(tee_src, sink_pad) == GST_PAD_LINK_OK;
  if (tee_src != nullptr) gst_object_unref(tee_src);
  gst_object_unref(sink_pad);
  if (!ok) return Status::error("cannot link the tee to the muxer");
  if (parse != nullptr) {
    GstPad* parse_src = gst_element_get_static_pad(parse, "src");
    add_facts_probe(parse_src, session_, video);
    gst_object_unref(parse_src);
  }
  {
    std::lock_guard lock(mux_mutex_);
    muxer_->add_track(video);
    ++sinks_open_;
  }
  GstPad* first_sink = gst_element_get_static_pad(first, "sink");
  const bool linked = gst_pad_link(src, first_sink) == GST_PAD_LINK_OK;
  gst_object_unref(first_sink);
  if (!linked) return Status::error("cannot link the source");
  for (GstElement* e : {sink, tee, cue, parse})
    if (e != nullptr) gst_element_sync_state_with_parent(e);
  (video ? video_tee_ : audio_tee_) = tee;
  return Status::ok();
}

namespace {
// Caps for the RTMP video input, with the picture facts read from the SPS (no h264parse runs on
// it); the same facts go to the session for GET /api/streams/{id}.
GstCaps* avc_caps(std::string_view avc_config, const std::weak_ptr<PublishSession>& session) {
  GstBuffer* codec_data = buffer_from(avc_config);
  GstCaps* caps = gst_caps_new_simple("video/x-h264", "stream-format", G_TYPE_STRING, "avc", "alignment",
                                      G_TYPE_STRING, "au", "codec_data", GST_TYPE_BUFFER, codec_data, nullptr);
  gst_buffer_unref(codec_data);
  nlohmann::json fields = {{"video_codec", "h264"}};
  if (auto sps = parse_avc_config_sps(avc_config)) {
    gst_caps_set_simple(caps, "width", G_TYPE_INT, sps->width, "height", G_TYPE_INT, sps->height, nullptr);
    fields["width"] = sps->width;
    fields["height"] = sps->height;
    fields["video_profile"] = sps->profile;
    if (sps->fps > 0) fields["declared_fps"] = std::round(sps->fps * 1000.0) / 1000.0;
  }
  if (auto s = session.lock()) s->merge_info(fields);
  return caps;
}
}  // namespace

Status StreamPipeline::add_h264_input(std::string_view avc_config) {
  video_src_ = gst_element_factory_make("appsrc", "video_in");
  if (video_src_ == nullptr) return Status::error("appsrc missing");
  configure_appsrc(video_src_, avc_caps(avc_config, session_), GST_FORMAT_TIME);
  gst_bin_add(GST_BIN(pipeline_), video_src_);
  GstPad* src = gst_element_get_static_pad(video_src_, "src");
  Status st = link_chain(src, true, false);
  gst_object_unref(src);
  return st;
}

bool StreamPipeline::update_video_config(std::string_view avc_config) {
  if (video_src_ == nullptr) return false;
  GstCaps* caps = avc_caps(avc_config, session_);
  gst_app_src_set_caps(GST_APP_SRC(video_src_), caps);
  gst_caps_unref(caps);
  return true;
}

Status StreamPipeline::add_aac_input(std::string_view asc, int rate, int channels) {
  audio_src_ = gst_element_factory_make("appsrc", "audio_in");
  if (audio_src_ == nullptr) return Status::error("appsrc missing");
  GstBuffer* codec_data = buffer_from(asc);
  // Framed: one AAC frame per buffer, as RTMP carries it (branches' muxers need to know).
  GstCaps* caps = gst_caps_new_simple("audio/mpeg", "mpegversion", G_TYPE_INT, 4, "stream-format", G_TYPE_STRING,
                                      "raw", "framed", G_TYPE_BOOLEAN, TRUE, "codec_data", GST_TYPE_BUFFER, codec_data,
                                      nullptr);
  if (rate > 0) gst_caps_set_simple(caps, "rate", G_TYPE_INT, rate, nullptr);
  if (channels > 0) gst_caps_set_simple(caps, "channels", G_TYPE_INT, channels, nullptr);
  gst_buffer_unref(codec_data);
  configure_appsrc(audio_src_, caps, GST_FORMAT_TIME);
  nlohmann::json fields = {{"audio_codec", "aac"}};
  if (rate > 0) fields["audio_rate"] = rate;
  if (channels > 0) fields["audio_channels"] = channels;
  if (auto session = session_.lock()) session->merge_info(fields);
  gst_bin_add(GST_BIN(pipeline_), audio_src_);
  GstPad* src = gst_element_get_static_pad(audio_src_, "src");
  Status st = link_chain(src, false, false);
  gst_object_unref(src);
  return st;
}

Status StreamPipeline::add_ts_input() {
  ts_src_ = gst_element_factory_make("appsrc", "ts_in");
  GstElement* demux = make("tsdemux");
  if (ts_src_ == nullptr || demux == nullptr) return Status::error("appsrc/tsdemux missing");
  configure_appsrc(ts_src_, gst_caps_new_simple("video/mpegts", "systemstream", G_TYPE_BOOLEAN, TRUE, nullptr),
                   GST_FORMAT_BYTES);
  gst_bin_add_many(GST_BIN(pipeline_), ts_src_, demux, nullptr);
  if (!gst_element_link(ts_src_, demux)) return Status::error("cannot link tsdemux");
  g_signal_connect(demux, "pad-added", G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer self) {
                     static_cast<StreamPipeline*>(self)->on_demux_pad(pad);
                   }),
                   this);
  g_signal_connect(demux, "no-more-pads", G_CALLBACK(+[](GstElement*, gpointer self) {
                     static_cast<StreamPipeline*>(self)->ts_tracks_known_.store(true);
                   }),
                   this);
  return Status::ok();
}

void StreamPipeline::on_demux_pad(GstPad* pad) {
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (caps == nullptr) caps = gst_pad_query_caps(pad, nullptr);
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  const std::string media = gst_structure_get_name(s);
  int mpegversion = 0;
  gst_structure_get_int(s, "mpegversion", &mpegversion);
  gst_caps_unref(caps);

  auto to_fakesink = [&] {
    GstElement* sink = make("fakesink");
    if (sink == nullptr) return;
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add(GST_BIN(pipeline_), sink);
    GstPad* sinkpad = gst_element_get_static_pad(sink, "sink");
    gst_pad_link(pad, sinkpad);
    gst_object_unref(sinkpad);
    gst_element_sync_state_with_parent(sink);
  };
  auto repair = [this](GstPad* p) {
    gst_pad_add_probe(
        p, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
        +[](GstPad* pp, GstPadProbeInfo* info, gpointer self) {
          return static_cast<StreamPipeline*>(self)->repair_probe(pp, info);
        },
        this, nullptr);
  };

  // The demuxer pushes every track from one thread, and a muxer pad holds one buffer until the
  // other tracks catch up: each track needs its own queue (thread) between them.
  auto through_queue = [&](bool video) {
    GstElement* queue = make("queue");
    if (queue == nullptr) return;
    g_object_set(queue, "max-size-buffers", 0u, "max-size-time", guint64{0}, "max-size-bytes",
                 video ? 32u * 1024 * 1024 : 4u * 1024 * 1024, nullptr);
    gst_bin_add(GST_BIN(pipeline_), queue);
    GstPad* qsink = gst_element_get_static_pad(queue, "sink");
    GstPad* qsrc = gst_element_get_static_pad(queue, "src");
    repair(qsink);
    Status st = gst_pad_link(pad, qsink) == GST_PAD_LINK_OK ? link_chain(qsrc, video, true)
                                                              : Status::error("cannot link the demuxer");
    gst_object_unref(qsink);
    gst_object_unref(qsrc);
    gst_element_sync_state_with_parent(queue);
    if (!st) on_fatal_(st.message());
  };
  if (media == "video/x-h264" && video_tee_ == nullptr) {
    through_queue(true);
  } else if (media == "audio/mpeg" && (mpegversion == 4 || mpegversion == 2) && audio_tee_ == nullptr) {
    through_queue(false);
  } else if (media.rfind("video/", 0) == 0 && video_tee_ == nullptr) {
    to_fakesink();
    on_fatal_(std::string("unsupported video codec ") + (media == "video/x-h265" ? "HEVC (H.265)" : media) +
              ": publish H.264");
  } else if (media.rfind("audio/", 0) == 0 && audio_tee_ == nullptr) {
    to_fakesink();
    on_fatal_("unsupported audio codec " + media + (mpegversion ? " v" + std::to_string(mpegversion) : "") +
              ": publish AAC");
  } else {
    to_fakesink();  // extra tracks, data streams
  }
}

GstPadProbeReturn StreamPipeline::repair_probe(GstPad* pad, GstPadProbeInfo* info) {
  std::lock_guard lock(mutex_);
  GstSegment* known = nullptr;
  for (auto& [p, seg] : pad_segments_)
    if (p == pad) known = &seg;
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) != GST_EVENT_SEGMENT) return GST_PAD_PROBE_OK;
    // Keep the demuxer's segment to compute running times; send downstream a segment that
    // starts at 0, so the repaired timestamps are the running times.
    const GstSegment* seg = nullptr;
    gst_event_parse_segment(event, &seg);
    if (known == nullptr) {
      pad_segments_.emplace_back(pad, *seg);
    } else {
      *known = *seg;
    }
    GstSegment zero;
    gst_segment_init(&zero, GST_FORMAT_TIME);
    GstEvent* replacement = gst_event_new_segment(&zero);
    gst_event_set_seqnum(replacement, gst_event_get_seqnum(event));
    gst_event_unref(event);
    GST_PAD_PROBE_INFO_DATA(info) = replacement;
    return GST_PAD_PROBE_OK;
  }
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  if (known == nullptr || known->format != GST_FORMAT_TIME) return GST_PAD_PROBE_OK;
  const GstClockTime pts = GST_BUFFER_PTS(buf), dts = GST_BUFFER_DTS(buf);
  const GstClockTime ref = GST_CLOCK_TIME_IS_VALID(dts) ? dts : pts;
  if (!GST_CLOCK_TIME_IS_VALID(ref)) return GST_PAD_PROBE_OK;
  guint64 rt = 0;
  const int sign = gst_segment_to_running_time_full(known, GST_FORMAT_TIME, ref, &rt);
  const int64_t in = sign >= 0 ? static_cast<int64_t>(rt) : -static_cast<int64_t>(rt);
  GstCaps* caps = gst_pad_get_current_caps(pad);
  bool is_video = false;
  if (caps != nullptr) {
    is_video = g_str_has_prefix(gst_structure_get_name(gst_caps_get_structure(caps, 0)), "video/");
    gst_caps_unref(caps);
  }
  const int64_t out = repair_.map(is_video ? TimestampRepair::video : TimestampRepair::audio, in);
  const int64_t shift = out - static_cast<int64_t>(ref);
  buf = gst_buffer_make_writable(buf);
  if (GST_CLOCK_TIME_IS_VALID(dts)) GST_BUFFER_DTS(buf) = static_cast<GstClockTime>(static_cast<int64_t>(dts) + shift);
  if (GST_CLOCK_TIME_IS_VALID(pts)) {
    const int64_t p = static_cast<int64_t>(pts) + shift;
    GST_BUFFER_PTS(buf) = static_cast<GstClockTime>(std::max<int64_t>(p, out));
  }
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  if (auto session = session_.lock()) {
    session->set_epoch_once(out);
    session->timestamp_repairs.store(repair_.repairs());
  }
  return GST_PAD_PROBE_OK;
}

Status StreamPipeline::start() {
  if (!built_) return Status::error("pipeline could not be built");
  if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return Status::error("pipeline refused to start");
  return Status::ok();
}

void StreamPipeline::push_video(std::string_view avcc, int64_t dts_ns, int64_t pts_ns, bool keyframe) {
  if (video_src_ == nullptr) return;
  GstBuffer* buf = buffer_from(avcc);
  GST_BUFFER_DTS(buf) = static_cast<GstClockTime>(std::max<int64_t>(dts_ns, 0));
  GST_BUFFER_PTS(buf) = static_cast<GstClockTime>(std::max<int64_t>(pts_ns, 0));
  if (!keyframe) GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  std::lock_guard lock(batch_mutex_);
  if (video_batch_ == nullptr) video_batch_ = gst_buffer_list_new();
  gst_buffer_list_add(video_batch_, buf);
  pushed_video_dts_ = static_cast<int64_t>(GST_BUFFER_DTS(buf));
  // A keyframe closes a segment: what came before it goes now. The keyframe itself stays back
  // until the next video frame (see Handover::eager), which then goes at once too.
  const bool after_keyframe = eager_next_video_;
  eager_next_video_ = keyframe;
  flush_locked(keyframe || prompt_ || after_keyframe ? Handover::eager : Handover::timed);
}

void StreamPipeline::push_audio(std::string_view raw, int64_t pts_ns) {
  if (audio_src_ == nullptr) return;
  GstBuffer* buf = buffer_from(raw);
  GST_BUFFER_DTS(buf) = GST_BUFFER_PTS(buf) = static_cast<GstClockTime>(std::max<int64_t>(pts_ns, 0));
  std::lock_guard lock(batch_mutex_);
  if (audio_batch_ == nullptr) audio_batch_ = gst_buffer_list_new();
  gst_buffer_list_add(audio_batch_, buf);
  pushed_audio_pts_ = static_cast<int64_t>(GST_BUFFER_PTS(buf));
  flush_locked(prompt_ ? Handover::eager : Handover::timed);
}

void StreamPipeline::push_ts(std::string_view bytes) {
  if (ts_src_ == nullptr) return;
  std::lock_guard lock(batch_mutex_);
  ts_batch_.append(bytes);
  flush_locked(ts_batch_.size() >= 256 * 1024 ? Handover::all : Handover::timed);
}

void StreamPipeline::flush(bool force) {
  std::lock_guard lock(batch_mutex_);
  flush_locked(force ? Handover::all : Handover::timed);
}

int StreamPipeline::flush_now() {
  std::lock_guard lock(batch_mutex_);
  const int held = video_batch_ != nullptr ? static_cast<int>(gst_buffer_list_length(video_batch_)) : 0;
  // No video held now: the next video (or TS) that comes in goes at once instead.
  flush_next_video_ = video_batch_ == nullptr && ts_batch_.empty();
  flush_locked(Handover::all);
  return held;
}

void StreamPipeline::flush_locked(Handover how) {
  if (flush_next_video_ && (video_batch_ != nullptr || !ts_batch_.empty())) {
    flush_next_video_ = false;
    how = Handover::all;
  }
  const int64_t now = steady_ms();
  const bool empty = video_batch_ == nullptr && audio_batch_ == nullptr && ts_batch_.empty();
  if (empty) {
    batch_started_ms_ = now;
    return;
  }
  if (how == Handover::timed && now - batch_started_ms_ < kBatchMs) return;
  batch_started_ms_ = now;
  // Every hand-over but a card cue's (or one that must empty the batch: a segment cut, the end)
  // keeps the newest video frame back for the next one, so that a card cue coming in meanwhile
  // finds a frame that has not reached productcue and goes on it at once, instead of waiting for
  // the publisher's next frame (up to a frame interval, plus the ingest's read round and the
  // decoder). Without this on the eager hand-overs (prompt reads around a keyframe, the keyframe
  // itself) about one cue in eight found the batch empty: the ~45 ms p99 of command -> frame
  // (docs/media-link.md, "No batch wait"). A timed hand-over with a single frame still hands it
  // over: a publisher that paused gets its last frame out.
  GstBufferList* kept = nullptr;
  const guint frames = video_batch_ != nullptr ? gst_buffer_list_length(video_batch_) : 0;
  if ((how == Handover::eager && frames >= 1) || (how == Handover::timed && frames > 1)) {
    const guint last = frames - 1;
    kept = gst_buffer_list_new();
    gst_buffer_list_add(kept, gst_buffer_ref(gst_buffer_list_get(video_batch_, last)));
    gst_buffer_list_remove(video_batch_, last, 1);
  }
  // Audio first: the muxer then already holds the audio that goes with the video batch.
  if (audio_batch_ != nullptr) {
    gst_app_src_push_buffer_list(GST_APP_SRC(audio_src_), audio_batch_);  // takes ownership
    audio_batch_ = nullptr;
  }
  if (video_batch_ != nullptr) {
    if (gst_buffer_list_length(video_batch_) > 0) {
      gst_app_src_push_buffer_list(GST_APP_SRC(video_src_), video_batch_);
    } else {
      gst_buffer_list_unref(video_batch_);
    }
    video_batch_ = kept;
  }
  if (!ts_batch_.empty()) {
    gst_app_src_push_buffer(GST_APP_SRC(ts_src_), buffer_from(ts_batch_));
    ts_batch_.clear();
  }
}

void StreamPipeline::end_of_stream() {
  for (GstElement* src : {video_src_, audio_src_, ts_src_})
    if (src != nullptr) gst_app_src_end_of_stream(GST_APP_SRC(src));
}

void StreamPipeline::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (pipeline_ != nullptr) gst_element_set_state(pipeline_, GST_STATE_NULL);
}

}  // namespace harvest::media

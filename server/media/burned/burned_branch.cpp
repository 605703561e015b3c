#include "media/burned/burned_branch.h"

#include <gst/app/gstappsink.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/thread_priority.h"
#include "sei.h"
#include "media/gst/gst_build.h"
#include "media/ingest/stream_pipeline.h"

namespace harvest::media {

namespace {

// In front of the decoder: nothing until the first keyframe (the branch joins mid-GOP).
struct KeyframeGate {
  std::atomic<uint64_t>* counter;
  bool open = false;
};
GstPadProbeReturn keyframe_gate(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* gate = static_cast<KeyframeGate*>(data);
  if (!gate->open) {
    bool key = false;
    if ((GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) != 0) {
      key = !GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_DELTA_UNIT);
    } else if ((GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) != 0) {
      GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
      key = gst_buffer_list_length(list) > 0 &&
            !GST_BUFFER_FLAG_IS_SET(gst_buffer_list_get(list, 0), GST_BUFFER_FLAG_DELTA_UNIT);
    }
    if (!key) return GST_PAD_PROBE_DROP;
    gate->open = true;
  }
  gate->counter->fetch_add(buffers_in(info));
  return GST_PAD_PROBE_OK;
}

// The coded queue's streaming thread decodes each frame and draws the card on it. On a busy
// machine it waited for a core behind the encoders (this branch's x264 and every other stream's)
// and other programs: 41-81 ms p99 from command to drawn frame with two busy loops on the two
// cores, against 17-21 ms when quiet. Ahead of them (and decoding alone, see max-threads) it
// takes 17-28 ms p99 with those loops or three more streams (docs/benchmarks.md).
constexpr int kDrawingThreadNice = -10;
GstPadProbeReturn raise_drawing_thread(GstPad* pad, GstPadProbeInfo*, gpointer) {
  const int before = this_thread_nice();
  if (set_this_thread_nice(kDrawingThreadNice)) {
    // The thread goes back to GStreamer's pool when the branch stops: it leaves as it came.
    GST_OBJECT_LOCK(pad);
    if (GstTask* task = GST_PAD_TASK(pad))
      gst_task_set_leave_callback(
          task, [](GstTask*, GThread*, gpointer nice) { set_this_thread_nice(GPOINTER_TO_INT(nice)); },
          GINT_TO_POINTER(before), nullptr);
    GST_OBJECT_UNLOCK(pad);
  }
  return GST_PAD_PROBE_REMOVE;  // once: the queue keeps its task for the branch's life
}

}  // namespace

std::unique_ptr<BurnedBranch> BurnedBranch::attach(std::shared_ptr<StreamPipeline> pipeline, Options options,
                                                   SegmentHandler on_segment, std::string& error) {
  if (!pipeline || pipeline->pipeline() == nullptr || pipeline->video_tee() == nullptr) {
    error = "the stream has no video";
    return nullptr;
  }
  std::unique_ptr<BurnedBranch> b(new BurnedBranch());
  b->pipeline_ = pipeline;
  b->on_segment_ = std::move(on_segment);
  GstElement* bin = pipeline->pipeline();
  GstElement* q1 = add_element(bin, "queue", "burned_coded", error);
  GstElement* dec = add_element(bin, "avdec_h264", "burned_dec", error);
  GstElement* q2 = add_element(bin, "queue", "burned_raw", error);
  const char* direction = flip_direction(options.rotation);
  GstElement* flip = direction != nullptr ? add_element(bin, "videoflip", "burned_flip", error) : nullptr;
  GstElement* ov = add_element(bin, "productoverlay", "burned_overlay", error);
  // Overlaid raw video for the ladder's rungs (burned_ladder.h); with no rung it is a pass-through.
  GstElement* ov_tee = add_element(bin, "tee", "burned_overlaid_tee", error);
  GstElement* enc = add_element(bin, "x264enc", "burned_enc", error);
  GstElement* parse = add_element(bin, "h264parse", "burned_parse", error);
  GstElement* tee = add_element(bin, "tee", "burned_video_tee", error);
  GstElement* mux = add_element(bin, "mpegtsmux", "burned_mux", error);
  GstElement* sink = add_element(bin, "appsink", "burned_sink", error);
  GstElement* qa = pipeline->audio_tee() != nullptr ? add_element(bin, "queue", "burned_audio", error) : nullptr;
  if (!error.empty()) return nullptr;

  // Compressed: up to 2 s; a decoder that falls that far behind loses frames (until the next
  // keyframe decodes cleanly). Raw: 6 frames (200 ms at 30 fps); an encoder that cannot keep up
  // loses frames here. The card is drawn in front of this queue, so its depth adds nothing to the
  // card's latency; with the drawing thread ahead of the encoders, 3 frames were too few for an
  // encoder's wait on a busy machine (1-6 % of frames dropped at 4 streams on 2 cores, 0-0.1 % now).
  g_object_set(q1, "leaky", 2, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time", guint64{2'000'000'000},
               nullptr);
  g_object_set(q2, "leaky", 2, "max-size-buffers", 6u, "max-size-bytes", 0u, "max-size-time", guint64{0}, nullptr);
  if (qa != nullptr)
    g_object_set(qa, "leaky", 2, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time",
                 guint64{5'000'000'000}, nullptr);
  // One decoding thread, the streaming thread itself (a 720p frame takes 3-4 ms): frame threading
  // held (threads - 1) frames back, tens of ms before the card's frame; slice threading handed the
  // frame to libav's workers, which the raised priority (raise_drawing_thread) does not cover, so
  // on a busy machine the frame waited for one of them.
  g_object_set(dec, "max-threads", 1, nullptr);  // one thread: no thread-type matters
  g_object_set(ov, "fade-duration", 0u, nullptr);  // the card is complete on the frame card.shown names
  int kbps = options.bitrate_kbps;
  if (kbps <= 0) {
    const double pixels = options.width > 0 && options.height > 0 ? double(options.width) * options.height : 1280.0 * 720;
    kbps = std::clamp(static_cast<int>(std::lround(pixels * 30 * 0.07 / 1000)), 300, 6000);
  }
  b->bitrate_kbps_ = kbps;
  gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
  gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", options.speed_preset.c_str());
  g_object_set(enc, "bitrate", static_cast<guint>(kbps), "key-int-max", 30u, nullptr);
  g_object_set(parse, "config-interval", -1, nullptr);
  g_object_set(mux, "alignment", 7, nullptr);
  g_object_set(sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, "emit-signals", FALSE, nullptr);
  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = [](GstAppSink* s, gpointer me) { return BurnedBranch::on_new_sample(GST_ELEMENT(s), me); };
  callbacks.eos = [](GstAppSink*, gpointer me) { static_cast<BurnedBranch*>(me)->segmenter_->finish(); };
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, b.get(), nullptr);

  BurnedBranch* self = b.get();
  b->segmenter_ = std::make_unique<hls::TsSegmenter>(
      hls::TsSegmenter::Options{options.segment_prefix, options.start_index, options.segment_target_ns},
      [self](const std::string& path, uint64_t start_ns, uint64_t end_ns) {
        if (self->on_segment_) self->on_segment_(path, start_ns, end_ns);
      });

  if (flip != nullptr) gst_util_set_object_arg(G_OBJECT(flip), "video-direction", direction);
  // The overlay works in the decoder's thread, before the raw queue: a frame is drawn as soon as
  // it is decoded instead of after the encoder has finished the frame before it (x264 at 720p
  // takes up to a frame interval on a busy core: that wait was the overlay's p99 tail).
  if (!(flip != nullptr ? gst_element_link_many(q1, dec, flip, ov, q2, ov_tee, enc, parse, tee, nullptr)
                        : gst_element_link_many(q1, dec, ov, q2, ov_tee, enc, parse, tee, nullptr)) ||
      !link_pads(gst_element_request_pad_simple(tee, "src_%u"), gst_element_request_pad_simple(mux, "sink_%d")) ||
      !gst_element_link(mux, sink) ||
      (qa != nullptr &&
       !link_pads(gst_element_get_static_pad(qa, "src"), gst_element_request_pad_simple(mux, "sink_%d")))) {
    error = "cannot link the burned-in branch";
    return nullptr;
  }
  b->overlay_ = ov;
  b->raw_queue_ = q2;
  b->coded_queue_ = q1;
  add_probe(q1, "sink", &BurnedBranch::find_cues, b.get());
  add_probe(q1, "sink", keyframe_gate, new KeyframeGate{&b->frames_in_},
            [](gpointer p) { delete static_cast<KeyframeGate*>(p); });
  add_probe(q1, "src", count_probe, &b->frames_coded_out_);
  add_probe(q1, "src", raise_drawing_thread, nullptr);
  add_probe(q2, "sink", count_probe, &b->frames_decoded_);
  add_probe(q2, "src", count_probe, &b->frames_raw_out_);
  add_probe(enc, "src", count_probe, &b->frames_encoded_);
  add_probe(ov, "sink", &BurnedBranch::before_overlay, b.get());
  b->encoded_tee_ = tee;
  b->overlaid_tee_ = ov_tee;
  for (GstElement* e : {sink, mux, tee, parse, enc, ov_tee, q2, ov, flip, dec, q1})
    if (e != nullptr) gst_element_sync_state_with_parent(e);
  if (qa != nullptr) gst_element_sync_state_with_parent(qa);
  if (!link_pads(gst_element_request_pad_simple(pipeline->video_tee(), "src_%u"),
                 gst_element_get_static_pad(q1, "sink")) ||
      (qa != nullptr && !link_pads(gst_element_request_pad_simple(pipeline->audio_tee(), "src_%u"),
                                   gst_element_get_static_pad(qa, "sink")))) {
    error = "cannot link the burned-in branch to the tees";
    return nullptr;
  }
  return b;
}

const char* BurnedBranch::flip_direction(int rotation) {
  switch (rotation) {
    case 90: return "90r";  // clockwise, as the player's CSS rotate(90deg) turns the passthrough
    case 180: return "180";
    case 270: return "90l";
    default: return nullptr;
  }
}

BurnedBranch::~BurnedBranch() {
  // The streaming threads call into this object: stop them first.
  if (pipeline_) pipeline_->stop();
}

uint64_t BurnedBranch::frames_dropped() const {
  const uint64_t in1 = frames_in_.load();
  const uint64_t out1 = frames_coded_out_.load() + queue_level(coded_queue_);
  const uint64_t in2 = frames_decoded_.load();
  const uint64_t out2 = frames_raw_out_.load() + queue_level(raw_queue_);
  return (in1 > out1 ? in1 - out1 : 0) + (in2 > out2 ? in2 - out2 : 0);
}

void BurnedBranch::schedule_show(const std::string& card_json, uint64_t running_time_ns) {
  const nlohmann::json card = nlohmann::json::parse(card_json, nullptr, false);
  const std::string product = card.is_object() ? card.value("product_id", "") : std::string();
  std::lock_guard lock(mutex_);
  if (!resolved_by_sei(product, true, running_time_ns)) scheduled_.push_back({true, card_json, running_time_ns});
}

void BurnedBranch::schedule_hide(const std::string& product_id, uint64_t running_time_ns) {
  std::lock_guard lock(mutex_);
  if (!resolved_by_sei(product_id, false, running_time_ns)) scheduled_.push_back({false, product_id, running_time_ns});
}

void BurnedBranch::expect(const std::string& product_id, bool show, const std::string& card_json_or_id) {
  std::lock_guard lock(mutex_);
  expected_.push_back({product_id, {show, card_json_or_id, 0}});
  expecting_.store(expected_.size());
}

bool BurnedBranch::resolved_by_sei(const std::string& product_id, bool show, uint64_t running_time_ns) {
  for (auto it = expected_.begin(); it != expected_.end(); ++it) {
    if (it->product_id == product_id && it->change.show == show) {  // the SEI never came by
      expected_.erase(it);
      expecting_.store(expected_.size());
      break;
    }
  }
  for (auto it = resolved_.begin(); it != resolved_.end(); ++it) {
    const uint64_t d = it->running_time_ns > running_time_ns ? it->running_time_ns - running_time_ns
                                                             : running_time_ns - it->running_time_ns;
    if (it->product_id == product_id && it->show == show && d < 1'000'000) {
      resolved_.erase(it);
      return true;
    }
  }
  return false;
}

GstPadProbeReturn BurnedBranch::find_cues(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<BurnedBranch*>(data);
  if (self->expecting_.load() == 0) return GST_PAD_PROBE_OK;
  namespace lc = harvest::livecommerce;
  lc::AccessUnitFormat format;
  if (GstCaps* caps = gst_pad_get_current_caps(pad)) {
    const GstStructure* st = gst_caps_get_structure(caps, 0);
    const char* sf = gst_structure_get_string(st, "stream-format");
    const GValue* cd = gst_structure_get_value(st, "codec_data");
    if (sf != nullptr && std::string_view(sf) == "avc" && cd != nullptr && GST_VALUE_HOLDS_BUFFER(cd)) {
      format.framing = lc::H264Framing::kAvc;
      GstMapInfo m;
      if (GstBuffer* b = gst_value_get_buffer(cd); gst_buffer_map(b, &m, GST_MAP_READ)) {
        if (auto n = lc::avcc_nal_length_size({m.data, m.size})) format.nal_length_size = *n;
        gst_buffer_unmap(b, &m);
      }
    }
    gst_caps_unref(caps);
  }
  GstEvent* seg_event = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
  auto scan = [&](GstBuffer* buffer) {
    GstMapInfo map;
    if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return;
    const std::vector<lc::Cue> cues = lc::find_cues({map.data, map.size}, format);
    gst_buffer_unmap(buffer, &map);
    if (cues.empty()) return;
    // The running time productcue reported: PTS (else DTS) through the segment.
    const GstClockTime ts = GST_BUFFER_PTS_IS_VALID(buffer) ? GST_BUFFER_PTS(buffer) : GST_BUFFER_DTS(buffer);
    if (!GST_CLOCK_TIME_IS_VALID(ts) || seg_event == nullptr) return;
    const GstSegment* segment = nullptr;
    gst_event_parse_segment(seg_event, &segment);
    const guint64 rt = gst_segment_to_running_time(segment, GST_FORMAT_TIME, ts);
    if (!GST_CLOCK_TIME_IS_VALID(rt)) return;
    std::lock_guard lock(self->mutex_);
    for (const lc::Cue& cue : cues) {
      const bool show = cue.action == "shown";
      auto it = std::find_if(self->expected_.begin(), self->expected_.end(), [&](const Expected& e) {
        return e.product_id == cue.product_id && e.change.show == show;
      });
      if (it == self->expected_.end()) continue;
      Scheduled change = std::move(it->change);
      change.running_time_ns = rt;
      self->scheduled_.push_back(std::move(change));
      self->resolved_.push_back({it->product_id, show, rt});
      if (self->resolved_.size() > 64) self->resolved_.erase(self->resolved_.begin());
      self->expected_.erase(it);
    }
    self->expecting_.store(self->expected_.size());
  };
  if ((GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) != 0) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    for (guint i = 0; i < gst_buffer_list_length(list); ++i) scan(gst_buffer_list_get(list, i));
  } else if ((GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) != 0) {
    scan(GST_PAD_PROBE_INFO_BUFFER(info));
  }
  if (seg_event != nullptr) gst_event_unref(seg_event);
  return GST_PAD_PROBE_OK;
}

void BurnedBranch::update(const std::string& partial_json) {
  if (overlay_ == nullptr) return;
  {
    // A show still waiting for its frame takes the update too (update-card only changes cards
    // already in the overlay's scene).
    const nlohmann::json patch = nlohmann::json::parse(partial_json, nullptr, false);
    std::lock_guard lock(mutex_);
    std::vector<Scheduled*> shows;
    for (Scheduled& s : scheduled_) shows.push_back(&s);
    for (Expected& e : expected_) shows.push_back(&e.change);
    for (Scheduled* sp : shows) {
      Scheduled& s = *sp;
      if (!s.show || !patch.is_object()) continue;
      nlohmann::json card = nlohmann::json::parse(s.arg, nullptr, false);
      if (!card.is_object() || card.value("product_id", "") != patch.value("product_id", "")) continue;
      for (const auto& [k, v] : patch.items()) {
        if (v.is_null()) card.erase(k);
        else card[k] = v;
      }
      s.arg = card.dump();
    }
  }
  gboolean ok = FALSE;
  g_signal_emit_by_name(overlay_, "update-card", partial_json.c_str(), &ok);
}

GstPadProbeReturn BurnedBranch::before_overlay(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<BurnedBranch*>(data);
  if ((GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) == 0) return GST_PAD_PROBE_OK;
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!GST_BUFFER_PTS_IS_VALID(buffer)) return GST_PAD_PROBE_OK;
  uint64_t rt = GST_BUFFER_PTS(buffer);
  if (GstEvent* ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0)) {
    const GstSegment* segment = nullptr;
    gst_event_parse_segment(ev, &segment);
    const guint64 r = gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
    if (GST_CLOCK_TIME_IS_VALID(r)) rt = r;
    gst_event_unref(ev);
  }
  // The decoder may re-time frames by a few ms against the passthrough's access units: a change
  // at R goes on the frame nearest to R, i.e. the first one whose running time is past R minus
  // half a frame interval.
  uint64_t half = 20'000'000;
  if (self->last_rt_ != 0 && rt > self->last_rt_) half = std::min<uint64_t>((rt - self->last_rt_) / 2, 50'000'000);
  self->last_rt_ = rt;
  std::vector<Scheduled> due;
  {
    std::lock_guard lock(self->mutex_);
    auto& s = self->scheduled_;
    for (auto it = s.begin(); it != s.end();) {
      if (it->running_time_ns <= rt + half) {
        due.push_back(std::move(*it));
        it = s.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const Scheduled& d : due) {
    gboolean ok = FALSE;
    g_signal_emit_by_name(self->overlay_, d.show ? "show-card" : "hide-card", d.arg.c_str(), &ok);
  }
  return GST_PAD_PROBE_OK;
}

GstFlowReturn BurnedBranch::on_new_sample(GstElement* appsink, gpointer data) {
  return pull_into_segmenter(appsink, *static_cast<BurnedBranch*>(data)->segmenter_);
}

GstFlowReturn pull_into_segmenter(GstElement* appsink, hls::TsSegmenter& segmenter) {
  GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(appsink));
  if (sample == nullptr) return GST_FLOW_EOS;
  auto write = [&segmenter](GstBuffer* buffer) {
    GstMapInfo map;
    if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return;
    const GstClockTime pts = GST_BUFFER_PTS(buffer);
    segmenter.write(map.data, map.size, GST_CLOCK_TIME_IS_VALID(pts) ? pts : 0);
    gst_buffer_unmap(buffer, &map);
  };
  if (GstBufferList* list = gst_sample_get_buffer_list(sample)) {
    for (guint i = 0; i < gst_buffer_list_length(list); ++i) write(gst_buffer_list_get(list, i));
  } else if (GstBuffer* buf = gst_sample_get_buffer(sample)) {
    write(buf);
  }
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

}  // namespace harvest::media

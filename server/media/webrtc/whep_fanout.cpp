#include "media/webrtc/whep_fanout.h"

#include <gst/app/gstappsink.h>

#include <algorithm>

#include "media/gst/gst_build.h"
#include "media/ingest/stream_pipeline.h"
#include "media/webrtc/whep_peer.h"

namespace harvest::media::webrtc {

namespace {
struct SinkContext {
  WhepFanout* fanout;
  bool video;
};
}  // namespace

std::unique_ptr<WhepFanout> WhepFanout::attach(const std::shared_ptr<StreamPipeline>& pipeline, std::string& error) {
  if (!pipeline || pipeline->pipeline() == nullptr || pipeline->video_tee() == nullptr) {
    error = "the stream has no video";
    return nullptr;
  }
  std::unique_ptr<WhepFanout> f(new WhepFanout());
  f->pipeline_ = pipeline;
  f->pipeline_raw_ = pipeline.get();
  GstElement* bin = pipeline->pipeline();
  auto add = [&](const char* factory) {
    GstElement* e = add_element(bin, factory, nullptr, error);
    if (e != nullptr) f->elements_.push_back(e);
    return e;
  };
  auto sink_for = [&](bool video) {
    GstElement* sink = add("appsink");
    if (sink == nullptr) return sink;
    g_object_set(sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, "emit-signals", FALSE, nullptr);
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = [](GstAppSink* s, gpointer data) { return WhepFanout::on_sample(GST_ELEMENT(s), data); };
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, new SinkContext{f.get(), video},
                               [](gpointer d) { delete static_cast<SinkContext*>(d); });
    return sink;
  };
  // Leaky queues: a slow viewer never holds the HLS path up; what the branch cannot keep up
  // with is dropped here (the viewer's decoder then waits for the next keyframe).
  auto leaky = [](GstElement* q, guint64 ns) {
    if (q != nullptr)
      g_object_set(q, "leaky", 2, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time", ns, nullptr);
  };
  GstElement* vq = add("queue");
  GstElement* pay = add("rtph264pay");
  GstElement* vsink = sink_for(true);
  GstElement *aq = nullptr, *dec = nullptr, *conv = nullptr, *res = nullptr, *filter = nullptr, *enc = nullptr,
             *apay = nullptr, *asink = nullptr;
  if (pipeline->audio_tee() != nullptr) {
    aq = add("queue");
    dec = add("avdec_aac");
    conv = add("audioconvert");
    res = add("audioresample");
    filter = add("capsfilter");
    enc = add("opusenc");
    apay = add("rtpopuspay");
    asink = sink_for(false);
  }
  if (!error.empty()) return nullptr;  // the destructor removes what was added
  leaky(vq, 1'000'000'000);
  leaky(aq, 1'000'000'000);
  // SPS/PPS before every IDR, so a viewer who joins can start at the next one; the RTP
  // timestamps are the HLS path's PTS (see kWhepVideoRtpOffset).
  g_object_set(pay, "config-interval", -1, "pt", guint{kWhepVideoPayloadType}, "mtu", 1200u, "timestamp-offset",
               guint{kWhepVideoRtpOffset}, nullptr);
  gst_util_set_object_arg(G_OBJECT(pay), "aggregate-mode", "zero-latency");
  if (apay != nullptr) {
    GstCaps* caps = gst_caps_new_simple("audio/x-raw", "rate", G_TYPE_INT, 48000, "channels", G_TYPE_INT, 2, nullptr);
    g_object_set(filter, "caps", caps, nullptr);
    gst_caps_unref(caps);
    g_object_set(enc, "bitrate", 64000, nullptr);
    g_object_set(apay, "pt", guint{kWhepAudioPayloadType}, "mtu", 1200u, nullptr);
  }
  if (!gst_element_link_many(vq, pay, vsink, nullptr) ||
      (apay != nullptr && !gst_element_link_many(aq, dec, conv, res, filter, enc, apay, asink, nullptr))) {
    error = "cannot link the WebRTC branch";
    return nullptr;
  }
  f->video_sink_ = vsink;
  f->audio_sink_ = asink;
  for (auto it = f->elements_.rbegin(); it != f->elements_.rend(); ++it) gst_element_sync_state_with_parent(*it);
  auto tap = [&](GstElement* tee, GstElement* queue) {
    GstPad* pad = gst_element_request_pad_simple(tee, "src_%u");
    if (pad == nullptr) return false;
    f->tee_pads_.emplace_back(tee, pad);
    return link_pads(GST_PAD(gst_object_ref(pad)), gst_element_get_static_pad(queue, "sink"));
  };
  if (!tap(pipeline->video_tee(), vq) || (aq != nullptr && !tap(pipeline->audio_tee(), aq))) {
    error = "cannot link the WebRTC branch to the tees";
    return nullptr;
  }
  return f;
}

WhepFanout::~WhepFanout() {
  {
    std::lock_guard lock(mutex_);
    viewers_.clear();
  }
  auto pipeline = pipeline_.lock();
  if (!pipeline || pipeline->pipeline() == nullptr) return;
  // Unlinked first, so the tees push nothing more here (a push under way ends in the queue),
  // then stopped and removed; the stream's other branches go on.
  for (auto& [tee, pad] : tee_pads_) {
    if (GstPad* peer = gst_pad_get_peer(pad)) {
      gst_pad_unlink(pad, peer);
      gst_object_unref(peer);
    }
    gst_element_release_request_pad(tee, pad);
    gst_object_unref(pad);
  }
  for (GstElement* e : elements_) {
    gst_element_set_state(e, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(pipeline->pipeline()), e);
  }
}

GstFlowReturn WhepFanout::on_sample(GstElement* sink, gpointer data) {
  auto* ctx = static_cast<SinkContext*>(data);
  GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(sink));
  if (sample == nullptr) return GST_FLOW_EOS;
  ctx->fanout->deliver(sample, ctx->video);
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

void WhepFanout::deliver(GstSample* sample, bool video) {
  std::lock_guard lock(mutex_);
  auto each = [&](GstBuffer* packet) {
    for (const auto& v : viewers_) video ? v->push_video(packet) : v->push_audio(packet);
  };
  if (GstBufferList* list = gst_sample_get_buffer_list(sample)) {
    for (guint i = 0; i < gst_buffer_list_length(list); ++i) each(gst_buffer_list_get(list, i));
  } else if (GstBuffer* b = gst_sample_get_buffer(sample)) {
    each(b);
  }
}

void WhepFanout::add(const std::shared_ptr<WhepPeer>& viewer) {
  std::lock_guard lock(mutex_);
  viewers_.push_back(viewer);
}

void WhepFanout::remove(const WhepPeer* viewer) {
  std::lock_guard lock(mutex_);
  std::erase_if(viewers_, [viewer](const auto& v) { return v.get() == viewer; });
}

size_t WhepFanout::viewers() const {
  std::lock_guard lock(mutex_);
  return viewers_.size();
}

bool WhepFanout::attached_to(const StreamPipeline* pipeline) const {
  return pipeline == pipeline_raw_ && !pipeline_.expired();
}

}  // namespace harvest::media::webrtc

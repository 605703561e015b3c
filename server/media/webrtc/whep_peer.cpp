#include "media/webrtc/whep_peer.h"

#define GST_USE_UNSTABLE_API  // webrtc headers of GStreamer 1.22
#include <gst/app/gstappsrc.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <variant>

#include "core/clock.h"
#include "media/gst/gst_build.h"

namespace harvest::media::webrtc {

struct WhepPeer::State {
  GstElement* pipeline = nullptr;
  GstElement* webrtc = nullptr;
  GstElement* video_src = nullptr;  // borrowed (the pipeline holds them)
  GstElement* audio_src = nullptr;
  WhipPeerOptions options;
  WhepPeerEvents events;
  int video_pt = -1;
  int audio_pt = -1;
  std::atomic<bool> answered{false};
  std::atomic<bool> ended{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> video_open{false};  // an SPS went out: the viewer can decode from here
  std::atomic<int64_t> last_rtcp_ms{0};
  std::atomic<uint64_t> packets{0};
};

namespace {

using State = WhepPeer::State;

void on_answer_created(GstPromise* promise, gpointer data) {
  auto* s = static_cast<State*>(data);
  GstWebRTCSessionDescription* answer = nullptr;
  if (const GstStructure* reply = gst_promise_get_reply(promise))
    gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
  gst_promise_unref(promise);
  if (answer == nullptr) return fail_peer(s, "the offer could not be answered");
  g_signal_emit_by_name(s->webrtc, "set-local-description", answer, nullptr);
  gst_webrtc_session_description_free(answer);
  answer_when_gathered(s);
}

void on_offer_set(GstPromise* promise, gpointer data) {
  auto* s = static_cast<State*>(data);
  const GstStructure* reply = gst_promise_get_reply(promise);
  const bool refused = reply != nullptr && gst_structure_has_field(reply, "error");
  gst_promise_unref(promise);
  if (refused) return fail_peer(s, "webrtcbin refused the offer");
  g_signal_emit_by_name(s->webrtc, "create-answer", nullptr, gst_promise_new_with_change_func(on_answer_created, s, nullptr));
}

void on_gathering_changed(GstElement*, GParamSpec*, gpointer data) { answer_when_gathered(static_cast<State*>(data)); }

void on_ice_state_changed(GstElement* webrtc, GParamSpec*, gpointer data) {
  GstWebRTCICEConnectionState state;
  g_object_get(webrtc, "ice-connection-state", &state, nullptr);
  if (state == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED || state == GST_WEBRTC_ICE_CONNECTION_STATE_DISCONNECTED ||
      state == GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED)
    fail_peer(static_cast<State*>(data), "ICE connection lost");
}

// RTCP from the viewer (receiver reports, PLI/NACK) enters webrtcbin's rtpbin on its
// recv_rtcp_sink pads: the sign of life of a receiver, as RTP arriving is a publisher's.
GstPadProbeReturn on_rtcp(GstPad*, GstPadProbeInfo*, gpointer data) {
  static_cast<State*>(data)->last_rtcp_ms.store(steady_ms(), std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

void on_rtpbin_pad(GstElement*, GstPad* pad, gpointer data) {
  gchar* name = gst_pad_get_name(pad);
  if (g_str_has_prefix(name, "recv_rtcp_sink"))
    gst_pad_add_probe(pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      on_rtcp, data, nullptr);
  g_free(name);
}

// webrtcbin's rtpbin is made in webrtcbin's constructor; its RTCP pads are requested during
// negotiation, so watching pad-added catches every one.
void watch_rtcp(State* s) {
  for_each_element(s->webrtc, [s](GstElement* e, std::string_view factory) {
    if (factory != "rtpbin") return;
    g_signal_connect(e, "pad-added", G_CALLBACK(on_rtpbin_pad), s);
    GstIterator* pads = gst_element_iterate_sink_pads(e);
    GValue p = G_VALUE_INIT;
    while (gst_iterator_next(pads, &p) == GST_ITERATOR_OK) {
      on_rtpbin_pad(e, GST_PAD(g_value_get_object(&p)), s);
      g_value_reset(&p);
    }
    g_value_unset(&p);
    gst_iterator_free(pads);
  });
}

GstCaps* rtp_caps(const OfferedCodec& codec, const char* media) {
  GstCaps* caps = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, media, "encoding-name", G_TYPE_STRING,
                                      media[0] == 'v' ? "H264" : "OPUS", "clock-rate", G_TYPE_INT, codec.clock_rate,
                                      "payload", G_TYPE_INT, codec.payload_type, nullptr);
  // The offer's fmtp parameters, so webrtcbin matches this codec to the offered one.
  for (const char* key : {"packetization-mode", "profile-level-id", "level-asymmetry-allowed"}) {
    const std::string v = fmtp_value(codec.fmtp, key);
    if (!v.empty() && media[0] == 'v') gst_caps_set_simple(caps, key, G_TYPE_STRING, v.c_str(), nullptr);
  }
  if (media[0] == 'a') gst_caps_set_simple(caps, "encoding-params", G_TYPE_STRING, "2", nullptr);
  return caps;
}

// An appsrc feeding a sendonly transceiver of webrtcbin with `caps`.
GstElement* add_source(State* s, GstCaps* caps, std::string& error) {
  GstElement* src = gst_element_factory_make("appsrc", nullptr);
  if (src == nullptr) {
    error = "appsrc missing";
    gst_caps_unref(caps);
    return nullptr;
  }
  // Live, timestamped on arrival: the packets carry the ingest's media time in their RTP
  // timestamps already; the buffer times only drive RTCP sender reports. Leaky: a viewer whose
  // sending falls behind loses packets, never blocks the stream's other viewers.
  g_object_set(src, "is-live", TRUE, "do-timestamp", TRUE, "format", GST_FORMAT_TIME, "block", FALSE, "max-bytes",
               guint64{4} * 1024 * 1024, nullptr);
  gst_util_set_object_arg(G_OBJECT(src), "leaky-type", "downstream");
  gst_app_src_set_caps(GST_APP_SRC(src), caps);
  gst_bin_add(GST_BIN(s->pipeline), src);
  GstPadTemplate* templ = gst_element_get_pad_template(s->webrtc, "sink_%u");
  GstPad* sink = gst_element_request_pad(s->webrtc, templ, nullptr, caps);
  GstPad* out = gst_element_get_static_pad(src, "src");
  const bool linked = sink != nullptr && gst_pad_link(out, sink) == GST_PAD_LINK_OK;
  gst_object_unref(out);
  if (sink != nullptr) {
    GstWebRTCRTPTransceiver* trans = nullptr;
    g_object_get(sink, "transceiver", &trans, nullptr);
    if (trans != nullptr) {
      // The codec (payload type, fmtp) the answer gives this section: the offer's own.
      g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "codec-preferences", caps, nullptr);
      gst_object_unref(trans);
    }
    gst_object_unref(sink);
  }
  gst_caps_unref(caps);
  if (!linked) {
    error = "cannot link a source to webrtcbin";
    return nullptr;
  }
  return src;
}

// H.264 RTP payload (RFC 6184) carrying an SPS: a single NAL of type 7, or a STAP-A (24) with
// one among its NALs (rtph264pay aggregates SPS, PPS and what precedes the IDR; the SPS is not
// always first: a productcue SEI or an access unit delimiter may come before it).
bool carries_sps(GstBuffer* packet) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(packet, GST_MAP_READ, &rtp)) return false;
  const auto* p = static_cast<const uint8_t*>(gst_rtp_buffer_get_payload(&rtp));
  const guint n = gst_rtp_buffer_get_payload_len(&rtp);
  bool sps = false;
  if (n >= 1 && (p[0] & 0x1f) == 7) {
    sps = true;
  } else if (n >= 1 && (p[0] & 0x1f) == 24) {
    for (guint at = 1; at + 2 < n && !sps;) {
      const guint size = (guint{p[at]} << 8) | p[at + 1];
      if (size == 0 || at + 2 + size > n) break;
      sps = (p[at + 2] & 0x1f) == 7;
      at += 2 + size;
    }
  }
  gst_rtp_buffer_unmap(&rtp);
  return sps;
}

void push(State* s, GstElement* src, GstBuffer* packet, int pt) {
  if (s->stopping.load(std::memory_order_relaxed) || src == nullptr) return;
  GstBuffer* copy = nullptr;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  int packet_pt = -1;
  if (gst_rtp_buffer_map(packet, GST_MAP_READ, &rtp)) {
    packet_pt = gst_rtp_buffer_get_payload_type(&rtp);
    gst_rtp_buffer_unmap(&rtp);
  }
  if (packet_pt == pt) {
    copy = gst_buffer_copy(packet);  // shares the memory; only the times differ
  } else {
    copy = gst_buffer_copy_deep(packet);
    if (gst_rtp_buffer_map(copy, GST_MAP_WRITE, &rtp)) {
      gst_rtp_buffer_set_payload_type(&rtp, static_cast<guint8>(pt));
      gst_rtp_buffer_unmap(&rtp);
    }
  }
  GST_BUFFER_PTS(copy) = GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
  s->packets.fetch_add(1, std::memory_order_relaxed);
  gst_app_src_push_buffer(GST_APP_SRC(src), copy);
}

}  // namespace

WhepPeer::WhepPeer(std::unique_ptr<State> state) : state_(std::move(state)) {}

WhepPeer::~WhepPeer() {
  stop();
  gst_object_unref(state_->pipeline);
}

void WhepPeer::stop() {
  if (state_->stopping.exchange(true)) return;
  gst_element_set_state(state_->pipeline, GST_STATE_NULL);
}

void WhepPeer::push_video(GstBuffer* packet) {
  State* s = state_.get();
  if (!s->video_open.load(std::memory_order_relaxed)) {
    if (!carries_sps(packet)) return;
    s->video_open.store(true);
  }
  push(s, s->video_src, packet, s->video_pt);
}

void WhepPeer::push_audio(GstBuffer* packet) { push(state_.get(), state_->audio_src, packet, state_->audio_pt); }

int64_t WhepPeer::last_rtcp_ms() const { return state_->last_rtcp_ms.load(std::memory_order_relaxed); }
uint64_t WhepPeer::packets_sent() const { return state_->packets.load(std::memory_order_relaxed); }

std::shared_ptr<WhepPeer> WhepPeer::start(const std::string& offer_sdp, const PlaybackCodecs& codecs,
                                          const WhipPeerOptions& options, WhepPeerEvents events, std::string& error) {
  if (!codecs.video) {
    error = "the offer receives no H.264 (packetization-mode=1) video";
    return nullptr;
  }
  GstSDPMessage* sdp = nullptr;
  if (gst_sdp_message_new_from_text(offer_sdp.c_str(), &sdp) != GST_SDP_OK) {
    error = "the offer is not SDP GStreamer can read";
    return nullptr;
  }
  auto state = std::make_unique<State>();
  State* s = state.get();
  s->pipeline = gst_pipeline_new(nullptr);
  gst_object_ref_sink(s->pipeline);
  s->webrtc = gst_element_factory_make("webrtcbin", nullptr);
  if (s->webrtc == nullptr) {
    error = "webrtcbin missing";
    gst_sdp_message_free(sdp);
    gst_object_unref(s->pipeline);
    return nullptr;
  }
  gst_util_set_object_arg(G_OBJECT(s->webrtc), "bundle-policy", "max-bundle");
  gst_bin_add(GST_BIN(s->pipeline), s->webrtc);
  s->options = options;
  s->events = std::move(events);
  s->video_pt = codecs.video->payload_type;
  std::shared_ptr<WhepPeer> peer(new WhepPeer(std::move(state)));
  s->video_src = add_source(s, rtp_caps(*codecs.video, "video"), error);
  if (s->video_src != nullptr && codecs.audio) {
    s->audio_pt = codecs.audio->payload_type;
    s->audio_src = add_source(s, rtp_caps(*codecs.audio, "audio"), error);
  }
  if (!error.empty()) {
    gst_sdp_message_free(sdp);
    return nullptr;
  }
  configure_webrtcbin_ice(s->webrtc, s->options);
  watch_rtcp(s);
  g_signal_connect(s->webrtc, "notify::ice-gathering-state", G_CALLBACK(on_gathering_changed), s);
  g_signal_connect(s->webrtc, "notify::ice-connection-state", G_CALLBACK(on_ice_state_changed), s);
  if (gst_element_set_state(s->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    error = "the WebRTC pipeline did not start";
    gst_sdp_message_free(sdp);
    return nullptr;
  }
  GstWebRTCSessionDescription* offer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  g_signal_emit_by_name(s->webrtc, "set-remote-description", offer, gst_promise_new_with_change_func(on_offer_set, s, nullptr));
  gst_webrtc_session_description_free(offer);
  return peer;
}

}  // namespace harvest::media::webrtc

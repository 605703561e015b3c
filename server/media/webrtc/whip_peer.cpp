#include "media/webrtc/whip_peer.h"

#define GST_USE_UNSTABLE_API  // webrtc headers of GStreamer 1.22
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <variant>

#include "core/clock.h"
#include "media/gst/gst_build.h"

namespace harvest::media::webrtc {

namespace {

// Packets passing one point of the receive path, and when the last one did: three such points
// (UDP in, RTP after SRTP, RTP out of webrtcbin) say where a session's media stopped.
struct Flow {
  std::atomic<uint64_t> packets{0};
  std::atomic<int64_t> last_ms{0};  // steady_ms(); 0: none yet

  void count(uint64_t n) {
    packets.fetch_add(n, std::memory_order_relaxed);
    last_ms.store(steady_ms(), std::memory_order_relaxed);
  }
  // "812 (0.1 s ago)", "0".
  std::string describe(int64_t now) const {
    const uint64_t n = packets.load(std::memory_order_relaxed);
    const int64_t last = last_ms.load(std::memory_order_relaxed);
    if (n == 0 || last == 0) return "0";
    const int64_t ago = now - last;
    return std::to_string(n) + " (" + std::to_string(ago / 1000) + "." + std::to_string(ago % 1000 / 100) + " s ago)";
  }
};

GstPadProbeReturn count_flow(GstPad*, GstPadProbeInfo* info, gpointer data) {
  static_cast<Flow*>(data)->count(buffers_in(info));
  return GST_PAD_PROBE_OK;
}

void watch_flow(GstPad* pad, Flow* flow) {
  gst_pad_add_probe(pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    count_flow, flow, nullptr);
}

// Asks the publisher for keyframes. A browser encodes a keyframe when its video starts and
// after that only when the receiver asks (RTCP PLI/FIR), whereas the HLS writer can cut a
// segment only at a keyframe and a player can only start playing at one: without requests the
// passthrough rendition gets one endless segment, and a viewer who joins late sees nothing.
// So the server asks when the video starts (the first keyframe may have been lost while DTLS
// was still setting up), and when `interval` passed without one (the HLS segment length).
// Packet loss is the depayloader's business (request-keyframe=true in branch_for).
//
// The request is an upstream GstForceKeyUnit event: rtpsession inside webrtcbin turns it into
// a PLI (or FIR) for the publisher's SSRC, as the negotiated rtcp-fb allows.
struct KeyframeRequests {
  using Clock = std::chrono::steady_clock;
  Clock::duration interval;
  std::optional<Clock::time_point> last_keyframe;
  std::optional<Clock::time_point> last_request;
};

// gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0), written out so
// the server does not link gstreamer-video for one event.
GstEvent* upstream_force_key_unit() {
  return gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM,
                              gst_structure_new("GstForceKeyUnit", "running-time", GST_TYPE_CLOCK_TIME, GST_CLOCK_TIME_NONE,
                                                "all-headers", G_TYPE_BOOLEAN, TRUE, "count", G_TYPE_UINT, 0u, nullptr));
}

// On the depayloader's src pad: one buffer is one access unit (H.264) or frame (VP8); a buffer
// without DELTA_UNIT is a keyframe. Streaming thread only.
GstPadProbeReturn on_video_frame(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* k = static_cast<KeyframeRequests*>(data);
  const GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  const auto now = KeyframeRequests::Clock::now();
  if (!GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) {
    k->last_keyframe = now;
    return GST_PAD_PROBE_OK;
  }
  const bool periodic = k->interval > KeyframeRequests::Clock::duration::zero();
  const bool due = !k->last_keyframe || (periodic && now - *k->last_keyframe >= k->interval);
  // The answer takes a round trip plus the encoder's time: asking on every frame meanwhile
  // would only add RTCP (and Chromium ignores PLIs that come too close together).
  const auto patience = periodic ? std::min<KeyframeRequests::Clock::duration>(k->interval, std::chrono::seconds(1))
                                 : std::chrono::seconds(1);
  if (!due || (k->last_request && now - *k->last_request < patience)) return GST_PAD_PROBE_OK;
  k->last_request = now;
  gst_pad_send_event(pad, upstream_force_key_unit());
  return GST_PAD_PROBE_OK;
}

}  // namespace

struct WhipPeer::State {
  GstElement* pipeline = nullptr;
  GstElement* webrtc = nullptr;
  GstElement* mux = nullptr;
  GstPad* mux_video = nullptr;  // requested up front: the muxer then knows both tracks from the start
  GstPad* mux_audio = nullptr;
  WhipPeerOptions options;
  WhipPeerEvents events;
  SdpOffer offer;  // what the publisher offered (parse_offer), for amending the answer
  KeyframeRequests keyframes;  // the video track's; touched only by its streaming thread
  std::atomic<bool> answered{false};
  std::atomic<bool> ended{false};  // failed or lost was delivered
  std::atomic<bool> stopping{false};
  std::atomic<int> tracks{0};  // source pads webrtcbin added (one per track whose RTP came through)
  Flow arrived;    // datagrams from the publisher's address (STUN, DTLS, SRTP): nicesrc's output
  Flow decrypted;  // RTP after SRTP (dtlssrtpdec's rtp_src)
  Flow delivered;  // RTP out of webrtcbin, every track
  GstClockTime last_video_pts = GST_CLOCK_TIME_NONE;  // the video branch's streaming thread only
};

namespace {

using State = WhipPeer::State;

void on_answer_created(GstPromise* promise, gpointer data) {
  auto* s = static_cast<State*>(data);
  GstWebRTCSessionDescription* answer = nullptr;
  if (const GstStructure* reply = gst_promise_get_reply(promise))
    gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
  gst_promise_unref(promise);
  if (answer == nullptr) return fail_peer(s, "the offer could not be answered");
  // The answer goes back through text to accept transport-wide congestion control, which
  // webrtcbin leaves out (see accept_transport_cc): the local description then has the
  // extension, so rtpsession answers the browser's packets with transport-cc feedback and the
  // browser's bandwidth estimate can climb past its start rate.
  gchar* text = gst_sdp_message_as_text(answer->sdp);
  const std::string amended = accept_transport_cc(text, s->offer);
  g_free(text);
  gst_webrtc_session_description_free(answer);
  GstSDPMessage* sdp = nullptr;
  if (gst_sdp_message_new_from_text(amended.c_str(), &sdp) != GST_SDP_OK) return fail_peer(s, "the answer could not be amended");
  answer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  g_signal_emit_by_name(s->webrtc, "set-local-description", answer, nullptr);
  gst_webrtc_session_description_free(answer);
  answer_when_gathered(s);
}

// The offer set, webrtcbin holds its transport (bundled: one): count what its ICE source and
// its SRTP decoder pass on (State::arrived, State::decrypted).
void watch_transport(State* s) {
  for_each_element(s->webrtc, [s](GstElement* element, std::string_view factory) {
    const bool ice = factory == "nicesrc";
    if (!ice && factory != "dtlssrtpdec") return;
    if (GstPad* pad = gst_element_get_static_pad(element, ice ? "src" : "rtp_src")) {
      watch_flow(pad, ice ? &s->arrived : &s->decrypted);
      gst_object_unref(pad);
    }
  });
}

void on_offer_set(GstPromise* promise, gpointer data) {
  auto* s = static_cast<State*>(data);
  const GstStructure* reply = gst_promise_get_reply(promise);
  const bool refused = reply != nullptr && gst_structure_has_field(reply, "error");
  gst_promise_unref(promise);
  if (refused) return fail_peer(s, "webrtcbin refused the offer");
  watch_transport(s);
  g_signal_emit_by_name(s->webrtc, "create-answer", nullptr,
                        gst_promise_new_with_change_func(on_answer_created, s, nullptr));
}

void on_gathering_changed(GstElement*, GParamSpec*, gpointer data) { answer_when_gathered(static_cast<State*>(data)); }

void on_ice_state_changed(GstElement* webrtc, GParamSpec*, gpointer data) {
  GstWebRTCICEConnectionState state;
  g_object_get(webrtc, "ice-connection-state", &state, nullptr);
  // "disconnected" is what consent freshness (RFC 7675) reports when the browser stops
  // answering; libnice may still recover from it, but a WHIP publisher that went quiet is ended
  // here and reconnects (the stream's grace period keeps its playlist).
  if (state == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED || state == GST_WEBRTC_ICE_CONNECTION_STATE_DISCONNECTED ||
      state == GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED)
    fail_peer(static_cast<State*>(data), "ICE connection lost");
}

// The depayload and decode chain for one arriving track, ending in a parser the muxer takes.
// Video depayloaders are named "depay" (on_pad_added watches their keyframes). After packet
// loss they drop frames until the next keyframe, which they request at once: a broken picture
// would otherwise reach HLS and stay until the next keyframe.
const char* branch_for(const std::string& encoding) {
  if (encoding == "H264")
    return "rtph264depay name=depay request-keyframe=true wait-for-keyframe=true ! h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au ! queue";
  if (encoding == "VP8")
    return "rtpvp8depay name=depay request-keyframe=true wait-for-keyframe=true ! vp8dec ! videoconvert ! "
           "videocrop name=even ! queue max-size-buffers=3 leaky=downstream ! "
           "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! "
           "video/x-h264,profile=constrained-baseline ! h264parse config-interval=-1 ! queue";
  if (encoding == "OPUS")
    return "rtpopusdepay ! opusdec ! audioconvert ! audioresample ! avenc_aac ! aacparse ! queue";
  return nullptr;
}

// Reports the RTP leaving webrtcbin on one of its source pads (Events::rtp).
GstPadProbeReturn on_rtp(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* s = static_cast<State*>(data);
  size_t bytes = 0;
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    bytes = gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info));
  } else if (GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info)) {
    for (guint i = 0; i < gst_buffer_list_length(list); ++i) bytes += gst_buffer_get_size(gst_buffer_list_get(list, i));
  }
  s->delivered.count(buffers_in(info));
  if (!s->stopping && s->events.rtp) s->events.rtp(bytes);
  return GST_PAD_PROBE_OK;
}

// Some H.264 access units leave the depayloader without a timestamp (13 in 6 s of a 720p
// webrtcbin sender, the first one the second frame). mpegtsmux cannot place such a buffer and
// stops taking that pad: beside an audio track the video stalls after its first frame (with video
// alone the muxer goes on). Such a buffer takes the last timestamp seen; the timestamp repair
// after the demuxer keeps the track monotonic.
GstPadProbeReturn stamp_untimed_video(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* s = static_cast<State*>(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (buffer == nullptr) return GST_PAD_PROBE_OK;
  if (GST_BUFFER_PTS_IS_VALID(buffer)) {
    s->last_video_pts = GST_BUFFER_PTS(buffer);
    return GST_PAD_PROBE_OK;
  }
  if (!GST_CLOCK_TIME_IS_VALID(s->last_video_pts)) return GST_PAD_PROBE_DROP;  // nothing to go by yet
  buffer = gst_buffer_make_writable(buffer);
  GST_BUFFER_PTS(buffer) = s->last_video_pts;
  GST_PAD_PROBE_INFO_DATA(info) = buffer;
  return GST_PAD_PROBE_OK;
}

void on_pad_added(GstElement*, GstPad* pad, gpointer data) {
  auto* s = static_cast<State*>(data);
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
  s->tracks.fetch_add(1);
  gst_pad_add_probe(pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    on_rtp, s, nullptr);
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (caps == nullptr) return;
  const GstStructure* st = gst_caps_get_structure(caps, 0);
  const char* encoding_c = gst_structure_get_string(st, "encoding-name");
  const std::string encoding = encoding_c != nullptr ? encoding_c : "";
  gst_caps_unref(caps);
  const char* chain = branch_for(encoding);
  const bool video = encoding == "H264" || encoding == "VP8";
  GstPad* mux_pad = video ? s->mux_video : s->mux_audio;
  if (chain == nullptr || mux_pad == nullptr || gst_pad_is_linked(mux_pad) || s->options.discard_media) {
    // A track we did not choose (a second video, RED, ...): drained so it blocks nothing.
    chain = "fakesink sync=false async=false";
    mux_pad = nullptr;
  }
  GError* err = nullptr;
  GstElement* branch = gst_parse_bin_from_description(chain, TRUE, &err);
  if (branch == nullptr) {
    fail_peer(s, std::string("cannot build the ") + encoding + " branch: " + (err ? err->message : "?"));
    g_clear_error(&err);
    return;
  }
  if (GstElement* even = gst_bin_get_by_name(GST_BIN(branch), "even")) {
    crop_to_even(even);  // VP8 may be odd-sized, x264 is not
    gst_object_unref(even);
  }
  if (mux_pad != nullptr && video) {
    if (GstElement* depay = gst_bin_get_by_name(GST_BIN(branch), "depay")) {
      GstPad* out = gst_element_get_static_pad(depay, "src");
      gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER, on_video_frame, &s->keyframes, nullptr);
      gst_object_unref(out);
      gst_object_unref(depay);
    }
  }
  gst_bin_add(GST_BIN(s->pipeline), branch);
  gst_element_sync_state_with_parent(branch);
  GstPad* sink = gst_element_get_static_pad(branch, "sink");
  gst_pad_link(pad, sink);
  gst_object_unref(sink);
  if (mux_pad != nullptr) {
    GstPad* src = gst_element_get_static_pad(branch, "src");
    if (video) gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, stamp_untimed_video, s, nullptr);
    gst_pad_link(src, mux_pad);
    gst_object_unref(src);
  }
}

// An element that fails (an encoder refusing the size it is given, say) stops the media for
// good while ICE and DTLS carry on: the session ends at once with the element's words rather
// than after WhipIngest::kMaxSilence. Nothing else reads this bus, so every message is dropped.
GstBusSyncReply on_bus_message(GstBus*, GstMessage* message, gpointer data) {
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    GError* err = nullptr;
    gst_message_parse_error(message, &err, nullptr);
    fail_peer(static_cast<State*>(data), std::string("media error in ") + GST_OBJECT_NAME(GST_MESSAGE_SRC(message)) +
                                             ": " + (err != nullptr ? err->message : "?"));
    g_clear_error(&err);
  }
  return GST_BUS_DROP;
}

GstFlowReturn on_ts(GstAppSink* sink, gpointer data) {
  auto* s = static_cast<State*>(data);
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (sample == nullptr) return GST_FLOW_EOS;
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  GstMapInfo map;
  if (buffer != nullptr && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    if (!s->stopping && s->events.ts) s->events.ts(map.data, map.size);
    gst_buffer_unmap(buffer, &map);
  }
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

// libnice tries UPnP port mappings by default: a server has no router to ask (its public
// address comes from --webrtc-public-ip), and the discovery runs a thread of its own and can
// hold candidate gathering, so the answer, back under load.
void disable_upnp(GstElement* webrtc) {
  GObject* ice = nullptr;
  g_object_get(webrtc, "ice-agent", &ice, nullptr);
  if (ice == nullptr) return;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent") != nullptr) {
    GObject* agent = nullptr;
    g_object_get(ice, "agent", &agent, nullptr);
    if (agent != nullptr) {
      if (g_object_class_find_property(G_OBJECT_GET_CLASS(agent), "upnp") != nullptr)
        g_object_set(agent, "upnp", FALSE, nullptr);
      g_object_unref(agent);
    }
  }
  g_object_unref(ice);
}

void configure_ice(State* s) { configure_webrtcbin_ice(s->webrtc, s->options); }

}  // namespace

std::optional<std::string> gathered_local_description(GstElement* webrtc, const WhipPeerOptions& options) {
  GstWebRTCICEGatheringState gathering;
  g_object_get(webrtc, "ice-gathering-state", &gathering, nullptr);
  if (gathering != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) return std::nullopt;
  GstWebRTCSessionDescription* local = nullptr;
  g_object_get(webrtc, "local-description", &local, nullptr);
  if (local == nullptr) return std::nullopt;
  gchar* text = gst_sdp_message_as_text(local->sdp);
  std::string sdp = text;
  g_free(text);
  gst_webrtc_session_description_free(local);
  if (!options.public_address.empty()) sdp = advertise_address(sdp, options.public_address);
  return sdp;
}

void configure_webrtcbin_ice(GstElement* webrtc, const WhipPeerOptions& options) {
  disable_upnp(webrtc);
  if (!options.stun_server.empty()) g_object_set(webrtc, "stun-server", options.stun_server.c_str(), nullptr);
  if (!options.turn_server.empty()) g_object_set(webrtc, "turn-server", options.turn_server.c_str(), nullptr);
  if (options.min_port == 0) return;
  GstObject* agent = nullptr;
  g_object_get(webrtc, "ice-agent", &agent, nullptr);
  if (agent == nullptr) return;
  g_object_set(agent, "min-rtp-port", static_cast<guint>(options.min_port), "max-rtp-port",
               static_cast<guint>(options.max_port), nullptr);
  gst_object_unref(agent);
}

WhipPeer::WhipPeer(std::unique_ptr<State> state) : state_(std::move(state)) {}

WhipPeer::~WhipPeer() {
  state_->stopping = true;
  gst_element_set_state(state_->pipeline, GST_STATE_NULL);
  if (state_->mux_video != nullptr) gst_object_unref(state_->mux_video);
  if (state_->mux_audio != nullptr) gst_object_unref(state_->mux_audio);
  gst_object_unref(state_->pipeline);
}

std::string WhipPeer::transport_summary() const {
  GstWebRTCICEConnectionState ice = GST_WEBRTC_ICE_CONNECTION_STATE_NEW;
  g_object_get(state_->webrtc, "ice-connection-state", &ice, nullptr);
  // Bundled: every transceiver shares the first one's DTLS transport.
  GstWebRTCDTLSTransportState dtls = GST_WEBRTC_DTLS_TRANSPORT_STATE_NEW;
  GstWebRTCRTPTransceiver* transceiver = nullptr;
  g_signal_emit_by_name(state_->webrtc, "get-transceiver", 0, &transceiver);
  if (transceiver != nullptr) {
    GstWebRTCRTPReceiver* receiver = nullptr;
    g_object_get(transceiver, "receiver", &receiver, nullptr);
    if (receiver != nullptr) {
      GstWebRTCDTLSTransport* transport = nullptr;
      g_object_get(receiver, "transport", &transport, nullptr);
      if (transport != nullptr) {
        g_object_get(transport, "state", &dtls, nullptr);
        gst_object_unref(transport);
      }
      gst_object_unref(receiver);
    }
    gst_object_unref(transceiver);
  }
  // The enums' values in order (gstwebrtc's GstWebRTCICEConnectionState, ...DTLSTransportState).
  static constexpr std::array<const char*, 7> kIce = {"new", "checking", "connected", "completed", "failed",
                                                      "disconnected", "closed"};
  static constexpr std::array<const char*, 5> kDtls = {"new", "closed", "failed", "connecting", "connected"};
  const auto name = [](const auto& names, int v) {
    return v >= 0 && static_cast<size_t>(v) < names.size() ? names[static_cast<size_t>(v)] : "?";
  };
  const int64_t now = steady_ms();
  return std::string("ice ") + name(kIce, ice) + ", dtls " + name(kDtls, dtls) + ", tracks " +
         std::to_string(state_->tracks.load()) + ", packets in " + state_->arrived.describe(now) + ", decrypted " +
         state_->decrypted.describe(now) + ", out " + state_->delivered.describe(now);
}

std::unique_ptr<WhipPeer> WhipPeer::start(const std::string& offer_sdp, const IngestCodecs& codecs,
                                          const WhipPeerOptions& options, WhipPeerEvents events, std::string& error) {
  if (!codecs.video && !codecs.audio) {
    error = "the offer has no codec this server ingests (H.264, VP8 or Opus)";
    return nullptr;
  }
  auto parsed = parse_offer(offer_sdp);
  if (const auto* reason = std::get_if<std::string>(&parsed)) {
    error = *reason;
    return nullptr;
  }
  GstSDPMessage* sdp = nullptr;
  if (gst_sdp_message_new_from_text(offer_sdp.c_str(), &sdp) != GST_SDP_OK) {
    error = "the offer is not SDP GStreamer can read";
    return nullptr;
  }
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(
      "webrtcbin name=webrtc bundle-policy=max-bundle mpegtsmux name=mux alignment=7 ! "
      "appsink name=out sync=false emit-signals=false",
      &err);
  if (pipeline == nullptr) {
    error = std::string("cannot build the WebRTC pipeline: ") + (err ? err->message : "?");
    g_clear_error(&err);
    gst_sdp_message_free(sdp);
    return nullptr;
  }
  auto state = std::make_unique<State>();
  State* s = state.get();
  s->pipeline = pipeline;
  s->options = options;
  s->events = std::move(events);
  s->keyframes.interval = options.keyframe_interval;
  s->offer = std::move(std::get<SdpOffer>(parsed));
  s->webrtc = gst_bin_get_by_name(GST_BIN(pipeline), "webrtc");
  s->mux = gst_bin_get_by_name(GST_BIN(pipeline), "mux");
  gst_object_unref(s->webrtc);  // the pipeline holds them; these are borrowed from here on
  gst_object_unref(s->mux);
  if (codecs.video) s->mux_video = gst_element_request_pad_simple(s->mux, "sink_%d");
  if (codecs.audio) s->mux_audio = gst_element_request_pad_simple(s->mux, "sink_%d");

  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = on_ts;
  GstElement* out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
  gst_app_sink_set_callbacks(GST_APP_SINK(out), &callbacks, s, nullptr);
  gst_object_unref(out);

  configure_ice(s);
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(bus, on_bus_message, s, nullptr);
  gst_object_unref(bus);
  g_signal_connect(s->webrtc, "pad-added", G_CALLBACK(on_pad_added), s);
  g_signal_connect(s->webrtc, "notify::ice-gathering-state", G_CALLBACK(on_gathering_changed), s);
  g_signal_connect(s->webrtc, "notify::ice-connection-state", G_CALLBACK(on_ice_state_changed), s);

  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    error = "the WebRTC pipeline did not start";
    gst_sdp_message_free(sdp);
    WhipPeer stopped(std::move(state));  // its destructor takes the pipeline down
    return nullptr;
  }
  GstWebRTCSessionDescription* offer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  g_signal_emit_by_name(s->webrtc, "set-remote-description", offer,
                        gst_promise_new_with_change_func(on_offer_set, s, nullptr));
  gst_webrtc_session_description_free(offer);
  return std::unique_ptr<WhipPeer>(new WhipPeer(std::move(state)));
}

}  // namespace harvest::media::webrtc

#pragma once
// A WebRTC publisher for the WHIP tests: GStreamer's own webrtcbin sending a test pattern
// (encoded by `video_chain`, ending in an RTP payloader with its caps; empty: no video) and, with
// `audio`, an Opus tone over real ICE/DTLS/SRTP, as a browser would. offer() is empty until every
// candidate is gathered; take_answer() completes the exchange. stop_media() makes it a publisher
// that went silent without leaving: no more RTP, while its ICE agent still answers checks.
#include <gst/gst.h>
#define GST_USE_UNSTABLE_API
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <catch2/catch.hpp>
#include <mutex>
#include <string>

namespace harvest::test {

// A phone-like H.264 track for WebRtcSender: constrained baseline, a keyframe a second.
inline const char* const kSenderH264 =
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! video/x-h264,profile=constrained-baseline ! "
    "rtph264pay pt=102 config-interval=-1 ! application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000";

class WebRtcSender {
public:
  // The test pattern is `width`×`height` (portrait by default) until resize().
  WebRtcSender(const std::string& video_chain, bool audio, int width = 360, int height = 640) {
    std::string desc = "webrtcbin name=send bundle-policy=max-bundle ";
    if (!video_chain.empty())
      desc += "videotestsrc is-live=true ! videoscale ! capsfilter name=size caps=" + raw_caps(width, height) +
              " ! queue ! " + video_chain + " ! valve name=video_gate ! queue ! send. ";
    if (audio)
      desc += "audiotestsrc is-live=true ! audioconvert ! audioresample ! opusenc ! rtpopuspay pt=111 ! "
              "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! "
              "valve name=audio_gate ! queue ! send.";
    GError* err = nullptr;
    pipeline_ = gst_parse_launch(desc.c_str(), &err);
    INFO((err != nullptr ? err->message : ""));
    REQUIRE(pipeline_ != nullptr);
    webrtc_ = gst_bin_get_by_name(GST_BIN(pipeline_), "send");
    g_signal_connect(webrtc_, "on-negotiation-needed", G_CALLBACK(on_negotiation_needed), this);
    g_signal_connect(webrtc_, "notify::ice-gathering-state", G_CALLBACK(on_gathering), this);
    gst_element_set_state(pipeline_, GST_STATE_PLAYING);
  }
  ~WebRtcSender() {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(webrtc_);
    gst_object_unref(pipeline_);
  }
  std::string offer() {
    std::lock_guard lock(mutex_);
    return offer_;
  }
  // The camera's size changes mid-stream, as a page stepping its resolution down does.
  void resize(int width, int height) {
    GstElement* size = gst_bin_get_by_name(GST_BIN(pipeline_), "size");
    REQUIRE(size != nullptr);
    GstCaps* caps = gst_caps_from_string(raw_caps(width, height).c_str());
    g_object_set(size, "caps", caps, nullptr);
    gst_caps_unref(caps);
    gst_object_unref(size);
  }
  void stop_media() {
    for (const char* name : {"video_gate", "audio_gate"}) {
      if (GstElement* gate = gst_bin_get_by_name(GST_BIN(pipeline_), name)) {
        g_object_set(gate, "drop", TRUE, nullptr);
        gst_object_unref(gate);
      }
    }
  }
  void take_answer(const std::string& text) {
    GstSDPMessage* sdp = nullptr;
    gst_sdp_message_new_from_text(text.c_str(), &sdp);
    GstWebRTCSessionDescription* answer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
    g_signal_emit_by_name(webrtc_, "set-remote-description", answer, nullptr);
    gst_webrtc_session_description_free(answer);
  }

private:
  static std::string raw_caps(int width, int height) {
    return "video/x-raw,width=" + std::to_string(width) + ",height=" + std::to_string(height) + ",framerate=30/1";
  }
  static void on_negotiation_needed(GstElement* webrtc, gpointer) {
    g_signal_emit_by_name(webrtc, "create-offer", nullptr,
                          gst_promise_new_with_change_func(on_offer_created, webrtc, nullptr));
  }
  static void on_offer_created(GstPromise* promise, gpointer webrtc) {
    GstWebRTCSessionDescription* offer = nullptr;
    gst_structure_get(gst_promise_get_reply(promise), "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
    gst_promise_unref(promise);
    g_signal_emit_by_name(static_cast<GstElement*>(webrtc), "set-local-description", offer, nullptr);
    gst_webrtc_session_description_free(offer);
  }
  static void on_gathering(GstElement* webrtc, GParamSpec*, gpointer data) {
    GstWebRTCICEGatheringState state;
    g_object_get(webrtc, "ice-gathering-state", &state, nullptr);
    if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) return;
    GstWebRTCSessionDescription* local = nullptr;
    g_object_get(webrtc, "local-description", &local, nullptr);
    if (local == nullptr) return;
    gchar* text = gst_sdp_message_as_text(local->sdp);
    auto* self = static_cast<WebRtcSender*>(data);
    {
      std::lock_guard lock(self->mutex_);
      self->offer_ = text;
    }
    g_free(text);
    gst_webrtc_session_description_free(local);
  }

  GstElement* pipeline_ = nullptr;
  GstElement* webrtc_ = nullptr;
  std::mutex mutex_;
  std::string offer_;
};


}  // namespace harvest::test

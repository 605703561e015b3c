// A WHIP publisher for bench/webrtc/run.py: GStreamer's webrtcbin sending a test pattern and a
// tone, as a browser would, with the HTTP exchange left to the caller so this program needs no
// HTTP client:
//
//   bench_whip_publisher h264|vp8 [--width W] [--height H] [--fps N] [--kbps N] [--no-audio]
//
// Prints the SDP offer (every candidate gathered) on stdout followed by a line ".", reads the
// SDP answer from stdin up to a line ".", then publishes until stdin closes (or SIGTERM).
#define GST_USE_UNSTABLE_API  // webrtc headers of GStreamer 1.22
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>

namespace {

struct Offer {
  std::mutex mutex;
  std::condition_variable ready;
  std::string sdp;
};

void on_offer_created(GstPromise* promise, gpointer webrtc) {
  GstWebRTCSessionDescription* offer = nullptr;
  gst_structure_get(gst_promise_get_reply(promise), "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
  gst_promise_unref(promise);
  g_signal_emit_by_name(static_cast<GstElement*>(webrtc), "set-local-description", offer, nullptr);
  gst_webrtc_session_description_free(offer);
}

void on_negotiation_needed(GstElement* webrtc, gpointer) {
  g_signal_emit_by_name(webrtc, "create-offer", nullptr,
                        gst_promise_new_with_change_func(on_offer_created, webrtc, nullptr));
}

// No trickle ICE in WHIP here: the offer goes out once gathering is complete.
void on_gathering(GstElement* webrtc, GParamSpec*, gpointer data) {
  GstWebRTCICEGatheringState state;
  g_object_get(webrtc, "ice-gathering-state", &state, nullptr);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) return;
  GstWebRTCSessionDescription* local = nullptr;
  g_object_get(webrtc, "local-description", &local, nullptr);
  if (local == nullptr) return;
  gchar* text = gst_sdp_message_as_text(local->sdp);
  auto* offer = static_cast<Offer*>(data);
  {
    std::lock_guard lock(offer->mutex);
    offer->sdp = text;
  }
  offer->ready.notify_all();
  g_free(text);
  gst_webrtc_session_description_free(local);
}

std::string video_chain(const std::string& codec, int kbps, int fps) {
  // A keyframe a second, like the RTMP publisher of the benchmark (ffmpeg -g FPS).
  const std::string gop = std::to_string(fps);
  if (codec == "vp8")
    return "vp8enc deadline=1 cpu-used=8 end-usage=cbr target-bitrate=" + std::to_string(kbps * 1000) +
           " keyframe-max-dist=" + gop +
           " ! rtpvp8pay pt=96 ! application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000";
  return "x264enc tune=zerolatency speed-preset=ultrafast bitrate=" + std::to_string(kbps) + " key-int-max=" + gop +
         " ! video/x-h264,profile=constrained-baseline ! rtph264pay pt=102 config-interval=-1 ! "
         "application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000";
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc < 2 || (std::string(argv[1]) != "h264" && std::string(argv[1]) != "vp8")) {
    std::fprintf(stderr, "usage: %s h264|vp8 [--width W] [--height H] [--fps N] [--kbps N] [--no-audio]\n", argv[0]);
    return 2;
  }
  const std::string codec = argv[1];
  int width = 1280, height = 720, fps = 30, kbps = 2000;
  bool audio = true;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::stoi(argv[++i]) : 0; };
    if (a == "--width") width = next();
    else if (a == "--height") height = next();
    else if (a == "--fps") fps = next();
    else if (a == "--kbps") kbps = next();
    else if (a == "--no-audio") audio = false;
  }

  std::string desc = "webrtcbin name=send bundle-policy=max-bundle videotestsrc is-live=true ! video/x-raw,width=" +
                     std::to_string(width) + ",height=" + std::to_string(height) + ",framerate=" +
                     std::to_string(fps) + "/1 ! queue ! " + video_chain(codec, kbps, fps) + " ! queue ! send. ";
  if (audio)
    desc += "audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! opusenc ! "
            "rtpopuspay pt=111 ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! "
            "queue ! send.";
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(desc.c_str(), &err);
  if (pipeline == nullptr) {
    std::fprintf(stderr, "cannot build the sender: %s\n", err != nullptr ? err->message : "?");
    return 1;
  }
  GstElement* webrtc = gst_bin_get_by_name(GST_BIN(pipeline), "send");
  Offer offer;
  g_signal_connect(webrtc, "on-negotiation-needed", G_CALLBACK(on_negotiation_needed), nullptr);
  g_signal_connect(webrtc, "notify::ice-gathering-state", G_CALLBACK(on_gathering), &offer);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);

  {
    std::unique_lock lock(offer.mutex);
    offer.ready.wait(lock, [&] { return !offer.sdp.empty(); });
    std::cout << offer.sdp << (offer.sdp.back() == '\n' ? "" : "\n") << ".\n" << std::flush;
  }
  std::string answer, line;
  while (std::getline(std::cin, line) && line != "." && line != ".\r") answer += line + "\n";
  GstSDPMessage* sdp = nullptr;
  if (answer.empty() || gst_sdp_message_new_from_text(answer.c_str(), &sdp) != GST_SDP_OK) {
    std::fprintf(stderr, "no SDP answer on stdin\n");
    return 1;
  }
  GstWebRTCSessionDescription* remote = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  g_signal_emit_by_name(webrtc, "set-remote-description", remote, nullptr);
  gst_webrtc_session_description_free(remote);

  while (std::getline(std::cin, line)) {
  }  // publishing until the caller closes stdin
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(webrtc);
  gst_object_unref(pipeline);
  return 0;
}

#pragma once
// The "webrtc branch" of one publisher's StreamPipeline: what every WHEP viewer of the stream
// shares, built with the first viewer and taken down with the last.
//
//   video_tee ─► queue(leaky) ─► rtph264pay(config-interval=-1) ─► appsink ─┐  (H.264: never re-encoded)
//   audio_tee ─► queue(leaky) ─► avdec_aac ─► opusenc ─► rtpopuspay ─► appsink ─┼─► each viewer's WhepPeer
//                                                                                │   (push_video / push_audio)
// One payloader and one Opus encoder per stream, however many viewers: a viewer costs its own
// SRTP and UDP sends only (webrtcbin per viewer). The RTP packets are handed to every viewer from
// the appsinks' streaming threads.
//
// RTP timestamps are the MPEG-TS PTS the HLS path carries (running time + 1 h, 90 kHz, taken mod
// 2^32): card.shown's `pts` (seconds) names the frame over WHEP too, through the
// `rtpTimestamp` the browser reports for each frame it shows (requestVideoFrameCallback).
//
// Keyframes: the publisher decides its GOP (passthrough: there is no encoder here to ask), so a
// new viewer's picture starts with the next IDR: each viewer gets video only from an RTP packet
// that carries an SPS (config-interval=-1 repeats SPS/PPS before every IDR). Wait ≤ one GOP.
//
// Threads: attach/add/remove/detach on the loop thread; the viewers' push_* run on GStreamer's.
#include <gst/gst.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace harvest::media {
class StreamPipeline;
}

namespace harvest::media::webrtc {

class WhepPeer;

// 1 h in 90 kHz, as mpegtsmux and our TsMuxer offset PTS (see pts_seconds_of_running_time).
inline constexpr uint32_t kWhepVideoRtpOffset = 3600u * 90000u;
inline constexpr int kWhepVideoPayloadType = 96;   // the payloader's; each viewer's own is put in by WhepPeer
inline constexpr int kWhepAudioPayloadType = 111;

class WhepFanout {
public:
  // Links the branch into `pipeline`'s tees. nullptr with `error` set when the stream has no
  // video (or an element is missing).
  static std::unique_ptr<WhepFanout> attach(const std::shared_ptr<StreamPipeline>& pipeline, std::string& error);
  ~WhepFanout();  // unlinks from the tees and removes the branch (if the pipeline still exists)
  WhepFanout(const WhepFanout&) = delete;
  WhepFanout& operator=(const WhepFanout&) = delete;

  bool has_audio() const { return audio_sink_ != nullptr; }
  void add(const std::shared_ptr<WhepPeer>& viewer);
  void remove(const WhepPeer* viewer);
  size_t viewers() const;
  // The stream's pipeline this branch lives in (expired once the publisher session ended).
  bool attached_to(const StreamPipeline* pipeline) const;

private:
  WhepFanout() = default;
  static GstFlowReturn on_sample(GstElement* sink, gpointer self);
  void deliver(GstSample* sample, bool video);

  std::weak_ptr<StreamPipeline> pipeline_;
  const StreamPipeline* pipeline_raw_ = nullptr;  // identity only
  std::vector<GstElement*> elements_;           // added to the pipeline's bin by attach()
  std::vector<std::pair<GstElement*, GstPad*>> tee_pads_;  // (tee, its request pad)
  GstElement* video_sink_ = nullptr;
  GstElement* audio_sink_ = nullptr;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<WhepPeer>> viewers_;
};

}  // namespace harvest::media::webrtc

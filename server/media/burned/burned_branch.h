#pragma once
// The burned-in rendition of one publisher session: a branch off the passthrough pipeline's tees
//
//   video_tee ─► queue (compressed, leaky, 2 s) ─► avdec_h264 [─► videoflip, when rotated]
//     ─► productoverlay ─► queue "burned_raw" (leaky, 6 frames) ─► x264enc (zerolatency) ─► h264parse
//     ─► tee ─┐ (─► restream)
//   audio_tee ─► queue (leaky, 5 s) ─────────────────────────────────────┴► mpegtsmux ─► appsink
//     ─► TsSegmenter (files) ─► `on_segment` (streaming thread)
//
// The leaky queues drop (and count) what the decoder/encoder cannot take, so the tees never
// block: the passthrough is never stalled by this branch. Source resolution is kept (no
// scaling); a publisher's rotation is applied (videoflip between the decoder and the overlay).
// Card changes are scheduled at a running time: a pad probe in front of the overlay applies them
// to the first frame at or after it, so the burned-in frame showing a card has the same PTS as
// the passthrough access unit carrying the card's SEI.
#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "media/hls/ts_segmenter.h"

namespace harvest::media {

class StreamPipeline;

// Pulls the appsink's next sample (a buffer or a buffer list of muxed TS) into `segmenter`.
// For the appsinks at the end of the burned-in renditions (source size and ladder rungs).
GstFlowReturn pull_into_segmenter(GstElement* appsink, hls::TsSegmenter& segmenter);

class BurnedBranch {
public:
  struct Options {
    std::string segment_prefix;
    uint64_t start_index = 0;
    uint64_t segment_target_ns = 1'000'000'000;
    int bitrate_kbps = 0;  // 0: from the source's size (about 0.07 bit per pixel at 30 fps)
    int width = 0;         // source facts, for the bitrate
    int height = 0;
    std::string speed_preset = "ultrafast";  // x264enc speed-preset (slower ones: tests of overload)
    // Degrees clockwise the coded picture must turn to be upright (RTMP onMetaData "rotation").
    // 90, 180 and 270 turn the pixels before the overlay, so the rendition (and its restream,
    // which has no rotation flag either) is upright and the card is laid out on the upright
    // picture; anything else leaves them as coded.
    int rotation = 0;
  };
  // The videoflip direction for a rotation, or nullptr when the pixels stay as they are.
  static const char* flip_direction(int rotation);
  using SegmentHandler = std::function<void(const std::string& path, uint64_t start_ns, uint64_t end_ns)>;

  // Links the branch into the running pipeline. Loop thread.
  static std::unique_ptr<BurnedBranch> attach(std::shared_ptr<StreamPipeline> pipeline, Options options,
                                              SegmentHandler on_segment, std::string& error);
  // Stops the pipeline it hangs off (blocking) before the branch's state goes away.
  ~BurnedBranch();
  BurnedBranch(const BurnedBranch&) = delete;
  BurnedBranch& operator=(const BurnedBranch&) = delete;

  // Shows (card JSON, one card of the scene) / hides a card from the first frame whose running
  // time is >= running_time_ns. Any thread.
  void schedule_show(const std::string& card_json, uint64_t running_time_ns);
  void schedule_hide(const std::string& product_id, uint64_t running_time_ns);
  // The link cued a change in the passthrough: the access unit that carries its SEI (seen in
  // front of the decoder, in the thread that cued it) schedules it at its running time, before
  // that frame can reach the overlay. A later schedule_show/hide of the same change is then a
  // no-op; without the SEI (frame dropped before the branch) it schedules as usual. Any thread.
  void expect(const std::string& product_id, bool show, const std::string& card_json_or_id);
  // Partial update (any card fields; null removes stock, sold, sale_ends_at) at the next frame,
  // also of a show still scheduled. Any thread.
  void update(const std::string& partial_json);

  uint64_t frames_in() const { return frames_in_.load(); }
  uint64_t frames_encoded() const { return frames_encoded_.load(); }
  // Frames the leaky queues dropped so far.
  uint64_t frames_dropped() const;
  int bitrate_kbps() const { return bitrate_kbps_; }
  // The encoded burned-in video (H.264 byte-stream, SPS/PPS on every keyframe), a seam for
  // further outputs such as the RTMP restream: request a pad and link a (leaky) queue.
  GstElement* encoded_video_tee() const { return encoded_tee_; }
  // The raw video right after productoverlay (cards burned in), for the ladder's rungs.
  GstElement* overlaid_video_tee() const { return overlaid_tee_; }

private:
  BurnedBranch() = default;
  struct Scheduled {
    bool show = true;
    std::string arg;  // card JSON or product id
    uint64_t running_time_ns = 0;
  };
  struct Expected {
    std::string product_id;
    Scheduled change;  // running time filled in from the SEI's access unit
  };
  struct Resolved {
    std::string product_id;
    bool show = true;
    uint64_t running_time_ns = 0;
  };
  // Under mutex_: true (and forgotten) if the SEI already scheduled this change.
  bool resolved_by_sei(const std::string& product_id, bool show, uint64_t running_time_ns);
  static GstPadProbeReturn find_cues(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn before_overlay(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstFlowReturn on_new_sample(GstElement* sink, gpointer self);

  std::shared_ptr<StreamPipeline> pipeline_;
  GstElement* overlay_ = nullptr;
  GstElement* raw_queue_ = nullptr;
  GstElement* coded_queue_ = nullptr;
  GstElement* encoded_tee_ = nullptr;
  GstElement* overlaid_tee_ = nullptr;
  std::unique_ptr<hls::TsSegmenter> segmenter_;  // muxer thread
  SegmentHandler on_segment_;
  std::mutex mutex_;
  std::vector<Scheduled> scheduled_;
  std::vector<Expected> expected_;
  std::vector<Resolved> resolved_;      // recent SEI resolutions (at most 64)
  std::atomic<size_t> expecting_{0};   // expected_.size(), read without the lock per frame
  std::atomic<uint64_t> frames_in_{0};       // into the compressed queue
  std::atomic<uint64_t> frames_decoded_{0};  // into the raw queue
  std::atomic<uint64_t> frames_raw_out_{0};  // out of the raw queue
  std::atomic<uint64_t> frames_coded_out_{0};
  std::atomic<uint64_t> frames_encoded_{0};
  int bitrate_kbps_ = 0;
  uint64_t last_rt_ = 0;  // overlay's streaming thread
};

}  // namespace harvest::media

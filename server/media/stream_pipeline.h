#pragma once
// The per-publisher GStreamer pipeline: compressed media in, HLS segments out, no transcode.
//
//   RTMP: appsrc(h264, avc) ─► h264parse ─► tee "video_tee" ─► mpegtsmux ─► appsink ─► TsSegmenter (files)
//         appsrc(aac, raw)  ─► aacparse  ─► tee "audio_tee" ─┘
//   SRT:  appsrc(mpegts) ─► tsdemux ─► (timestamp repair probe) ─► the same parse/tee chains
//
// The tees are the seam for later branches (decode ► productoverlay ► encode ► a second HLS
// rendition, an RTMP restream): request a pad from video_tee()/audio_tee() and link a queue.
// Segments are cut on keyframes by hls::TsSegmenter on the muxer's thread (no extra queues or
// threads: each buffer crosses threads only from the appsrc to the muxer); completed segments
// are reported through `on_segment`, bus messages reach the loop through a GstBusBridge.
//
// Build it (add_*_input, start) on one thread; push_* and end_of_stream are thread-safe.
#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_loop.h"
#include "core/status.h"
#include "media/gst_bus_bridge.h"
#include "media/hls/ts_segmenter.h"
#include "media/timestamp_repair.h"

namespace harvest::media {

struct PublishSession;

class StreamPipeline {
public:
  struct Options {
    std::string name;             // pipeline name, e.g. "ingest-demo-3"
    std::string segment_prefix;  // segment files: <prefix><index>.ts
    uint64_t start_index = 0;
    uint64_t segment_target_ns = 1'000'000'000;
  };
  using MessageHandler = std::function<void(GstMessage*)>;        // loop thread
  using FatalHandler = std::function<void(const std::string&)>;  // any thread
  // A segment file was completed (muxer thread): path and running-time span.
  using SegmentHandler = std::function<void(const std::string& path, uint64_t start_ns, uint64_t end_ns)>;

  StreamPipeline(EventLoop& loop, Options options, std::shared_ptr<PublishSession> session,
                 MessageHandler on_message, FatalHandler on_fatal, SegmentHandler on_segment);
  ~StreamPipeline();
  StreamPipeline(const StreamPipeline&) = delete;
  StreamPipeline& operator=(const StreamPipeline&) = delete;

  // Inputs (before start()).
  Status add_h264_input(std::string_view avc_config);
  Status add_aac_input(std::string_view audio_specific_config, int rate, int channels);
  Status add_ts_input();
  Status start();

  // Media from the one ingest thread that feeds this pipeline. Timestamps are output running
  // time (already repaired). Buffers are batched and handed to the pipeline at most every
  // `kBatchMs` (and right after each keyframe, so segment cuts are not delayed): one thread
  // hand-off per batch instead of per frame is most of the pipeline's CPU cost.
  static constexpr int64_t kBatchMs = 200;
  void push_video(std::string_view avcc, int64_t dts_ns, int64_t pts_ns, bool keyframe);
  bool update_video_config(std::string_view avc_config);
  void push_audio(std::string_view raw, int64_t pts_ns);
  void push_ts(std::string_view bytes);
  // Hands batched media over if the batch is older than kBatchMs (`force`: now). Ingest thread.
  void flush(bool force = false);
  // Hands batched media over now, or, when no video is held, the next video as it comes in.
  // Any thread: a card cue goes into the next access unit that reaches productcue, so the link
  // flushes instead of waiting up to kBatchMs for the batch.
  void flush_now();
  // Thread-safe.
  void end_of_stream();
  // Stops the pipeline (state NULL); blocking, idempotent.
  void stop();

  // Seams for further branches; nullptr when the stream has no such track (yet).
  GstElement* video_tee() const { return video_tee_; }
  GstElement* audio_tee() const { return audio_tee_; }
  GstElement* pipeline() const { return pipeline_; }
  bool has_video() const { return video_tee_ != nullptr; }
  bool has_audio() const { return audio_tee_ != nullptr; }

private:
  Status link_chain(GstPad* src, bool video);
  Status link_video(GstPad* src) { return link_chain(src, true); }
  Status link_audio(GstPad* src) { return link_chain(src, false); }
  static GstFlowReturn on_new_sample(GstElement* appsink, gpointer self);
  void on_muxed(GstBuffer* buffer);
  void on_demux_pad(GstPad* pad);
  GstElement* make(const char* factory);
  GstPadProbeReturn repair_probe(GstPad* pad, GstPadProbeInfo* info);

  EventLoop& loop_;
  Options options_;
  std::weak_ptr<PublishSession> session_;
  FatalHandler on_fatal_;
  GstElement* pipeline_ = nullptr;
  GstElement* mux_ = nullptr;
  GstElement* sink_ = nullptr;
  std::unique_ptr<hls::TsSegmenter> segmenter_;  // muxer thread only (after start)
  GstElement* video_src_ = nullptr;
  GstElement* audio_src_ = nullptr;
  GstElement* ts_src_ = nullptr;
  GstElement* video_tee_ = nullptr;
  GstElement* audio_tee_ = nullptr;
  std::unique_ptr<GstBusBridge> bridge_;
  std::mutex mutex_;  // demuxer-side state below
  TimestampRepair repair_;
  std::vector<std::pair<GstPad*, GstSegment>> pad_segments_;
  bool stopped_ = false;
  // Batches: filled by the ingest thread, flushed by it or by flush_now() (any thread).
  std::mutex batch_mutex_;
  void flush_locked(bool force);
  GstBufferList* video_batch_ = nullptr;
  GstBufferList* audio_batch_ = nullptr;
  std::string ts_batch_;
  int64_t batch_started_ms_ = 0;
  bool flush_next_video_ = false;  // flush_now() found no video: flush when the next arrives
  bool audio_after_keyframe_ = false;  // the muxer holds a keyframe until it sees later audio
};

}  // namespace harvest::media

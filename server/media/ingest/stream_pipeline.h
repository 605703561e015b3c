#pragma once
// The per-publisher GStreamer pipeline: compressed media in, HLS segments out, no transcode.
//
//   RTMP: appsrc(h264, avc, au) ─► productcue ─► tee "video_tee" ─► appsink ─┐
//         appsrc(aac, raw)      ───────────────► tee "audio_tee" ─► appsink ─┴► hls::TsMuxer ─► hls::TsSegmenter (files)
//   SRT:  appsrc(mpegts) ─► tsdemux ─► queue ─► (timestamp repair probe) ─► h264parse / aacparse ─► the same chains
//         (WHIP's peer muxes to MPEG-TS and comes in the same way)
//
// The muxing callbacks also feed the LL-HLS rendition (hls::LlHlsStream, fMP4 parts) with the
// same frames: as they are from RTMP; from MPEG-TS inputs the Annex B access units become AVCC
// (media/ingest/annexb.h) and the ADTS frames raw AAC (media/ingest/adts.h) on the way.
//
// The RTMP input is already parsed (access units with timestamps, the codec configuration in
// the caps), so no parser runs on it; the passthrough rendition is muxed by our own TsMuxer in
// the appsinks' callbacks (the appsrc threads), without mpegtsmux's aggregator thread and its
// per-packet buffers. The tees are the seam for later branches (decode ► productoverlay ► encode
// ► a second HLS rendition, an RTMP restream): request a pad from video_tee()/audio_tee() and
// link a queue. Segments are cut on keyframes by hls::TsSegmenter; completed segments are
// reported through `on_segment`, bus messages reach the loop through a GstBusBridge.
//
// Build it (add_*_input, start) on one thread; push_* and end_of_stream are thread-safe.
#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_loop.h"
#include "core/status.h"
#include "media/gst/gst_bus_bridge.h"
#include "media/hls/ll_hls.h"
#include "media/hls/ts_muxer.h"
#include "media/hls/ts_segmenter.h"
#include "media/ingest/annexb.h"
#include "media/ingest/timestamp_repair.h"

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
  // While on, media is handed over as it is pushed (no batching): set around an expected
  // keyframe, so that the muxer has written everything before it when it begins to arrive.
  void set_prompt(bool on);
  // Ingest thread: a video keyframe with these timestamps has begun to arrive (its header is in,
  // its body is not). If it ends the open segment, the segment is closed as soon as the muxer has
  // written everything pushed before it (on this thread when it already has), instead of after
  // the whole keyframe has been read and has crossed the pipeline: the playlist lists it sooner.
  void keyframe_coming(int64_t dts_ns, int64_t pts_ns);
  // Hands batched media over now, or, when no video is held, the next video as it comes in.
  // Any thread: a card cue goes into the next access unit that reaches productcue, so the link
  // flushes instead of waiting up to kBatchMs for the batch. Returns the number of video frames
  // that were held (0: the cue waits for the publisher's next frame).
  int flush_now();
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
  Status link_chain(GstPad* src, bool video, bool parse);
  static GstFlowReturn on_new_sample(GstElement* appsink, gpointer self);
  void on_sample(GstSample* sample, bool video);
  void on_sink_eos();
  void mux_video(GstBuffer* buffer);
  void mux_audio(std::string_view frame, int64_t pts_ns);
  void write_audio_frame(std::string_view frame, int64_t pts_ns);  // to both renditions
  // The LL-HLS rendition from MPEG-TS inputs: Annex B -> AVCC (+ avcC), ADTS -> raw AAC (+ ASC).
  void ll_video_from_annexb(std::string_view access_unit, int64_t dts_ns, int64_t pts_ns, bool keyframe);
  void ll_audio_from_adts(std::string_view adts, int64_t pts_ns);
  void write_out(int64_t pts_ns);
  void try_early_cut_locked();
  void on_demux_pad(GstPad* pad);
  GstElement* make(const char* factory);
  GstPadProbeReturn repair_probe(GstPad* pad, GstPadProbeInfo* info);

  EventLoop& loop_;
  Options options_;
  std::weak_ptr<PublishSession> session_;
  FatalHandler on_fatal_;
  GstElement* pipeline_ = nullptr;
  bool built_ = false;
  // Muxing state, shared by the two appsinks' streaming threads.
  std::mutex mux_mutex_;
  std::unique_ptr<hls::TsMuxer> muxer_;
  std::unique_ptr<hls::TsSegmenter> segmenter_;
  std::string ts_out_;
  // The LL-HLS rendition fed the same media; null: none.
  std::shared_ptr<hls::LlHlsStream> ll_;
  bool ll_begun_ = false;
  // MPEG-TS inputs (byte-stream video, ADTS audio): the conversion for the LL rendition.
  H264ParameterSets ll_sets_;
  bool ll_video_configured_ = false, ll_audio_configured_ = false, ll_bad_sets_logged_ = false;
  std::string ll_sample_;  // the AVCC access unit being converted (reused)
  int audio_channels_ = 0;  // from the audio caps: ADTS channel configuration 0 leaves it open
  std::atomic<bool> ts_tracks_known_{false};  // tsdemux said no-more-pads (demuxer thread)
  GstCaps* video_caps_ = nullptr;  // last caps seen by the video sink
  GstCaps* audio_caps_ = nullptr;
  bool video_avc_ = true;
  bool audio_raw_ = true;
  // Audio waits for the video to reach its time, so each segment holds the audio of its span.
  std::deque<std::pair<std::string, int64_t>> held_audio_;
  int64_t last_video_dts_ = -1;
  int64_t last_audio_pts_ = -1;  // the latest audio to reach the muxer (held or written)
  // A keyframe_coming() cut waiting for the muxer to reach the media pushed before the keyframe.
  struct EarlyCut {
    int64_t dts_ns, pts_ns;           // the keyframe's
    int64_t video_upto, audio_upto;  // the last video DTS and audio PTS pushed before it
  };
  std::optional<EarlyCut> early_cut_;
  int sinks_open_ = 0;
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
  // timed: if the batch is kBatchMs old; eager: now; both keep the newest video frame back (a
  // card cue's frame). all: everything now (a cue, a segment cut, the end of the stream).
  enum class Handover { timed, eager, all };
  void flush_locked(Handover how);
  GstBufferList* video_batch_ = nullptr;
  GstBufferList* audio_batch_ = nullptr;
  std::string ts_batch_;
  int64_t batch_started_ms_ = 0;
  bool flush_next_video_ = false;  // flush_now() found no video: flush when the next arrives
  bool prompt_ = false;            // set_prompt()
  bool eager_next_video_ = false;  // a keyframe is held: the next video frame hands it over
  int64_t pushed_video_dts_ = -1;  // the last video and audio pushed (batched or handed over)
  int64_t pushed_audio_pts_ = -1;
};

}  // namespace harvest::media

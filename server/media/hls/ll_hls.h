#pragma once
// The LL-HLS passthrough rendition of one stream (GET /hls/{id}/ll.m3u8): CMAF parts of
// ~part_target_s and segments of ~segment_target_s (cut on keyframes), fed with the same
// access units and AAC frames as the MPEG-TS rendition, in the same order (StreamPipeline's
// muxing callbacks). Files beside the TS rendition's, in its directory:
//   <run>-init<session>.mp4    the CMAF header of a publisher session (EXT-X-MAP)
//   <run>-p<number>.m4s        a part (moof + mdat), numbered through the rendition
//   <run>-s<msn>.m4s           segment msn: its parts, one after the other
// The playlist is kept in memory (the route answers blocking reloads from it) and changes with
// every part; on_part is called (on the muxer thread) after each, so waiting requests wake up.
//
// Feeding (begin_session, set_*, add_*, finish): one thread at a time (the pipeline's muxer
// lock). Reading (playlist, position) and date ranges: any thread.
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media/hls/fmp4_muxer.h"
#include "media/hls/ll_playlist.h"

namespace harvest::media::hls {

struct LlHlsOptions {
  double part_target_s = 0.5;     // EXT-X-PART-INF PART-TARGET; parts never exceed it
  double segment_target_s = 1.0;  // cut at the first keyframe at least this long after the last cut
  size_t window_segments = 8;
  size_t linger_segments = 4;     // files kept after leaving the window
};

class LlHlsStream {
public:
  LlHlsStream(std::string dir, LlHlsOptions options);
  ~LlHlsStream();
  LlHlsStream(const LlHlsStream&) = delete;
  LlHlsStream& operator=(const LlHlsStream&) = delete;

  void set_on_part(std::function<void()> on_part);

  // A publisher session starts (every one after the first: a discontinuity and a new init).
  // `has_video`/`has_audio`: the tracks that will come; nothing is written before each has its
  // configuration and (with video) the first keyframe has arrived.
  void begin_session(uint64_t session_tag, int64_t wall_ms_at_zero, bool has_video, bool has_audio);
  void set_video(std::string_view avc_config, int width, int height);
  void set_audio(std::string_view audio_specific_config, int rate, int channels);
  void add_video(std::string_view avcc, int64_t dts_ns, int64_t pts_ns, bool keyframe);
  void add_audio(std::string_view raw, int64_t pts_ns);
  // End of the session's media: the open part and segment are completed.
  void finish();

  std::string playlist() const;
  LlPosition position() const;
  // The file name prefix of this rendition's parts ("<run>-").
  const std::string& prefix() const { return prefix_; }

  void add_date_range(DateRange range);
  void end_date_range(const std::string& id, int64_t end_ms);
  void end_stream();
  uint64_t parts_written() const;

private:
  void cut_part(int64_t end_ns);      // feeding thread
  void close_segment(int64_t end_ns, bool reopening = false);  // feeding thread
  void open_segment(int64_t start_ns);
  void render_locked();
  void notify();  // calls on_part_ (a copy, taken under the lock)
  bool ready() const;
  int part_frames() const;  // frames per part for the next cut (0: cut on duration alone)

  const std::string dir_;
  const LlHlsOptions options_;
  std::string prefix_;

  // Feeding thread only.
  Fmp4Muxer muxer_;
  bool expect_video_ = false, expect_audio_ = false;
  bool video_set_ = false, audio_set_ = false;
  bool started_ = false;      // first part of the session opened
  bool init_written_ = false;
  uint64_t session_tag_ = 0;
  int64_t wall_ms_at_zero_ = 0;
  std::vector<Fmp4Muxer::Sample> video_pending_, audio_pending_;
  std::optional<Fmp4Muxer::Sample> last_video_;  // its duration is known once the next arrives
  int64_t last_video_duration_ns_ = 33'333'333;
  // Balanced parts: the last keyframe-cut segment's frame count (0: none yet) and the frames in
  // the open segment (see part_frames()).
  int last_gop_frames_ = 0, segment_frames_ = 0;
  // The audio clock: the next AAC frame's time if it follows on (-1: none yet). RTMP gives
  // millisecond times, so a frame of 23.22 ms arrives up to 0.5 ms off; players get a gapless
  // track instead (an overlap of 0.6 ms at a part boundary made MSE drop an audio frame).
  int64_t next_audio_ns_ = -1;
  int64_t part_start_ns_ = 0, seg_start_ns_ = 0;
  uint32_t fragment_sequence_ = 0;
  std::FILE* segment_file_ = nullptr;
  std::string init_uri_;

  mutable std::mutex mutex_;  // below
  std::function<void()> on_part_;
  std::deque<LlSegment> segments_;  // complete ones, then the open one (if started)
  bool open_ = false;               // segments_.back() is being written
  uint64_t media_sequence_ = 0;
  uint64_t next_msn_ = 0;           // the open (or next) segment's
  uint64_t discontinuity_sequence_ = 0;
  bool pending_discontinuity_ = false;
  int sessions_ = 0;
  std::deque<std::pair<std::string, std::vector<std::string>>> leaving_;  // files of segments out of the window
  std::vector<DateRange> date_ranges_;
  bool ended_ = false;
  uint64_t parts_written_ = 0;
  std::string playlist_;
};

}  // namespace harvest::media::hls

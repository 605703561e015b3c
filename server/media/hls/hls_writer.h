#pragma once
// One HLS rendition on disk: the segments a muxer closed, the playlist the server writes
// itself (EXT-X-PROGRAM-DATE-TIME, EXT-X-DISCONTINUITY, EXT-X-DATERANGE), a bounded window,
// and deletion of segments that left it. Control-plane (loop) thread, except list_segment(),
// which an ingest thread may call (the playlist state is under a lock): a segment is listed the
// moment it is cut, and the slower rest (the replay, deleting old files) is left to settle() on
// the loop.
//
// A writer outlives publisher sessions: a publisher that reconnects within the grace period
// gets begin_session() on the same writer, so the playlist continues (media sequence keeps
// counting) with one EXT-X-DISCONTINUITY.
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "media/hls/ll_hls.h"
#include "media/hls/playlist.h"
#include "media/hls/playlist_file.h"
#include "media/hls/replay_recording.h"

namespace harvest::media::hls {

struct HlsOptions {
  double target_segment_s = 1.0;  // cut at the first keyframe at least this long after the last cut
  size_t window_segments = 8;     // segments listed in the live playlist
  size_t linger_segments = 4;     // files kept after leaving the window (players still fetching)
  size_t max_date_ranges = 64;    // date ranges kept (oldest dropped first)
};

class HlsWriter {
public:
  // `dir` is created; files already in it are removed (a stale run).
  HlsWriter(std::string dir, HlsOptions options);
  ~HlsWriter();
  HlsWriter(const HlsWriter&) = delete;
  HlsWriter& operator=(const HlsWriter&) = delete;

  const std::string& dir() const { return dir_; }
  const HlsOptions& options() const { return options_; }
  std::string playlist_path() const { return dir_ + "/index.m3u8"; }
  // Path prefix for the segment files of publisher session `session_tag`, e.g. ".../k3x9a-2-"
  // (the segmenter appends "000012.ts"): unique per writer and session, so segment URLs can be
  // cached forever and a replaced publisher's last file never collides with its successor's first.
  std::string segment_prefix(uint64_t session_tag) const;
  // Sequence number the next segment will get (the muxer's start index for a new session).
  uint64_t next_sequence() const;

  // A publisher session starts: its running time 0 is wall time `wall_ms_at_zero`. Every session
  // after the first starts with a discontinuity.
  void begin_session(int64_t wall_ms_at_zero);
  // The muxer closed a segment file covering [start_rt_ns, end_rt_ns) of the session's running
  // time; adds it, slides the window, rewrites the playlist. Empty segments are dropped.
  // list_segment() then settle().
  Status add_segment(const std::string& path, uint64_t start_rt_ns, uint64_t end_rt_ns);
  // Any thread: the listing part of add_segment() (window, playlist).
  Status list_segment(const std::string& path, uint64_t start_rt_ns, uint64_t end_rt_ns);
  // Loop: what listing left: hands listed segments to the recording, deletes the files that
  // have left the window (after the recording linked them).
  void settle();

  // Program date time (ms since the epoch) of a running time in the current session.
  std::optional<int64_t> program_date_time_ms(uint64_t running_time_ns) const;

  // Date ranges (e.g. product cards). Adding an existing id replaces it. Rewrites the playlist.
  void add_date_range(DateRange range);
  // Sets the END-DATE of an open range; false if unknown.
  bool end_date_range(const std::string& id, int64_t end_ms);

  // Records this writer's segments and date ranges from now on (a replay of the live session);
  // the recording is finished (VOD + ENDLIST) by end_stream() and remove_files().
  void record_to(std::unique_ptr<ReplayRecording> recording) { recording_ = std::move(recording); }
  ReplayRecording* recording() { return recording_.get(); }
  // The stream's LL-HLS rendition (same media, fMP4 parts): gets the same date ranges and end.
  void mirror_to(std::shared_ptr<LlHlsStream> ll) { ll_ = std::move(ll); }

  // The stream ended for good: EXT-X-ENDLIST.
  void end_stream();
  // Deletes the rendition's files and directory (a recording keeps its own links).
  void remove_files();

  uint64_t media_sequence() const;
  size_t segment_count() const;
  int sessions() const;

private:
  Status write_playlist();  // under mutex_

  const std::string dir_;
  const HlsOptions options_;
  std::string prefix_;  // set once in the constructor
  std::unique_ptr<ReplayRecording> recording_;  // loop only
  std::shared_ptr<LlHlsStream> ll_;             // set before media; may be null

  mutable std::mutex mutex_;  // everything below
  std::deque<Segment> segments_;
  std::deque<std::string> leaving_;  // files out of the window, deleted after linger_segments more
  std::vector<std::pair<std::string, Segment>> unrecorded_;  // listed, not yet given to the recording
  std::vector<DateRange> date_ranges_;
  uint64_t media_sequence_ = 0;
  uint64_t discontinuity_sequence_ = 0;
  uint64_t next_sequence_ = 0;
  int target_duration_s_ = 1;
  int64_t session_wall_ms_ = 0;
  int sessions_ = 0;
  bool pending_discontinuity_ = false;
  bool ended_ = false;
  PlaylistFile playlist_file_;
};

}  // namespace harvest::media::hls

#pragma once
// The replay of one live session: every passthrough segment of the session, kept as a hard
// link beside an HLS playlist that grows (EXT-X-PLAYLIST-TYPE:EVENT) while the session is live
// and becomes VOD with EXT-X-ENDLIST when it ends. Fed by the live HlsWriter (same segments,
// program date times, discontinuities and card date ranges). Control-plane (loop) thread only.
//
// Why hard links: the live window deletes its copy of a segment a few segments later; a link
// keeps the bytes without copying them or transcoding (a copy is the fallback when linking
// fails, e.g. another file system).
#include <string>
#include <vector>

#include "core/status.h"
#include "media/hls/playlist.h"
#include "media/hls/playlist_file.h"

namespace harvest::media::hls {

class ReplayRecording {
public:
  // `dir` is <replay root>/<stream>/<session>; created (files already there are kept).
  explicit ReplayRecording(std::string dir);
  ~ReplayRecording();
  ReplayRecording(const ReplayRecording&) = delete;
  ReplayRecording& operator=(const ReplayRecording&) = delete;

  const std::string& dir() const { return dir_; }
  std::string playlist_path() const { return dir_ + "/index.m3u8"; }

  // The live writer accepted segment `live_path`, described by `segment` (uri = its file name).
  Status add_segment(const std::string& live_path, const Segment& segment);
  // Card date ranges, like HlsWriter's; all of the session's are kept (up to a bound).
  void add_date_range(const DateRange& range);
  void end_date_range(const std::string& id, int64_t end_ms);
  // The live session ended: EXT-X-PLAYLIST-TYPE:VOD and EXT-X-ENDLIST. Idempotent.
  void finish();
  bool finished() const { return finished_; }
  size_t segment_count() const { return segments_.size(); }

  // Closes a playlist a crash left open (EVENT without ENDLIST): VOD + ENDLIST, the rest kept
  // as it is. True if it was changed.
  static bool close_unfinished(const std::string& playlist_path);

private:
  Status write_playlist();

  std::string dir_;
  PlaylistFile playlist_file_;
  std::vector<Segment> segments_;
  std::vector<DateRange> date_ranges_;
  int target_duration_s_ = 1;
  bool finished_ = false;
};

}  // namespace harvest::media::hls

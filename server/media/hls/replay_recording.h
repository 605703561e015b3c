#pragma once
// The replay of one live session: every passthrough segment of the session, kept as a hard
// link beside an HLS playlist that grows (EXT-X-PLAYLIST-TYPE:EVENT) while the session is live
// and becomes VOD with EXT-X-ENDLIST when it ends. Fed by the live HlsWriter (same segments,
// program date times, discontinuities and card date ranges). Control-plane (loop) thread only.
//
// The playlist lists every segment of the session, so each rewrite grows with it (an hour of 1 s
// segments is ~300 KB): while live it is rewritten at most every `live_rewrite_ms`, and at once
// when the session ends. Segments are linked at once either way; what reads a live replay's
// playlist sees it up to that much behind.
//
// Why hard links: the live window deletes its copy of a segment a few segments later; a link
// keeps the bytes without copying them or transcoding (a copy is the fallback when linking
// fails, e.g. another file system).
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "media/hls/playlist.h"
#include "media/hls/playlist_file.h"

namespace harvest::media::hls {

class ReplayRecording {
public:
  static constexpr int64_t kLiveRewriteMs = 5000;
  // `dir` is <replay root>/<stream>/<session>; created (files already there are kept).
  explicit ReplayRecording(std::string dir, int64_t live_rewrite_ms = kLiveRewriteMs);
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
  // Writes what changed since the last rewrite now (the live playlist, not finished).
  void flush();
  bool finished() const { return finished_; }
  size_t segment_count() const { return segments_.size(); }

  // Closes a playlist a crash left open (EVENT without ENDLIST): VOD + ENDLIST, the rest kept
  // as it is. True if it was changed.
  static bool close_unfinished(const std::string& playlist_path);

private:
  Status write_playlist();
  void changed();  // rewrites now if the last rewrite is live_rewrite_ms old, else later

  std::string dir_;
  PlaylistFile playlist_file_;
  std::vector<Segment> segments_;
  std::vector<DateRange> date_ranges_;
  int target_duration_s_ = 1;
  bool finished_ = false;
  int64_t live_rewrite_ms_;
  int64_t last_write_ms_ = -1;  // steady clock; -1: never written
  bool pending_ = false;        // changes not yet written
};

}  // namespace harvest::media::hls

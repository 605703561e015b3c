#pragma once
// The replays on disk: <root>/<stream>/<session>/index.m3u8 plus its segments (see
// ReplayRecording). The disk is the record, so replays survive restarts with no index to keep
// in step: listing reads the playlists. Also the retention policy. Loop thread only.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media/hls/playlist.h"
#include "media/hls/replay_recording.h"

namespace harvest::media::hls {

struct ReplayRetention {
  size_t keep_per_stream = 20;  // newest replays kept per stream; 0: nothing is recorded
  int max_age_days = 0;         // also delete replays that started longer ago; 0: no age limit
};

struct ReplayInfo {
  std::string session;        // the live session id (unix ms of its first publish)
  int64_t started_at_ms = 0;  // program date time of the first segment
  int64_t ended_at_ms = 0;    // end of the last segment
  double duration_s = 0;      // sum of the segment durations (gaps between reconnects excluded)
  bool live = false;          // still recording (no EXT-X-ENDLIST)
  size_t segments = 0;
  size_t discontinuities = 0;  // publisher reconnects within the session
};

class ReplayLibrary {
public:
  ReplayLibrary(std::string root, ReplayRetention retention);

  const std::string& root() const { return root_; }
  bool recording_enabled() const { return retention_.keep_per_stream > 0; }
  std::string session_dir(const std::string& stream_id, const std::string& session) const;

  // At startup: closes playlists a crash left open (VOD + ENDLIST; nothing is recording yet)
  // and applies the retention to every stream.
  void recover(int64_t now_ms);
  // A live session starts: applies the retention (making room for it) and opens its recording;
  // nullptr when recording is off.
  std::unique_ptr<ReplayRecording> start_recording(const std::string& stream_id, const std::string& session,
                                                   int64_t now_ms);

  // The stream's replays, newest first.
  std::vector<ReplayInfo> list(const std::string& stream_id) const;
  std::optional<ReplayInfo> find(const std::string& stream_id, const std::string& session) const;
  // The replay's playlist as written; nullopt if there is no such replay.
  std::optional<PlaylistView> playlist(const std::string& stream_id, const std::string& session) const;
  // Deletes a finished replay; false if unknown or still recording.
  bool remove(const std::string& stream_id, const std::string& session);
  // Deletes the finished replays beyond the policy (a recording one is never deleted).
  void apply_retention(const std::string& stream_id, int64_t now_ms);

  // Position in seconds on the replay's timeline (what a player's currentTime is: segment
  // durations laid end to end, gaps between reconnects removed) of program date time `pdt_ms`.
  // A time in a gap maps to the start of the next segment; after the end, to the end.
  static double position_s(const std::vector<Segment>& segments, int64_t pdt_ms);
  // Replay session and stream ids are plain names: [0-9A-Za-z_-], 1-64 characters.
  static bool is_plain_name(const std::string& s);

private:
  std::string root_;
  ReplayRetention retention_;
};

}  // namespace harvest::media::hls

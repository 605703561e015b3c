#pragma once
// Helpers for the media tests: real ffmpeg publishers as child processes, streams created
// through the API, playlists fetched over HTTP and parsed, segments probed with ffprobe.
#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/server_process.h"
#include "support/temp_dir.h"  // read_file

namespace harvest::test {

inline const std::string kAdminToken = "media-test-admin";

// The server as the media tests run it: its own data dir, kAdminToken, and `extra` flags.
ServerProcess::Options media_server_options(const TempDir& dir, std::vector<std::string> extra = {});

struct TestStream {
  std::string id;
  std::string key;
};
TestStream create_stream(const ServerProcess& server, const std::string& title = "test stream");

std::string rtmp_url(const ServerProcess& server, const std::string& key);
// The value of one sample line of GET /metrics ("name{labels}"), -1 if absent.
double metric(const ServerProcess& server, const std::string& sample);
std::string srt_url(const ServerProcess& server, const std::string& key);

struct FfmpegInput {
  int width = 320;
  int height = 568;  // portrait, like a phone
  int fps = 30;
  double seconds = 4;
  bool video = true;
  bool audio = true;
  int gop = 15;  // a keyframe every half second at 30 fps
};
// "ffmpeg -re -f lavfi -i testsrc2 ... -f flv|mpegts URL"
std::vector<std::string> ffmpeg_args(const FfmpegInput& in, const std::string& format, const std::string& url);
// Encodes `in` to a local file (flv or mpegts) without -re; returns false on failure.
bool encode_file(const FfmpegInput& in, const std::string& format, const std::string& path);

struct PlaylistEntry {
  std::string uri;
  double duration = 0;
  std::string program_date_time;
  bool discontinuity = false;
};
struct Playlist {
  bool valid = false;
  int target_duration = 0;
  long media_sequence = -1;
  long discontinuity_sequence = 0;
  bool ended = false;
  int discontinuities = 0;
  std::vector<PlaylistEntry> segments;
  std::string text;
  double total_duration() const;
  // Position of the last segment in the whole stream (media sequence + count).
  long end_sequence() const { return media_sequence + static_cast<long>(segments.size()); }
};
Playlist parse_playlist(const std::string& text);
Playlist fetch_playlist(const ServerProcess& server, const std::string& stream_id);
// Waits until the playlist has at least `segments` segments.
Playlist wait_for_playlist(const ServerProcess& server, const std::string& stream_id, size_t segments,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));
// Waits until the playlist's end_sequence() passes `after`.
bool wait_playlist_advances(const ServerProcess& server, const std::string& stream_id, long after,
                            std::chrono::milliseconds timeout = std::chrono::seconds(20));

nlohmann::json stream_info(const ServerProcess& server, const std::string& stream_id);

// ffprobe -show_streams -show_format as JSON (empty object on failure).
nlohmann::json ffprobe(const std::string& path);
// Downloads a segment over HTTP into `dir`; returns the local path (empty on failure).
std::string download_segment(const ServerProcess& server, const std::string& stream_id, const std::string& uri,
                             const std::string& dir);

}  // namespace harvest::test

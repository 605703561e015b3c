#pragma once
// LL-HLS (RFC 8216bis, Low-Latency HLS) for the passthrough rendition: the playlist text with
// partial segments, and the blocking-reload rules (_HLS_msn / _HLS_part). Pure functions, so
// the tags and the blocking decisions are unit tested without files, threads or sockets.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "media/hls/playlist.h"

namespace harvest::media::hls {

struct LlPart {
  std::string uri;
  double duration_s = 0;
  bool independent = false;  // starts with a keyframe
};

struct LlSegment {
  std::string uri;            // empty while the segment is still being written (parts only)
  double duration_s = 0;
  int64_t program_date_time_ms = 0;
  bool discontinuity = false;
  std::string map_uri;        // EXT-X-MAP (the init segment of the session it belongs to)
  std::vector<LlPart> parts;  // rendered only for the last few segments
};

struct LlPlaylistView {
  int target_duration_s = 1;
  double part_target_s = 0.5;
  uint64_t media_sequence = 0;
  uint64_t discontinuity_sequence = 0;
  std::vector<LlSegment> segments;  // oldest first; the last may be in progress (uri empty)
  std::string preload_hint_uri;     // the next part; empty: none (ended)
  std::vector<DateRange> date_ranges;
  bool ended = false;
  size_t part_segments = 4;  // segments (from the end, the one in progress included) whose parts are listed
};

// EXT-X-PART-HOLD-BACK: three part targets, the minimum the spec allows.
double part_hold_back_s(double part_target_s);
std::string render_ll_playlist(const LlPlaylistView& view);

// --- blocking playlist reload ---
struct BlockingRequest {
  uint64_t msn = 0;
  std::optional<uint64_t> part;
};
// `query`: the request's decoded query arguments. nullopt and `error` empty: a plain request
// (no _HLS_msn); nullopt and `error` set: a malformed one (400). _HLS_skip and others are ignored.
std::optional<BlockingRequest> parse_blocking_request(const std::map<std::string, std::string>& query,
                                                      std::string& error);

// Where the live rendition is: the sequence number of the segment being written and how many of
// its parts are complete; plus the parts of each complete segment still known (to map a part
// index past a segment's last part onto the next segment, as the spec says).
struct LlPosition {
  uint64_t open_msn = 0;
  uint64_t open_parts = 0;
  bool ended = false;
  uint64_t advance_part_limit = 6;  // advance_part_limit(part target)
  uint64_t parts_total = 0;         // parts written by the rendition so far (the next part file's number)
  uint64_t last_parts = 0;          // parts of the last complete segment (open_msn - 1); 0: unknown
};
// RFC 8216bis 6.2.5.2: how many parts past the last listed one a request may ask for before it
// gets a 400: three divided by the part target when that is under a second, else three.
uint64_t advance_part_limit(double part_target_s);
enum class BlockVerdict { ready, wait, too_far };
// ready: the playlist already holds the requested segment/part; wait: it will soon; too_far:
// the request is more than two segments, or more than the Advance Part Limit of parts, ahead
// (the spec's 400).
BlockVerdict decide_blocking(const LlPosition& now, const BlockingRequest& request);
// A part file asked for by its number (the preload hint's URI) before it exists: ready (it
// exists, or the rendition ended: serve or 404), wait, or too_far (more than the Advance Part
// Limit ahead: 404 at once).
BlockVerdict decide_part_file(const LlPosition& now, uint64_t part_number);

// Part files are numbered through the rendition, not per segment: "<prefix>p<number>.m4s".
// The preload hint is then always right, also when the next part turns out to start a new
// segment (a keyframe cut that nobody could foresee). nullopt if `name` is not one.
std::string part_file_name(const std::string& prefix, uint64_t number);
std::optional<uint64_t> parse_part_file_name(const std::string& prefix, const std::string& name);

}  // namespace harvest::media::hls

#pragma once
// HLS media playlist text (RFC 8216bis) from a list of segments and date ranges: a pure
// function, so windowing and tags are unit tested without files or pipelines.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace harvest::media::hls {

struct Segment {
  std::string uri;                  // relative to the playlist, e.g. "k3x9a-000012.ts"
  double duration_s = 0;
  int64_t program_date_time_ms = 0;  // wall time of the segment's first frame
  bool discontinuity = false;        // first segment of a new publisher session
};

// EXT-X-DATERANGE: a span of wall time with attributes, e.g. a product card on screen
// (class "com.harvestlive.card").
struct DateRange {
  std::string id;
  std::string cls;                     // CLASS; empty: omitted
  int64_t start_ms = 0;                // START-DATE
  std::optional<int64_t> end_ms;       // END-DATE (and DURATION) once known
  std::optional<double> planned_duration_s;
  // Client attributes. Names are sent as "X-NAME" (upper case, [A-Z0-9-]); values as quoted strings.
  std::vector<std::pair<std::string, std::string>> attributes;
};

struct PlaylistView {
  int target_duration_s = 1;
  uint64_t media_sequence = 0;
  uint64_t discontinuity_sequence = 0;  // discontinuities that have left the window
  std::vector<Segment> segments;       // oldest first
  std::vector<DateRange> date_ranges;  // those still relevant to the window
  bool ended = false;                  // EXT-X-ENDLIST
  std::string playlist_type;           // EXT-X-PLAYLIST-TYPE ("EVENT", "VOD"); empty: omitted (live)
};

std::string render_media_playlist(const PlaylistView& view);
// One EXT-X-DATERANGE line (with its newline), appended to `out`.
void render_date_range(const DateRange& range, std::string& out);

// Reads back what render_media_playlist() wrote (segments with their PDT and discontinuity,
// the media sequence, type, end list); date ranges and unknown tags are skipped. For replays
// found on disk after a restart.
PlaylistView parse_media_playlist(const std::string& text);
// Milliseconds since the epoch of an ISO 8601 UTC time as format_iso8601_ms() writes it;
// nullopt if it is not one.
std::optional<int64_t> parse_iso8601_ms(const std::string& text);

// "2026-11-22T19:20:00.123Z"
std::string format_iso8601_ms(int64_t ms_since_epoch);

// Six base-36 digits from the wall clock, different in every run of the server: put in front of
// segment names so that a restarted stream's files never take an earlier run's names.
std::string run_tag();
// Client attribute name as HLS allows it: "card id" -> "X-CARD-ID".
std::string client_attribute_name(const std::string& name);

}  // namespace harvest::media::hls

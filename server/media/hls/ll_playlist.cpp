#include "media/hls/ll_playlist.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace harvest::media::hls {
namespace {

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

// Digits only, no sign, no overflow; nullopt otherwise.
std::optional<uint64_t> parse_count(const std::string& text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

double part_hold_back_s(double part_target_s) { return 3.0 * part_target_s; }

std::string render_ll_playlist(const LlPlaylistView& v) {
  int target = std::max(v.target_duration_s, 1);
  for (const auto& s : v.segments)
    if (!s.uri.empty()) target = std::max(target, static_cast<int>(std::lround(s.duration_s)));

  std::string out = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  out += "#EXT-X-TARGETDURATION:" + std::to_string(target) + "\n";
  out += "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=" + seconds(part_hold_back_s(v.part_target_s)) + "\n";
  out += "#EXT-X-PART-INF:PART-TARGET=" + seconds(v.part_target_s) + "\n";
  out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(v.media_sequence) + "\n";
  if (v.discontinuity_sequence > 0)
    out += "#EXT-X-DISCONTINUITY-SEQUENCE:" + std::to_string(v.discontinuity_sequence) + "\n";

  const size_t first_with_parts = v.segments.size() > v.part_segments ? v.segments.size() - v.part_segments : 0;
  std::vector<bool> placed(v.date_ranges.size(), false);
  std::string map;
  for (size_t i = 0; i < v.segments.size(); ++i) {
    const LlSegment& s = v.segments[i];
    // The segment just opened, before its first part: nothing to list yet (its part 0 is the
    // preload hint). A PROGRAM-DATE-TIME or MAP with nothing after it would confuse players.
    if (s.uri.empty() && s.parts.empty()) continue;
    if (s.discontinuity && i > 0) out += "#EXT-X-DISCONTINUITY\n";
    if (!s.map_uri.empty() && s.map_uri != map) {
      out += "#EXT-X-MAP:URI=\"" + s.map_uri + "\"\n";
      map = s.map_uri;
    }
    out += "#EXT-X-PROGRAM-DATE-TIME:" + format_iso8601_ms(s.program_date_time_ms) + "\n";
    double duration = s.duration_s;
    if (s.uri.empty()) {
      duration = 0;
      for (const auto& p : s.parts) duration += p.duration_s;
    }
    const auto seg_end = s.program_date_time_ms + static_cast<int64_t>(std::llround(duration * 1000.0));
    for (size_t r = 0; r < v.date_ranges.size(); ++r) {
      if (!placed[r] && v.date_ranges[r].start_ms < seg_end) {
        render_date_range(v.date_ranges[r], out);
        placed[r] = true;
      }
    }
    if (i >= first_with_parts) {
      for (const auto& p : s.parts) {
        out += "#EXT-X-PART:DURATION=" + seconds(p.duration_s) + ",URI=\"" + p.uri + "\"";
        if (p.independent) out += ",INDEPENDENT=YES";
        out += "\n";
      }
    }
    if (!s.uri.empty()) out += "#EXTINF:" + seconds(s.duration_s) + ",\n" + s.uri + "\n";
  }
  if (!v.ended && !v.preload_hint_uri.empty())
    out += "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"" + v.preload_hint_uri + "\"\n";
  if (v.ended) out += "#EXT-X-ENDLIST\n";
  return out;
}

std::optional<BlockingRequest> parse_blocking_request(const std::map<std::string, std::string>& query,
                                                      std::string& error) {
  error.clear();
  const auto msn = query.find("_HLS_msn");
  const auto part = query.find("_HLS_part");
  if (msn == query.end()) {
    if (part != query.end()) error = "_HLS_part without _HLS_msn";
    return std::nullopt;
  }
  BlockingRequest r;
  const auto m = parse_count(msn->second);
  if (!m) {
    error = "_HLS_msn is not a non-negative integer";
    return std::nullopt;
  }
  r.msn = *m;
  if (part != query.end()) {
    const auto p = parse_count(part->second);
    if (!p) {
      error = "_HLS_part is not a non-negative integer";
      return std::nullopt;
    }
    r.part = *p;
  }
  return r;
}

uint64_t advance_part_limit(double part_target_s) {
  if (part_target_s <= 0 || part_target_s >= 1.0) return 3;
  return static_cast<uint64_t>(std::ceil(3.0 / part_target_s));
}

BlockVerdict decide_blocking(const LlPosition& now, const BlockingRequest& request) {
  // "greater than the Media Sequence Number of the last Media Segment in the current Playlist
  // plus two": the last complete one is open_msn - 1.
  if (request.msn > now.open_msn + 1) return BlockVerdict::too_far;
  BlockingRequest r = request;
  // "a Part index greater than that of the final Partial Segment of the Parent Segment" is
  // part 0 of the next one (the segment was cut on a keyframe the client could not foresee).
  if (now.open_msn > 0 && r.msn == now.open_msn - 1 && r.part && now.last_parts > 0 && *r.part >= now.last_parts)
    r = BlockingRequest{now.open_msn, 0};
  if (r.msn < now.open_msn) return BlockVerdict::ready;  // a complete segment
  if (now.ended) return BlockVerdict::ready;
  if (r.part) {
    if (r.msn == now.open_msn && *r.part < now.open_parts) return BlockVerdict::ready;
    // More parts ahead of the last one listed than the Advance Part Limit: 400 at once.
    const uint64_t ahead = r.msn == now.open_msn ? *r.part - now.open_parts : *r.part;
    if (ahead >= now.advance_part_limit) return BlockVerdict::too_far;
  }
  return BlockVerdict::wait;
}

BlockVerdict decide_part_file(const LlPosition& now, uint64_t part_number) {
  if (part_number < now.parts_total || now.ended) return BlockVerdict::ready;
  if (part_number - now.parts_total >= now.advance_part_limit) return BlockVerdict::too_far;
  return BlockVerdict::wait;
}

std::string part_file_name(const std::string& prefix, uint64_t number) {
  return prefix + "p" + std::to_string(number) + ".m4s";
}

std::optional<uint64_t> parse_part_file_name(const std::string& prefix, const std::string& name) {
  if (name.size() <= prefix.size() + 5 || name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  const std::string rest = name.substr(prefix.size());
  if (rest.front() != 'p' || rest.compare(rest.size() - 4, 4, ".m4s") != 0) return std::nullopt;
  return parse_count(rest.substr(1, rest.size() - 5));
}

}  // namespace harvest::media::hls

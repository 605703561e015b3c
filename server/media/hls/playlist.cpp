#include "media/hls/playlist.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace harvest::media::hls {
namespace {

std::string quoted(const std::string& value) {
  // A quoted-string may not hold a double quote, CR or LF.
  std::string out = "\"";
  for (char c : value)
    if (c != '"' && c != '\r' && c != '\n') out.push_back(c);
  out.push_back('"');
  return out;
}

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

// A segment lasts seconds, never a day: anything else (negative, NaN, 1e84 from a damaged file)
// reads as 0 so rendering and the target duration's lround stay in range (fuzz_hls_playlist:
// "%.3f" of 2.4e84 overflowed its buffer and the next read differed).
double segment_duration_s(const char* text) {
  const double d = std::strtod(text, nullptr);
  return d >= 0.0 && d <= 86400.0 ? d : 0.0;
}

}  // namespace

void render_date_range(const DateRange& r, std::string& out) {
  out += "#EXT-X-DATERANGE:ID=" + quoted(r.id);
  if (!r.cls.empty()) out += ",CLASS=" + quoted(r.cls);
  out += ",START-DATE=" + quoted(format_iso8601_ms(r.start_ms));
  if (r.end_ms) {
    const int64_t end = std::max(*r.end_ms, r.start_ms);
    out += ",END-DATE=" + quoted(format_iso8601_ms(end));
    out += ",DURATION=" + seconds(static_cast<double>(end - r.start_ms) / 1000.0);
  }
  if (r.planned_duration_s) out += ",PLANNED-DURATION=" + seconds(*r.planned_duration_s);
  for (const auto& [name, value] : r.attributes) out += "," + client_attribute_name(name) + "=" + quoted(value);
  out += "\n";
}

std::string format_iso8601_ms(int64_t ms) {
  const int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const auto millis = static_cast<int>(ms - secs * 1000);
  const auto t = static_cast<time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::string client_attribute_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c >= 'a' && c <= 'z') out.push_back(static_cast<char>(c - 'a' + 'A'));
    else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-') out.push_back(c);
    else out.push_back('-');
  }
  if (out.rfind("X-", 0) != 0) out = "X-" + out;
  return out;
}

std::string render_media_playlist(const PlaylistView& v) {
  int target = std::max(v.target_duration_s, 1);
  for (const auto& s : v.segments) target = std::max(target, static_cast<int>(std::lround(s.duration_s)));

  // Every segment starts with a keyframe and its SPS/PPS (h264parse config-interval=-1).
  std::string out = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  out += "#EXT-X-TARGETDURATION:" + std::to_string(target) + "\n";
  out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(v.media_sequence) + "\n";
  if (!v.playlist_type.empty()) out += "#EXT-X-PLAYLIST-TYPE:" + v.playlist_type + "\n";
  if (v.discontinuity_sequence > 0)
    out += "#EXT-X-DISCONTINUITY-SEQUENCE:" + std::to_string(v.discontinuity_sequence) + "\n";

  // Each date range goes just before the first segment that ends after it starts (ranges that
  // started before the window go before the first segment); ranges after the last segment go last.
  std::vector<bool> placed(v.date_ranges.size(), false);
  for (size_t i = 0; i < v.segments.size(); ++i) {
    const Segment& s = v.segments[i];
    if (s.discontinuity) out += "#EXT-X-DISCONTINUITY\n";
    out += "#EXT-X-PROGRAM-DATE-TIME:" + format_iso8601_ms(s.program_date_time_ms) + "\n";
    const auto seg_end = s.program_date_time_ms + static_cast<int64_t>(std::llround(s.duration_s * 1000.0));
    for (size_t r = 0; r < v.date_ranges.size(); ++r) {
      if (!placed[r] && v.date_ranges[r].start_ms < seg_end) {
        render_date_range(v.date_ranges[r], out);
        placed[r] = true;
      }
    }
    out += "#EXTINF:" + seconds(s.duration_s) + ",\n" + s.uri + "\n";
  }
  for (size_t r = 0; r < v.date_ranges.size(); ++r)
    if (!placed[r] && !v.segments.empty()) render_date_range(v.date_ranges[r], out);
  if (v.ended) out += "#EXT-X-ENDLIST\n";
  return out;
}

std::optional<int64_t> parse_iso8601_ms(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  char z = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo, &d, &h, &mi, &sec, &ms, &z) != 8 || z != 'Z')
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

PlaylistView parse_media_playlist(const std::string& text) {
  PlaylistView v;
  Segment next;
  auto starts = [](const std::string& line, const char* tag) { return line.rfind(tag, 0) == 0; };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    // CRLF, and any run of CRs: a URI never ends in one (stripping only one left "x\r" to lose
    // its last CR on the next read: not a fixed point; fuzz_hls_playlist).
    while (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (starts(line, "#EXT-X-TARGETDURATION:")) v.target_duration_s = std::atoi(line.c_str() + 22);
    else if (starts(line, "#EXT-X-MEDIA-SEQUENCE:")) v.media_sequence = std::strtoull(line.c_str() + 22, nullptr, 10);
    else if (starts(line, "#EXT-X-DISCONTINUITY-SEQUENCE:"))
      v.discontinuity_sequence = std::strtoull(line.c_str() + 30, nullptr, 10);
    else if (starts(line, "#EXT-X-PLAYLIST-TYPE:")) v.playlist_type = line.substr(21);
    else if (line == "#EXT-X-ENDLIST") v.ended = true;
    else if (line == "#EXT-X-DISCONTINUITY") next.discontinuity = true;
    else if (starts(line, "#EXT-X-PROGRAM-DATE-TIME:")) next.program_date_time_ms = parse_iso8601_ms(line.substr(25)).value_or(0);
    else if (starts(line, "#EXTINF:")) next.duration_s = segment_duration_s(line.c_str() + 8);
    else if (line.front() != '#') {
      next.uri = line;
      v.segments.push_back(std::move(next));
      next = Segment{};
    }
  }
  return v;
}

std::string run_tag() {
  static const char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  uint64_t v = static_cast<uint64_t>(now_us) % 2176782336ull;  // 36^6
  std::string out;
  do {
    out.insert(out.begin(), kDigits[v % 36]);
    v /= 36;
  } while (v > 0);
  return out;
}

}  // namespace harvest::media::hls

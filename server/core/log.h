#pragma once
// Structured logging: one line per event, logfmt style, on stderr.
//   ts=2026-11-22T19:20:00.123Z level=info event=listening http_port=8080
// Lines are written whole under a mutex so threads never interleave.
#include <cstddef>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

namespace harvest::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

void set_min_level(Level level);
bool parse_level(std::string_view name, Level& out);

// Values longer than this are cut (at a code point) and marked with how much was cut: client
// strings (an RTMP tcUrl, a user agent) reach the log, and one line must stay one short line.
inline constexpr size_t kMaxValueBytes = 512;

// A value as it appears after `key=`: quoted when it holds a space, '=', '"' or anything
// escaped; '"' and '\\' backslashed; \n \r \t named; every other control character (C0, DEL,
// C1, bidi overrides and isolates; text::is_control) and every byte that is not valid UTF-8
// written as \xHH or \u{HHHH}. So no raw ESC or other control byte from a client reaches the
// log, whichever value it arrives in.
std::string format_value(std::string_view value);

class Line {
public:
  Line(Level level, std::string_view event);
  ~Line();
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  Line& kv(std::string_view key, std::string_view value);
  Line& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  Line& kv(std::string_view key, const std::string& value) { return kv(key, std::string_view(value)); }
  Line& kv(std::string_view key, bool value) { return kv(key, value ? "true" : "false"); }
  template <class T>
    requires std::is_arithmetic_v<T>
  Line& kv(std::string_view key, T value) {
    if (enabled_) {
      out_ << ' ' << key << '=' << +value;
    }
    return *this;
  }

private:
  bool enabled_;
  std::ostringstream out_;
};

inline Line debug(std::string_view event) { return Line(Level::debug, event); }
inline Line info(std::string_view event) { return Line(Level::info, event); }
inline Line warn(std::string_view event) { return Line(Level::warn, event); }
inline Line error(std::string_view event) { return Line(Level::error, event); }

}  // namespace harvest::log

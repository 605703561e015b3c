#include "core/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "core/text.h"

namespace harvest::log {
namespace {
std::atomic<int> g_min_level{static_cast<int>(Level::info)};
std::mutex g_write_mutex;

const char* level_name(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

std::string utc_timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t secs = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

void append_hex(std::string& out, const char* prefix, uint32_t v, int digits, const char* suffix) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += prefix;
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += kHex[(v >> shift) & 0xf];
  out += suffix;
}
}  // namespace

std::string format_value(std::string_view value) {
  std::string body;
  bool quote = value.empty();
  size_t pos = 0;
  for (; pos < value.size() && pos < kMaxValueBytes;) {
    char32_t cp = 0;
    const size_t n = text::decode_utf8(value, pos, cp);
    if (n == 0) {
      append_hex(body, "\\x", static_cast<unsigned char>(value[pos]), 2, "");
      quote = true;
      ++pos;
      continue;
    }
    if (pos + n > kMaxValueBytes) break;  // cut before a code point that does not fit whole
    pos += n;
    if (cp == '"' || cp == '\\') {
      body += '\\';
      body += static_cast<char>(cp);
      quote = true;
    } else if (cp == '\n') {
      body += "\\n", quote = true;
    } else if (cp == '\r') {
      body += "\\r", quote = true;
    } else if (cp == '\t') {
      body += "\\t", quote = true;
    } else if (text::is_control(cp)) {
      if (cp < 0x80) append_hex(body, "\\x", cp, 2, "");
      else append_hex(body, "\\u{", cp, 4, "}");
      quote = true;
    } else {
      if (cp == ' ' || cp == '=') quote = true;
      body.append(value.substr(pos - n, n));
    }
  }
  if (pos < value.size()) {
    body += "...(" + std::to_string(value.size() - pos) + " more bytes)";
    quote = true;
  }
  return quote ? '"' + body + '"' : body;
}

void set_min_level(Level level) { g_min_level.store(static_cast<int>(level)); }

bool parse_level(std::string_view name, Level& out) {
  if (name == "debug") out = Level::debug;
  else if (name == "info") out = Level::info;
  else if (name == "warn") out = Level::warn;
  else if (name == "error") out = Level::error;
  else return false;
  return true;
}

Line::Line(Level level, std::string_view event)
    : enabled_(static_cast<int>(level) >= g_min_level.load()) {
  if (enabled_) {
    out_ << "ts=" << utc_timestamp() << " level=" << level_name(level) << " event=" << event;
  }
}

Line::~Line() {
  if (!enabled_) return;
  out_ << '\n';
  const std::string line = out_.str();
  std::lock_guard lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

Line& Line::kv(std::string_view key, std::string_view value) {
  if (!enabled_) return *this;
  out_ << ' ' << key << '=' << format_value(value);
  return *this;
}

}  // namespace harvest::log

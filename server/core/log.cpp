#include "core/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

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

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t') return true;
  }
  return false;
}
}  // namespace

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
  out_ << ' ' << key << '=';
  if (!needs_quotes(value)) {
    out_ << value;
    return *this;
  }
  out_ << '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out_ << '\\' << c;
    else if (c == '\n') out_ << "\\n";
    else out_ << c;
  }
  out_ << '"';
  return *this;
}

}  // namespace harvest::log

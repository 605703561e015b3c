#include "media/hls/replay_library.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/log.h"

namespace harvest::media::hls {

namespace fs = std::filesystem;

namespace {
std::optional<std::string> slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

int64_t duration_ms(const Segment& s) { return static_cast<int64_t>(std::llround(s.duration_s * 1000.0)); }

// Session ids are unix ms as decimal: newer is longer, or equal length and greater.
bool newer(const ReplayInfo& a, const ReplayInfo& b) {
  if (a.session.size() != b.session.size()) return a.session.size() > b.session.size();
  return a.session > b.session;
}
}  // namespace

ReplayLibrary::ReplayLibrary(std::string root, ReplayRetention retention)
    : root_(std::move(root)), retention_(retention) {}

bool ReplayLibrary::is_plain_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
  });
}

std::string ReplayLibrary::session_dir(const std::string& stream_id, const std::string& session) const {
  return root_ + "/" + stream_id + "/" + session;
}

void ReplayLibrary::recover(int64_t now_ms) {
  std::error_code ec;
  fs::create_directories(root_, ec);
  for (const auto& stream : fs::directory_iterator(root_, ec)) {
    if (!stream.is_directory()) continue;
    std::error_code ec2;
    for (const auto& session : fs::directory_iterator(stream.path(), ec2)) {
      if (!session.is_directory()) continue;
      const fs::path playlist = session.path() / "index.m3u8";
      if (!fs::exists(playlist)) {
        // A session that never got a segment (or a half-deleted one): nothing to replay.
        std::error_code ec3;
        fs::remove_all(session.path(), ec3);
        continue;
      }
      if (ReplayRecording::close_unfinished(playlist.string()))
        log::info("replay_closed_after_restart")
            .kv("stream", stream.path().filename().string())
            .kv("session", session.path().filename().string());
    }
    apply_retention(stream.path().filename().string(), now_ms);
  }
}

std::unique_ptr<ReplayRecording> ReplayLibrary::start_recording(const std::string& stream_id,
                                                                const std::string& session, int64_t now_ms) {
  if (!recording_enabled() || !is_plain_name(stream_id) || !is_plain_name(session)) return nullptr;
  // Room for the new one: keep one fewer finished replay than the policy allows.
  ReplayRetention room = retention_;
  room.keep_per_stream = retention_.keep_per_stream - 1;
  ReplayLibrary(root_, room).apply_retention(stream_id, now_ms);
  return std::make_unique<ReplayRecording>(session_dir(stream_id, session));
}

std::optional<PlaylistView> ReplayLibrary::playlist(const std::string& stream_id,
                                                    const std::string& session) const {
  if (!is_plain_name(stream_id) || !is_plain_name(session)) return std::nullopt;
  auto text = slurp(fs::path(session_dir(stream_id, session)) / "index.m3u8");
  if (!text) return std::nullopt;
  return parse_media_playlist(*text);
}

std::optional<ReplayInfo> ReplayLibrary::find(const std::string& stream_id,
                                              const std::string& session) const {
  auto view = playlist(stream_id, session);
  if (!view || view->segments.empty()) return std::nullopt;
  ReplayInfo info;
  info.session = session;
  info.live = !view->ended;
  info.segments = view->segments.size();
  info.started_at_ms = view->segments.front().program_date_time_ms;
  info.ended_at_ms = view->segments.back().program_date_time_ms + duration_ms(view->segments.back());
  for (const auto& s : view->segments) {
    info.duration_s += s.duration_s;
    if (s.discontinuity) ++info.discontinuities;
  }
  return info;
}

std::vector<ReplayInfo> ReplayLibrary::list(const std::string& stream_id) const {
  std::vector<ReplayInfo> out;
  if (!is_plain_name(stream_id)) return out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_ + "/" + stream_id, ec)) {
    const std::string session = entry.path().filename().string();
    if (!entry.is_directory() || !is_plain_name(session)) continue;
    if (auto info = find(stream_id, session)) out.push_back(std::move(*info));
  }
  std::sort(out.begin(), out.end(), newer);
  return out;
}

bool ReplayLibrary::remove(const std::string& stream_id, const std::string& session) {
  auto info = find(stream_id, session);
  if (!info || info->live) return false;
  std::error_code ec;
  fs::remove_all(session_dir(stream_id, session), ec);
  log::info("replay_deleted").kv("stream", stream_id).kv("session", session);
  return !ec;
}

void ReplayLibrary::apply_retention(const std::string& stream_id, int64_t now_ms) {
  const int64_t oldest_ms = retention_.max_age_days > 0
                                ? now_ms - static_cast<int64_t>(retention_.max_age_days) * 86'400'000
                                : INT64_MIN;
  size_t kept = 0;
  for (const ReplayInfo& r : list(stream_id)) {  // newest first
    if (r.live) continue;
    if (kept < retention_.keep_per_stream && r.started_at_ms >= oldest_ms) {
      ++kept;
      continue;
    }
    std::error_code ec;
    fs::remove_all(session_dir(stream_id, r.session), ec);
    log::info("replay_expired").kv("stream", stream_id).kv("session", r.session);
  }
}

double ReplayLibrary::position_s(const std::vector<Segment>& segments, int64_t pdt_ms) {
  double at = 0;
  for (const Segment& s : segments) {
    if (pdt_ms < s.program_date_time_ms) return at;  // before the replay, or in a reconnect gap
    if (pdt_ms < s.program_date_time_ms + duration_ms(s))
      return at + static_cast<double>(pdt_ms - s.program_date_time_ms) / 1000.0;
    at += s.duration_s;
  }
  return at;
}

}  // namespace harvest::media::hls

#include "media/hls/replay_recording.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/clock.h"
#include "core/log.h"

namespace harvest::media::hls {

namespace fs = std::filesystem;

namespace {
// A session with a card change every second for a day stays far below this; the bound only
// keeps a runaway host from growing the playlist without limit.
constexpr size_t kMaxDateRanges = 100'000;
}  // namespace

ReplayRecording::ReplayRecording(std::string dir, int64_t live_rewrite_ms)
    : dir_(std::move(dir)), playlist_file_(playlist_path()), live_rewrite_ms_(live_rewrite_ms) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) log::error("replay_dir_failed").kv("dir", dir_).kv("reason", ec.message());
}

ReplayRecording::~ReplayRecording() = default;

Status ReplayRecording::add_segment(const std::string& live_path, const Segment& segment) {
  if (finished_) return Status::ok();
  const fs::path target = fs::path(dir_) / segment.uri;
  std::error_code ec;
  fs::create_hard_link(live_path, target, ec);
  if (ec) {
    std::error_code copy_ec;
    fs::copy_file(live_path, target, fs::copy_options::overwrite_existing, copy_ec);
    if (copy_ec) return Status::error("cannot keep " + live_path + " for the replay: " + copy_ec.message());
  }
  segments_.push_back(segment);
  target_duration_s_ = std::max(target_duration_s_, static_cast<int>(std::lround(segment.duration_s)));
  changed();
  return Status::ok();
}

void ReplayRecording::changed() {
  pending_ = true;
  if (finished_ || last_write_ms_ < 0 || steady_ms() - last_write_ms_ >= live_rewrite_ms_) flush();
}

void ReplayRecording::flush() {
  if (!pending_ || segments_.empty()) return;
  if (auto st = write_playlist(); !st) log::error("replay_write_failed").kv("dir", dir_).kv("reason", st.message());
  last_write_ms_ = steady_ms();
  pending_ = false;
}

void ReplayRecording::add_date_range(const DateRange& range) {
  std::erase_if(date_ranges_, [&](const DateRange& r) { return r.id == range.id; });
  if (date_ranges_.size() >= kMaxDateRanges) return;
  date_ranges_.push_back(range);
  changed();
}

void ReplayRecording::end_date_range(const std::string& id, int64_t end_ms) {
  for (auto& r : date_ranges_) {
    if (r.id == id) {
      r.end_ms = end_ms;
      changed();
      return;
    }
  }
}

void ReplayRecording::finish() {
  if (finished_) return;
  finished_ = true;
  if (segments_.empty()) {
    // No media was ever recorded: nothing to replay.
    std::error_code ec;
    fs::remove_all(dir_, ec);
    return;
  }
  if (auto st = write_playlist(); !st)
    log::error("replay_write_failed").kv("dir", dir_).kv("reason", st.message());
  playlist_file_.release();
}

Status ReplayRecording::write_playlist() {
  PlaylistView view;
  view.target_duration_s = target_duration_s_;
  view.segments = segments_;
  view.date_ranges = date_ranges_;
  view.ended = finished_;
  view.playlist_type = finished_ ? "VOD" : "EVENT";
  return playlist_file_.write(render_media_playlist(view));
}

bool ReplayRecording::close_unfinished(const std::string& playlist_path) {
  std::ifstream in(playlist_path, std::ios::binary);
  if (!in) return false;
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  if (text.find("#EXT-X-ENDLIST") != std::string::npos) return false;
  const std::string event = "#EXT-X-PLAYLIST-TYPE:EVENT";
  if (auto p = text.find(event); p != std::string::npos)
    text.replace(p, event.size(), "#EXT-X-PLAYLIST-TYPE:VOD");
  if (!text.empty() && text.back() != '\n') text += "\n";
  text += "#EXT-X-ENDLIST\n";
  return static_cast<bool>(PlaylistFile(playlist_path).write(text));
}

}  // namespace harvest::media::hls

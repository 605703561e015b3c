#include "media/hls/hls_writer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/log.h"

namespace harvest::media::hls {

namespace fs = std::filesystem;

namespace {
std::string base36(uint64_t v) {
  static const char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[v % 36]);
    v /= 36;
  } while (v > 0);
  return out;
}
}  // namespace

HlsWriter::HlsWriter(std::string dir, HlsOptions options) : dir_(std::move(dir)), options_(options) {
  std::error_code ec;
  fs::remove_all(dir_, ec);
  fs::create_directories(dir_, ec);
  if (ec) log::error("hls_dir_failed").kv("dir", dir_).kv("reason", ec.message());
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  prefix_ = base36(static_cast<uint64_t>(now_us) % 2176782336ull);  // 6 base-36 digits, unique per run
  target_duration_s_ = std::max(1, static_cast<int>(std::ceil(options_.target_segment_s)));
}

HlsWriter::~HlsWriter() = default;

std::string HlsWriter::segment_prefix(uint64_t session_tag) const {
  return dir_ + "/" + prefix_ + "-" + std::to_string(session_tag) + "-";
}

void HlsWriter::begin_session(int64_t wall_ms_at_zero) {
  session_wall_ms_ = wall_ms_at_zero;
  pending_discontinuity_ = sessions_ > 0;
  ++sessions_;
  ended_ = false;
}

std::optional<int64_t> HlsWriter::program_date_time_ms(uint64_t running_time_ns) const {
  if (sessions_ == 0) return std::nullopt;
  return session_wall_ms_ + static_cast<int64_t>(running_time_ns / 1000000);
}

Status HlsWriter::add_segment(const std::string& path, uint64_t start_rt_ns, uint64_t end_rt_ns) {
  const fs::path file(path);
  std::error_code ec;
  if (end_rt_ns <= start_rt_ns || !fs::exists(file, ec) || fs::file_size(file, ec) == 0) {
    fs::remove(file, ec);
    return Status::ok();
  }
  Segment s;
  s.uri = file.filename().string();
  s.duration_s = static_cast<double>(end_rt_ns - start_rt_ns) / 1e9;
  s.program_date_time_ms = session_wall_ms_ + static_cast<int64_t>(start_rt_ns / 1000000);
  s.discontinuity = pending_discontinuity_;
  pending_discontinuity_ = false;
  target_duration_s_ = std::max(target_duration_s_, static_cast<int>(std::lround(s.duration_s)));
  if (recording_) {
    // Linked before the window can delete it; a failure costs the replay a segment, not the live.
    if (auto st = recording_->add_segment(path, s); !st) log::error("replay_segment_lost").kv("reason", st.message());
  }
  segments_.push_back(std::move(s));
  ++next_sequence_;
  while (segments_.size() > options_.window_segments) {
    if (segments_.front().discontinuity) ++discontinuity_sequence_;
    leaving_.push_back(segments_.front().uri);
    segments_.pop_front();
    ++media_sequence_;
  }
  // Date ranges that ended before the window are of no use to any player.
  if (!segments_.empty()) {
    const int64_t window_start = segments_.front().program_date_time_ms;
    std::erase_if(date_ranges_, [&](const DateRange& r) { return r.end_ms && *r.end_ms < window_start; });
  }
  delete_lingering();
  return write_playlist();
}

void HlsWriter::delete_lingering() {
  while (leaving_.size() > options_.linger_segments) {
    std::error_code ec;
    fs::remove(fs::path(dir_) / leaving_.front(), ec);
    leaving_.pop_front();
  }
}

void HlsWriter::add_date_range(DateRange range) {
  std::erase_if(date_ranges_, [&](const DateRange& r) { return r.id == range.id; });
  if (recording_) recording_->add_date_range(range);
  date_ranges_.push_back(std::move(range));
  while (date_ranges_.size() > options_.max_date_ranges) date_ranges_.erase(date_ranges_.begin());
  if (!segments_.empty()) write_playlist();
}

bool HlsWriter::end_date_range(const std::string& id, int64_t end_ms) {
  // The recording also knows ranges that already left the live window.
  if (recording_) recording_->end_date_range(id, end_ms);
  for (auto& r : date_ranges_) {
    if (r.id == id) {
      r.end_ms = end_ms;
      if (!segments_.empty()) write_playlist();
      return true;
    }
  }
  return false;
}

void HlsWriter::end_stream() {
  ended_ = true;
  if (recording_) recording_->finish();
  recording_.reset();
  if (!segments_.empty()) write_playlist();
}

void HlsWriter::remove_files() {
  if (recording_) recording_->finish();
  recording_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
  segments_.clear();
  leaving_.clear();
}

Status HlsWriter::write_playlist() {
  PlaylistView view;
  view.target_duration_s = target_duration_s_;
  view.media_sequence = media_sequence_;
  view.discontinuity_sequence = discontinuity_sequence_;
  view.segments.assign(segments_.begin(), segments_.end());
  view.date_ranges = date_ranges_;
  view.ended = ended_;
  const std::string text = render_media_playlist(view);
  // Write beside, then rename: HTTP readers see the old or the new playlist, never half of one.
  const std::string tmp = playlist_path() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) return Status::error("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, playlist_path(), ec);
  if (ec) return Status::error("cannot rename " + tmp + ": " + ec.message());
  return Status::ok();
}

}  // namespace harvest::media::hls

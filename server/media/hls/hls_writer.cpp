#include "media/hls/hls_writer.h"

#include <cmath>
#include <filesystem>

#include "core/log.h"

namespace harvest::media::hls {

namespace fs = std::filesystem;

HlsWriter::HlsWriter(std::string dir, HlsOptions options)
    : dir_(std::move(dir)), options_(options), playlist_file_(playlist_path()) {
  std::error_code ec;
  fs::remove_all(dir_, ec);
  fs::create_directories(dir_, ec);
  if (ec) log::error("hls_dir_failed").kv("dir", dir_).kv("reason", ec.message());
  prefix_ = run_tag();
  target_duration_s_ = std::max(1, static_cast<int>(std::ceil(options_.target_segment_s)));
}

HlsWriter::~HlsWriter() = default;

std::string HlsWriter::segment_prefix(uint64_t session_tag) const {
  return dir_ + "/" + prefix_ + "-" + std::to_string(session_tag) + "-";
}

void HlsWriter::begin_session(int64_t wall_ms_at_zero) {
  std::lock_guard lock(mutex_);
  session_wall_ms_ = wall_ms_at_zero;
  pending_discontinuity_ = sessions_ > 0;
  ++sessions_;
  ended_ = false;
}

std::optional<int64_t> HlsWriter::program_date_time_ms(uint64_t running_time_ns) const {
  std::lock_guard lock(mutex_);
  if (sessions_ == 0) return std::nullopt;
  return session_wall_ms_ + static_cast<int64_t>(running_time_ns / 1000000);
}

Status HlsWriter::add_segment(const std::string& path, uint64_t start_rt_ns, uint64_t end_rt_ns) {
  Status st = list_segment(path, start_rt_ns, end_rt_ns);
  settle();
  return st;
}

Status HlsWriter::list_segment(const std::string& path, uint64_t start_rt_ns, uint64_t end_rt_ns) {
  const fs::path file(path);
  if (end_rt_ns <= start_rt_ns) {
    std::error_code ec;
    fs::remove(file, ec);
    return Status::ok();
  }
  std::lock_guard lock(mutex_);
  Segment s;
  s.uri = file.filename().string();
  s.duration_s = static_cast<double>(end_rt_ns - start_rt_ns) / 1e9;
  s.program_date_time_ms = session_wall_ms_ + static_cast<int64_t>(start_rt_ns / 1000000);
  s.discontinuity = pending_discontinuity_;
  pending_discontinuity_ = false;
  target_duration_s_ = std::max(target_duration_s_, static_cast<int>(std::lround(s.duration_s)));
  unrecorded_.emplace_back(path, s);
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
  return write_playlist();
}

void HlsWriter::settle() {
  std::vector<std::pair<std::string, Segment>> to_record;
  std::vector<std::string> to_delete;
  {
    std::lock_guard lock(mutex_);
    to_record.swap(unrecorded_);
    while (leaving_.size() > options_.linger_segments) {
      to_delete.push_back(leaving_.front());
      leaving_.pop_front();
    }
  }
  // Linked before the window can delete it (deletion waits linger_segments more segments); a
  // failure costs the replay a segment, not the live.
  if (recording_) {
    for (const auto& [path, segment] : to_record)
      if (auto st = recording_->add_segment(path, segment); !st) log::error("replay_segment_lost").kv("reason", st.message());
  }
  for (const auto& uri : to_delete) {
    std::error_code ec;
    fs::remove(fs::path(dir_) / uri, ec);
  }
}

void HlsWriter::add_date_range(DateRange range) {
  if (recording_) recording_->add_date_range(range);
  if (ll_) ll_->add_date_range(range);
  std::lock_guard lock(mutex_);
  std::erase_if(date_ranges_, [&](const DateRange& r) { return r.id == range.id; });
  date_ranges_.push_back(std::move(range));
  while (date_ranges_.size() > options_.max_date_ranges) date_ranges_.erase(date_ranges_.begin());
  if (!segments_.empty()) write_playlist();
}

bool HlsWriter::end_date_range(const std::string& id, int64_t end_ms) {
  // The recording also knows ranges that already left the live window.
  if (recording_) recording_->end_date_range(id, end_ms);
  if (ll_) ll_->end_date_range(id, end_ms);
  std::lock_guard lock(mutex_);
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
  settle();  // the recording gets every segment before it finishes
  if (ll_) ll_->end_stream();
  if (recording_) recording_->finish();
  recording_.reset();
  std::lock_guard lock(mutex_);
  ended_ = true;
  if (!segments_.empty()) write_playlist();
}

void HlsWriter::remove_files() {
  settle();
  if (recording_) recording_->finish();
  recording_.reset();
  std::lock_guard lock(mutex_);
  playlist_file_.release();
  std::error_code ec;
  fs::remove_all(dir_, ec);
  segments_.clear();
  leaving_.clear();
}

uint64_t HlsWriter::next_sequence() const {
  std::lock_guard lock(mutex_);
  return next_sequence_;
}

uint64_t HlsWriter::media_sequence() const {
  std::lock_guard lock(mutex_);
  return media_sequence_;
}

size_t HlsWriter::segment_count() const {
  std::lock_guard lock(mutex_);
  return segments_.size();
}

int HlsWriter::sessions() const {
  std::lock_guard lock(mutex_);
  return sessions_;
}

Status HlsWriter::write_playlist() {
  PlaylistView view;
  view.target_duration_s = target_duration_s_;
  view.media_sequence = media_sequence_;
  view.discontinuity_sequence = discontinuity_sequence_;
  view.segments.assign(segments_.begin(), segments_.end());
  view.date_ranges = date_ranges_;
  view.ended = ended_;
  return playlist_file_.write(render_media_playlist(view));
}

}  // namespace harvest::media::hls

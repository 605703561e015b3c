#include "media/hls/ll_hls.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/log.h"

namespace harvest::media::hls {

namespace fs = std::filesystem;

namespace {

bool write_file(const std::string& path, const std::string& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    log::error("llhls_write_failed").kv("path", path).kv("reason", std::strerror(errno));
    return false;
  }
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}
}  // namespace

LlHlsStream::LlHlsStream(std::string dir, LlHlsOptions options) : dir_(std::move(dir)), options_(options) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  prefix_ = "ll" + run_tag() + "-";
}

LlHlsStream::~LlHlsStream() {
  if (segment_file_ != nullptr) std::fclose(segment_file_);
}

void LlHlsStream::set_on_part(std::function<void()> on_part) {
  std::lock_guard lock(mutex_);
  on_part_ = std::move(on_part);
}

void LlHlsStream::notify() {
  std::function<void()> fn;
  {
    std::lock_guard lock(mutex_);
    fn = on_part_;
  }
  if (fn) fn();
}

void LlHlsStream::begin_session(uint64_t session_tag, int64_t wall_ms_at_zero, bool has_video, bool has_audio) {
  if (started_) finish();
  session_tag_ = session_tag;
  wall_ms_at_zero_ = wall_ms_at_zero;
  expect_video_ = has_video;
  expect_audio_ = has_audio;
  video_set_ = audio_set_ = false;
  started_ = false;
  init_written_ = false;
  muxer_ = Fmp4Muxer{};
  video_pending_.clear();
  audio_pending_.clear();
  last_video_.reset();
  last_gop_frames_ = segment_frames_ = 0;
  next_audio_ns_ = -1;
  std::lock_guard lock(mutex_);
  pending_discontinuity_ = sessions_ > 0;
  ++sessions_;
  ended_ = false;
}

void LlHlsStream::set_video(std::string_view avc_config, int width, int height) {
  if (started_) return;  // a new configuration mid-session is not followed (MPEG-TS only)
  muxer_.set_video(avc_config, width, height);
  video_set_ = !avc_config.empty();
}

void LlHlsStream::set_audio(std::string_view asc, int rate, int channels) {
  if (started_) return;
  muxer_.set_audio(asc, rate, channels);
  audio_set_ = true;
}

// Parts are cut so that a segment divides evenly, from the previous segment's length in frames:
// a 25-frame GOP at 25 fps in parts of at most 0.5 s (12 frames) is cut 9 + 9 + 7, not
// 12 + 12 + 1. hls.js (1.7, lowLatencyMode) skips a part that short at the end of a segment
// when its buffer ends within maxFragLookUpTolerance (0.25 s) of the segment's end, and the
// 40 ms gap stalled playback (browser.ll_hls_play: `waiting` at every such gap). Parts stay within
// PART-TARGET (the MUST); the cost is parts below 85 % of it (a SHOULD), i.e. more requests.
int LlHlsStream::part_frames() const {
  if (last_gop_frames_ <= 0 || last_video_duration_ns_ <= 0) return 0;
  const auto target_ns = static_cast<int64_t>(options_.part_target_s * 1e9);
  const int fit = static_cast<int>(std::max<int64_t>(target_ns / last_video_duration_ns_, 1));
  const int parts = (last_gop_frames_ + fit - 1) / fit;
  return (last_gop_frames_ + parts - 1) / parts;
}

bool LlHlsStream::ready() const {
  return (!expect_video_ || video_set_) && (!expect_audio_ || audio_set_) && (expect_video_ || expect_audio_);
}

void LlHlsStream::open_segment(int64_t start_ns) {
  seg_start_ns_ = part_start_ns_ = start_ns;
  std::lock_guard lock(mutex_);
  LlSegment s;
  s.program_date_time_ms = wall_ms_at_zero_ + start_ns / 1'000'000;
  s.discontinuity = pending_discontinuity_;
  pending_discontinuity_ = false;
  s.map_uri = init_uri_;
  segments_.push_back(std::move(s));
  open_ = true;
  render_locked();  // the preload hint names the new segment's first part
  const std::string path = dir_ + "/" + prefix_ + "s" + std::to_string(next_msn_) + ".m4s";
  segment_file_ = std::fopen(path.c_str(), "wb");
  if (segment_file_ == nullptr) log::error("llhls_write_failed").kv("path", path).kv("reason", std::strerror(errno));
}

void LlHlsStream::add_video(std::string_view avcc, int64_t dts_ns, int64_t pts_ns, bool keyframe) {
  if (!started_) {
    if (!keyframe || !ready() || !muxer_.has_video()) return;
    if (!init_written_) {
      init_uri_ = prefix_ + "init" + std::to_string(session_tag_) + ".mp4";
      init_written_ = write_file(dir_ + "/" + init_uri_, muxer_.init_segment());
    }
    started_ = true;
    // Audio that came before the first keyframe is not played by anyone: drop it.
    audio_pending_.clear();
    open_segment(dts_ns);
  }
  if (last_video_) {
    last_video_->duration_ns = std::max<int64_t>(dts_ns - last_video_->dts_ns, 1);
    last_video_duration_ns_ = last_video_->duration_ns;
    video_pending_.push_back(std::move(*last_video_));
    last_video_.reset();
    ++segment_frames_;
  }
  // Half a frame of slack: 30 frames at 33.333 ms are 999.99 ms, and a 1 s GOP should cut.
  const bool seg_cut = keyframe && dts_ns > seg_start_ns_ &&
                       dts_ns - seg_start_ns_ + last_video_duration_ns_ / 2 >=
                           static_cast<int64_t>(options_.segment_target_s * 1e9);
  const auto part_target_ns = static_cast<int64_t>(options_.part_target_s * 1e9);
  // Cut before this frame if it would take the part past the target, or the part has its share
  // of the segment's frames.
  const int share = part_frames();
  const bool part_cut = !video_pending_.empty() &&
                        (seg_cut || dts_ns + last_video_duration_ns_ - part_start_ns_ > part_target_ns ||
                         (share > 0 && static_cast<int>(video_pending_.size()) >= share));
  if (part_cut) cut_part(dts_ns);
  if (seg_cut) {
    last_gop_frames_ = segment_frames_;
    segment_frames_ = 0;
    close_segment(dts_ns, true);
    open_segment(dts_ns);
    notify();  // requests for the whole segment (_HLS_msn without _HLS_part)
  }
  Fmp4Muxer::Sample s;
  s.data.assign(avcc);
  s.dts_ns = dts_ns;
  s.pts_ns = pts_ns;
  s.keyframe = keyframe;
  last_video_ = std::move(s);
}

void LlHlsStream::add_audio(std::string_view raw, int64_t pts_ns) {
  if (!started_ && expect_video_) return;  // starts with the first keyframe
  if (!started_) {
    if (!ready()) return;
    if (!init_written_) {
      init_uri_ = prefix_ + "init" + std::to_string(session_tag_) + ".mp4";
      init_written_ = write_file(dir_ + "/" + init_uri_, muxer_.init_segment());
    }
    started_ = true;
    open_segment(pts_ns);
  }
  Fmp4Muxer::Sample s;
  s.data.assign(raw);
  s.duration_ns = Fmp4Muxer::aac_frame_ns(muxer_.audio_rate());
  // Within half a frame of where the last one ended: it follows on (see next_audio_ns_); further
  // off (a gap on the uplink, a clock jump): the clock restarts at its own time.
  if (next_audio_ns_ >= 0 && std::llabs(pts_ns - next_audio_ns_) < s.duration_ns / 2) pts_ns = next_audio_ns_;
  s.dts_ns = s.pts_ns = pts_ns;
  next_audio_ns_ = pts_ns + s.duration_ns;
  audio_pending_.push_back(std::move(s));
  if (!expect_video_) {  // audio only: parts and segments on the audio clock
    const int64_t end = pts_ns + s.duration_ns;
    if (end - part_start_ns_ >= static_cast<int64_t>(options_.part_target_s * 1e9) - s.duration_ns / 2) {
      cut_part(end);
      if (end - seg_start_ns_ >= static_cast<int64_t>(options_.segment_target_s * 1e9)) {
        close_segment(end, true);
        open_segment(end);
        notify();
      }
    }
  }
}

void LlHlsStream::cut_part(int64_t end_ns) {
  // The audio before the cut belongs to this part; later audio waits for the next.
  std::vector<Fmp4Muxer::Sample> audio;
  auto split = std::find_if(audio_pending_.begin(), audio_pending_.end(),
                            [&](const Fmp4Muxer::Sample& a) { return a.pts_ns >= end_ns; });
  audio.assign(std::make_move_iterator(audio_pending_.begin()), std::make_move_iterator(split));
  audio_pending_.erase(audio_pending_.begin(), split);
  if (video_pending_.empty() && audio.empty()) return;
  const bool independent = video_pending_.empty() ? !expect_video_ : video_pending_.front().keyframe;
  const std::string bytes = muxer_.fragment(++fragment_sequence_, video_pending_, audio);
  video_pending_.clear();
  uint64_t number = 0;
  {
    std::lock_guard lock(mutex_);
    number = parts_written_;
  }
  const std::string uri = part_file_name(prefix_, number);
  write_file(dir_ + "/" + uri, bytes);
  if (segment_file_ != nullptr) std::fwrite(bytes.data(), 1, bytes.size(), segment_file_);
  {
    std::lock_guard lock(mutex_);
    if (segments_.empty() || !open_) return;
    segments_.back().parts.push_back({uri, static_cast<double>(std::max<int64_t>(end_ns - part_start_ns_, 0)) / 1e9, independent});
    ++parts_written_;
    render_locked();
  }
  part_start_ns_ = end_ns;
  notify();
}

void LlHlsStream::close_segment(int64_t end_ns, bool reopening) {
  if (segment_file_ != nullptr) {
    std::fclose(segment_file_);
    segment_file_ = nullptr;
  }
  std::vector<std::string> to_delete;
  {
    std::lock_guard lock(mutex_);
    if (segments_.empty() || !open_) return;
    open_ = false;
    LlSegment& s = segments_.back();
    if (s.parts.empty()) {  // nothing was written: no segment
      std::error_code ec;
      fs::remove(dir_ + "/" + prefix_ + "s" + std::to_string(next_msn_) + ".m4s", ec);
      pending_discontinuity_ = pending_discontinuity_ || s.discontinuity;
      segments_.pop_back();
      if (!reopening) render_locked();
      return;
    }
    s.uri = prefix_ + "s" + std::to_string(next_msn_) + ".m4s";
    s.duration_s = static_cast<double>(std::max<int64_t>(end_ns - seg_start_ns_, 0)) / 1e9;
    ++next_msn_;
    while (segments_.size() > options_.window_segments) {
      const LlSegment& old = segments_.front();
      std::vector<std::string> files{old.uri};
      for (const auto& p : old.parts) files.push_back(p.uri);
      leaving_.emplace_back(old.uri, std::move(files));
      if (segments_.size() > 1 && segments_[1].discontinuity) ++discontinuity_sequence_;
      segments_.pop_front();
      ++media_sequence_;
    }
    while (leaving_.size() > options_.linger_segments) {
      for (auto& f : leaving_.front().second) to_delete.push_back(std::move(f));
      leaving_.pop_front();
    }
    if (!segments_.empty()) {
      const int64_t window_start = segments_.front().program_date_time_ms;
      std::erase_if(date_ranges_, [&](const DateRange& r) { return r.end_ms && *r.end_ms < window_start; });
    }
    // Reopening: open_segment() renders, so that no reader sees the playlist without its
    // preload hint in between.
    if (!reopening) render_locked();
  }
  for (const auto& f : to_delete) {
    std::error_code ec;
    fs::remove(dir_ + "/" + f, ec);
  }
}

void LlHlsStream::finish() {
  if (!started_) return;
  if (last_video_) {
    last_video_->duration_ns = last_video_duration_ns_;
    const int64_t end = last_video_->dts_ns + last_video_duration_ns_;
    video_pending_.push_back(std::move(*last_video_));
    last_video_.reset();
    cut_part(end);
    close_segment(end);
  } else if (!audio_pending_.empty()) {
    const int64_t end = audio_pending_.back().pts_ns + audio_pending_.back().duration_ns;
    cut_part(end);
    close_segment(end);
  } else {
    close_segment(part_start_ns_);
  }
  started_ = false;
  audio_pending_.clear();
  notify();
}

void LlHlsStream::render_locked() {
  LlPlaylistView v;
  v.target_duration_s = std::max(1, static_cast<int>(std::ceil(options_.segment_target_s)));
  v.part_target_s = options_.part_target_s;
  v.media_sequence = media_sequence_;
  v.discontinuity_sequence = discontinuity_sequence_;
  v.segments.assign(segments_.begin(), segments_.end());
  if (open_ && !segments_.empty())
    v.preload_hint_uri = part_file_name(prefix_, parts_written_);
  v.date_ranges = date_ranges_;
  v.ended = ended_;
  playlist_ = render_ll_playlist(v);
}

std::string LlHlsStream::playlist() const {
  std::lock_guard lock(mutex_);
  return playlist_;
}

LlPosition LlHlsStream::position() const {
  std::lock_guard lock(mutex_);
  LlPosition p;
  p.open_msn = next_msn_;
  p.open_parts = open_ && !segments_.empty() ? segments_.back().parts.size() : 0;
  p.ended = ended_;
  p.advance_part_limit = advance_part_limit(options_.part_target_s);
  p.parts_total = parts_written_;
  // The last complete segment: the one before the open one, or the last one when none is open.
  const size_t complete = open_ && !segments_.empty() ? segments_.size() - 1 : segments_.size();
  p.last_parts = complete > 0 ? segments_[complete - 1].parts.size() : 0;
  return p;
}

uint64_t LlHlsStream::parts_written() const {
  std::lock_guard lock(mutex_);
  return parts_written_;
}

void LlHlsStream::add_date_range(DateRange range) {
  std::lock_guard lock(mutex_);
  std::erase_if(date_ranges_, [&](const DateRange& r) { return r.id == range.id; });
  date_ranges_.push_back(std::move(range));
  while (date_ranges_.size() > 64) date_ranges_.erase(date_ranges_.begin());
  if (!segments_.empty()) render_locked();
}

void LlHlsStream::end_date_range(const std::string& id, int64_t end_ms) {
  std::lock_guard lock(mutex_);
  for (auto& r : date_ranges_)
    if (r.id == id) r.end_ms = end_ms;
  if (!segments_.empty()) render_locked();
}

void LlHlsStream::end_stream() {
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
    render_locked();
  }
  notify();
}

}  // namespace harvest::media::hls

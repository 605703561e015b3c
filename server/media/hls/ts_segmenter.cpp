#include "media/hls/ts_segmenter.h"

#include <cerrno>
#include <cstring>

#include "core/log.h"

namespace harvest::media::hls {

namespace {
// Offset of the payload in a packet (after the header and any adaptation field), or kPacket.
size_t payload_offset(const uint8_t* p) {
  size_t off = 4;
  if (p[3] & 0x20) off += 1u + p[4];
  return (p[3] & 0x10) != 0 ? off : TsSegmenter::kPacket;
}
}  // namespace

TsSegmenter::TsSegmenter(Options options, Closed on_closed)
    : options_(std::move(options)), on_closed_(std::move(on_closed)), index_(options_.start_index) {}

TsSegmenter::~TsSegmenter() { close_current(last_ns_, false); }

int TsSegmenter::pid(const uint8_t* p) {
  if (p[0] != 0x47) return -1;
  return static_cast<int>(((p[1] & 0x1fu) << 8) | p[2]);
}

bool TsSegmenter::unit_start(const uint8_t* p) { return (p[1] & 0x40) != 0; }

bool TsSegmenter::random_access(const uint8_t* p) {
  return (p[3] & 0x20) != 0 && p[4] > 0 && (p[5] & 0x40) != 0;
}

std::optional<uint64_t> TsSegmenter::pes_pts(const uint8_t* p) {
  if (!unit_start(p)) return std::nullopt;
  const size_t off = payload_offset(p);
  if (off + 14 > kPacket) return std::nullopt;
  const uint8_t* h = p + off;
  if (h[0] != 0 || h[1] != 0 || h[2] != 1) return std::nullopt;
  if ((h[7] & 0x80) == 0) return std::nullopt;  // no PTS
  const uint8_t* t = h + 9;
  return (uint64_t{t[0] & 0x0eu} << 29) | (uint64_t{t[1]} << 22) | (uint64_t{t[2] & 0xfeu} << 14) |
         (uint64_t{t[3]} << 7) | (uint64_t{t[4]} >> 1);
}

void TsSegmenter::remember_tables(const uint8_t* p) {
  const int id = pid(p);
  if (!unit_start(p) || (id != 0 && id != pmt_pid_)) return;  // one-packet tables, as mpegtsmux writes them
  size_t off = payload_offset(p);
  if (off >= kPacket) return;
  off += 1u + p[off];  // pointer_field
  if (off + 3 > kPacket) return;
  const size_t section_end = std::min<size_t>(kPacket, off + 3 + (((p[off + 1] & 0x0fu) << 8) | p[off + 2]));
  if (id == 0) {
    pat_.assign(reinterpret_cast<const char*>(p), kPacket);
    // Programs after an 8-byte header, 4 bytes each, before the 4-byte CRC.
    for (size_t prog = off + 8; prog + 4 + 4 <= section_end; prog += 4) {
      if (((p[prog] << 8) | p[prog + 1]) == 0) continue;  // network PID
      pmt_pid_ = static_cast<int>(((p[prog + 2] & 0x1fu) << 8) | p[prog + 3]);
      break;
    }
    return;
  }
  pmt_.assign(reinterpret_cast<const char*>(p), kPacket);
  have_pmt_ = true;
  // PMT: 12-byte header incl. PCR PID and program_info_length, then the elementary streams.
  if (off + 12 > section_end) return;
  size_t es = off + 12 + (((p[off + 10] & 0x0fu) << 8) | p[off + 11]);
  video_pid_ = -1;
  while (es + 5 + 4 <= section_end) {
    const uint8_t stream_type = p[es];
    const int es_pid = static_cast<int>(((p[es + 1] & 0x1fu) << 8) | p[es + 2]);
    if (stream_type == 0x1b || stream_type == 0x24) {  // H.264 (or HEVC, should one get here)
      video_pid_ = es_pid;
      break;
    }
    es += 5 + (((p[es + 3] & 0x0fu) << 8) | p[es + 4]);
  }
}

uint64_t TsSegmenter::running_time_of(uint64_t pts90) {
  // Unwrap the 33-bit clock against the last PTS seen.
  constexpr uint64_t kWrap = uint64_t{1} << 33;
  if (anchored_) {
    const uint64_t base = last_pts90_ - (last_pts90_ % kWrap);
    uint64_t v = base + pts90;
    if (v + kWrap / 2 < last_pts90_) v += kWrap;
    else if (v > last_pts90_ + kWrap / 2 && v >= kWrap) v -= kWrap;
    pts90 = v;
  }
  last_pts90_ = pts90;
  if (!anchored_) return 0;
  const int64_t delta_ns = (static_cast<int64_t>(pts90) - static_cast<int64_t>(anchor_pts90_)) * 100000 / 9;
  const int64_t rt = static_cast<int64_t>(anchor_rt_ns_) + delta_ns;
  return rt > 0 ? static_cast<uint64_t>(rt) : 0;
}

void TsSegmenter::open_next(uint64_t start_ns, bool starts_with_pat) {
  char name[32];
  std::snprintf(name, sizeof name, "%06llu.ts", static_cast<unsigned long long>(index_++));
  path_ = options_.path_prefix + name;
  file_ = std::fopen(path_.c_str(), "wb");
  if (file_ == nullptr) {
    log::error("hls_segment_open_failed").kv("path", path_).kv("reason", std::strerror(errno));
    return;
  }
  // Small enough that flushing the file at a cut writes little (the segment is listed only once
  // its bytes are written), large enough to cost a handful of writes per second.
  write_buffer_.resize(64 * 1024);
  std::setvbuf(file_, write_buffer_.data(), _IOFBF, write_buffer_.size());
  start_ns_ = start_ns;
  if (!starts_with_pat && !pat_.empty() && !pmt_.empty()) {
    std::fwrite(pat_.data(), 1, pat_.size(), file_);
    std::fwrite(pmt_.data(), 1, pmt_.size(), file_);
  }
}

void TsSegmenter::close_current(uint64_t end_ns, bool report) {
  if (file_ == nullptr) return;
  // Reported once its bytes are written, before the close: readers open it by name, and the
  // sooner it is listed the better (closing costs the file system more than writing here).
  const bool ok = std::fflush(file_) == 0;
  if (!ok) log::error("hls_segment_write_failed").kv("path", path_).kv("reason", std::strerror(errno));
  if (report && ok && on_closed_) on_closed_(path_, start_ns_, std::max(end_ns, start_ns_));
  std::fclose(file_);
  file_ = nullptr;
}

void TsSegmenter::flush_run() {
  if (run_len_ > 0 && file_ != nullptr) std::fwrite(run_, 1, run_len_, file_);
  run_len_ = 0;
}

void TsSegmenter::write(const uint8_t* data, size_t size, uint64_t running_time_ns) {
  run_ = data;
  run_len_ = 0;
  for (size_t off = 0; off + kPacket <= size; off += kPacket) {
    const uint8_t* p = data + off;
    const int id = pid(p);
    if (id < 0) continue;  // not a TS packet: skip it
    remember_tables(p);
    uint64_t now_ns = last_ns_;
    if (auto pts = pes_pts(p)) {
      if (!anchored_) {
        running_time_of(*pts);
        anchored_ = true;
        anchor_pts90_ = last_pts90_;
        anchor_rt_ns_ = running_time_ns;
        now_ns = running_time_ns;
      } else {
        now_ns = running_time_of(*pts);
      }
      last_ns_ = std::max(last_ns_, now_ns);
    }
    const bool video_stream = video_pid_ >= 0;
    const bool cut_point = video_stream ? (id == video_pid_ && unit_start(p) && random_access(p))
                                        : (have_pmt_ && id == 0 && unit_start(p));
    if (cut_point && (file_ == nullptr || now_ns >= start_ns_ + options_.target_ns)) {
      flush_run();
      close_current(now_ns, true);
      open_next(now_ns, id == 0);
      run_ = p;
    }
    if (file_ == nullptr) {
      // Before the first cut point (a stream's first packets before its first keyframe): the
      // first segment starts right away, keyframe or not, so nothing is lost.
      open_next(now_ns, id == 0);
      run_ = p;
    }
    if (run_len_ == 0) run_ = p;
    run_len_ += kPacket;
  }
  flush_run();
}

void TsSegmenter::finish() { close_current(last_ns_, true); }

bool TsSegmenter::cut(uint64_t end_ns) {
  if (video_pid_ < 0 || !cut_due(end_ns)) return false;
  close_current(end_ns, true);
  open_next(end_ns, false);
  last_ns_ = std::max(last_ns_, end_ns);
  return true;
}

}  // namespace harvest::media::hls

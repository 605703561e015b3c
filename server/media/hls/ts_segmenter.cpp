#include "media/hls/ts_segmenter.h"

#include <cstring>

#include "core/log.h"

namespace harvest::media::hls {

TsSegmenter::TsSegmenter(Options options, Closed on_closed)
    : options_(std::move(options)),
      on_closed_(std::move(on_closed)),
      index_(options_.start_index),
      has_video_(options_.has_video) {}

TsSegmenter::~TsSegmenter() { close_current(last_ns_, false); }

int TsSegmenter::packet_pid(const uint8_t* data, size_t size) {
  if (size < 188 || data[0] != 0x47) return -1;
  return static_cast<int>(((data[1] & 0x1fu) << 8) | data[2]);
}

bool TsSegmenter::is_cut_point(const uint8_t* data, size_t size, bool delta_unit, bool has_video) {
  const int pid = packet_pid(data, size);
  if (pid < 0) return false;
  if (has_video) return !delta_unit;          // the first packet of a keyframe
  return pid == 0 && (data[1] & 0x40) != 0;   // audio only: a PAT
}

void TsSegmenter::remember_tables(const uint8_t* p) {
  const int pid = packet_pid(p, 188);
  const bool unit_start = (p[1] & 0x40) != 0;
  if (!unit_start) return;  // one-packet tables only (as mpegtsmux writes them)
  if (pid == 0) {
    pat_.assign(reinterpret_cast<const char*>(p), 188);
    // Payload after the header (and adaptation field): pointer_field, then the section.
    size_t off = 4;
    if (p[3] & 0x20) off += 1u + p[4];
    if (off >= 188) return;
    off += 1u + p[off];  // pointer_field
    // table_id(1) section_length(2) ts_id(2) version(1) section(1) last(1), then programs.
    for (size_t prog = off + 8; prog + 4 <= 188 && prog + 4 <= off + 3 + (((p[off + 1] & 0x0fu) << 8) | p[off + 2]) - 4;
         prog += 4) {
      const unsigned number = (unsigned{p[prog]} << 8) | p[prog + 1];
      if (number != 0) {
        pmt_pid_ = static_cast<int>(((p[prog + 2] & 0x1fu) << 8) | p[prog + 3]);
        break;
      }
    }
  } else if (pid == pmt_pid_) {
    pmt_.assign(reinterpret_cast<const char*>(p), 188);
  }
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
  // Packets arrive 188 bytes at a time: buffer them into few large writes.
  write_buffer_.resize(256 * 1024);
  std::setvbuf(file_, write_buffer_.data(), _IOFBF, write_buffer_.size());
  start_ns_ = start_ns;
  if (!starts_with_pat && !pat_.empty() && !pmt_.empty()) {
    std::fwrite(pat_.data(), 1, pat_.size(), file_);
    std::fwrite(pmt_.data(), 1, pmt_.size(), file_);
  }
}

void TsSegmenter::close_current(uint64_t end_ns, bool report) {
  if (file_ == nullptr) return;
  const bool ok = std::fclose(file_) == 0;
  file_ = nullptr;
  if (report && ok && on_closed_) on_closed_(path_, start_ns_, end_ns);
}

void TsSegmenter::write(const uint8_t* data, size_t size, uint64_t running_time_ns, bool delta_unit) {
  const bool cut = is_cut_point(data, size, delta_unit, has_video_.load(std::memory_order_relaxed));
  if (file_ != nullptr && cut && running_time_ns >= start_ns_ + options_.target_ns) {
    close_current(running_time_ns, true);
  }
  for (size_t off = 0; off + 188 <= size; off += 188) remember_tables(data + off);
  if (file_ == nullptr) open_next(running_time_ns, packet_pid(data, size) == 0);
  if (file_ == nullptr) return;
  if (running_time_ns > last_ns_) last_ns_ = running_time_ns;
  std::fwrite(data, 1, size, file_);
}

void TsSegmenter::finish() { close_current(std::max(last_ns_, start_ns_), true); }

}  // namespace harvest::media::hls

#pragma once
// Cuts the MPEG-TS that mpegtsmux produces into HLS segment files, on the muxer's streaming
// thread. mpegtsmux outputs one 188-byte packet per buffer and marks only the first packet of a
// video keyframe as non-delta: with video, a segment starts there; audio-only streams start one
// at a (periodic) PAT. A cut happens at the first such point at least `target` after the segment
// start, so a segment is complete as soon as the keyframe that ends it arrives (no GOP is held
// back). Every segment begins with the latest PAT and PMT, so each decodes on its own.
//
// Not thread-safe: one instance per muxer, called from its streaming thread.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace harvest::media::hls {

class TsSegmenter {
public:
  struct Options {
    std::string path_prefix;  // files are <prefix><index, 6 digits>.ts
    uint64_t start_index = 0;
    uint64_t target_ns = 1'000'000'000;
    bool has_video = true;  // cut only before keyframes; else at any PAT
  };
  // A segment file was completed: its path and the running time it covers.
  using Closed = std::function<void(const std::string& path, uint64_t start_ns, uint64_t end_ns)>;

  TsSegmenter(Options options, Closed on_closed);
  ~TsSegmenter();  // closes an open file without reporting it
  TsSegmenter(const TsSegmenter&) = delete;
  TsSegmenter& operator=(const TsSegmenter&) = delete;

  // Any thread (a demuxer links its video pad while the muxer may already run).
  void set_has_video(bool has_video) { has_video_.store(has_video); }
  // One muxer output buffer (whole 188-byte packets), its running time and DELTA_UNIT flag.
  void write(const uint8_t* data, size_t size, uint64_t running_time_ns, bool delta_unit);
  // End of stream: completes and reports the open segment.
  void finish();
  // Whether the buffer may start a segment (pure; exposed for tests).
  static bool is_cut_point(const uint8_t* data, size_t size, bool delta_unit, bool has_video);
  // PID of a TS packet, or -1 if `data` is not one.
  static int packet_pid(const uint8_t* data, size_t size);

  uint64_t segments_written() const { return index_ - options_.start_index; }

private:
  void open_next(uint64_t start_ns, bool starts_with_pat);
  void remember_tables(const uint8_t* packet);
  void close_current(uint64_t end_ns, bool report);

  Options options_;
  Closed on_closed_;
  std::FILE* file_ = nullptr;
  std::string path_;
  uint64_t index_;
  uint64_t start_ns_ = 0;
  uint64_t last_ns_ = 0;
  std::string write_buffer_;
  std::atomic<bool> has_video_;
  std::string pat_;  // latest PAT packet (188 bytes)
  std::string pmt_;  // latest PMT packet
  int pmt_pid_ = -1;
};

}  // namespace harvest::media::hls

#pragma once
// Cuts the MPEG-TS that mpegtsmux produces into HLS segment files, on the muxer's streaming
// thread. It reads the TS itself: the PMT names the video PID, and a video packet that starts a
// PES with the random_access_indicator set is a keyframe; a segment starts there (audio-only
// streams: at a PAT). A cut happens at the first such point at least `target` after the segment
// start (times from the PES PTS), so a segment is complete as soon as the keyframe that ends it
// arrives: no GOP is held back. cut() ends it sooner still, once that keyframe is known to be
// coming. Every segment begins with the latest PAT and PMT, so each decodes on its own.
//
// Not thread-safe: one instance per muxer, used under its owner's lock.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>

namespace harvest::media::hls {

class TsSegmenter {
public:
  static constexpr size_t kPacket = 188;
  struct Options {
    std::string path_prefix;  // files are <prefix><index, 6 digits>.ts
    uint64_t start_index = 0;
    uint64_t target_ns = 1'000'000'000;
  };
  // A segment file was completed: its path and the running time it covers.
  using Closed = std::function<void(const std::string& path, uint64_t start_ns, uint64_t end_ns)>;

  TsSegmenter(Options options, Closed on_closed);
  ~TsSegmenter();  // closes an open file without reporting it
  TsSegmenter(const TsSegmenter&) = delete;
  TsSegmenter& operator=(const TsSegmenter&) = delete;

  // Muxer output: whole 188-byte packets; `running_time_ns` is the buffer's running time (used
  // to anchor PES timestamps to running time once).
  void write(const uint8_t* data, size_t size, uint64_t running_time_ns);
  // End of stream: completes and reports the open segment.
  void finish();
  // Whether a keyframe at running time `ns` would end the open segment.
  bool cut_due(uint64_t ns) const { return file_ != nullptr && ns >= start_ns_ + options_.target_ns; }
  // Ends the open segment at `end_ns` before the keyframe that starts the next one is written
  // (everything written so far belongs to it) and opens the next, starting at `end_ns` with the
  // latest PAT and PMT; that keyframe then does not cut again. Video streams only; false (and
  // nothing done) unless cut_due(end_ns).
  bool cut(uint64_t end_ns);

  uint64_t segments_written() const { return index_ - options_.start_index; }

  // --- TS packet facts (pure; exposed for tests) ---
  static int pid(const uint8_t* packet);
  static bool unit_start(const uint8_t* packet);
  static bool random_access(const uint8_t* packet);
  // The 90 kHz PTS of a PES that starts in this packet, if any.
  static std::optional<uint64_t> pes_pts(const uint8_t* packet);

private:
  void remember_tables(const uint8_t* packet);
  void open_next(uint64_t start_ns, bool starts_with_pat);
  void close_current(uint64_t end_ns, bool report);
  void flush_run();
  uint64_t running_time_of(uint64_t pts90);

  Options options_;
  Closed on_closed_;
  std::FILE* file_ = nullptr;
  std::string path_;
  uint64_t index_;
  uint64_t start_ns_ = 0;
  uint64_t last_ns_ = 0;
  std::string write_buffer_;
  const uint8_t* run_ = nullptr;  // packets of the current buffer not yet written
  size_t run_len_ = 0;
  std::string pat_;  // latest PAT packet
  std::string pmt_;  // latest PMT packet
  int pmt_pid_ = -1;
  int video_pid_ = -1;
  bool have_pmt_ = false;
  // PES PTS (90 kHz, unwrapped) -> running time: anchored on the first PTS seen.
  bool anchored_ = false;
  uint64_t anchor_pts90_ = 0;
  uint64_t anchor_rt_ns_ = 0;
  uint64_t last_pts90_ = 0;
};

}  // namespace harvest::media::hls

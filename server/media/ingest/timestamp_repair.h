#pragma once
// Repairs publisher timestamps before they reach the muxer. Phone apps jump forwards (the app
// was in the background, the clock was reset) or backwards (encoder restarted) mid-stream; a
// muxer fed such timestamps writes segments hours long or refuses data. Each track is mapped
// onto a monotonic output timeline that starts at 0: small steps pass through, a jump larger
// than `max_gap` (or backwards) re-anchors the track one frame after its last output.
// Pure arithmetic on integers; one instance per publisher session, used on one thread.
#include <array>
#include <cstdint>

namespace harvest::media {

class TimestampRepair {
public:
  enum Track { video = 0, audio = 1 };
  struct Options {
    int64_t max_gap_ns = 2'000'000'000;           // a forward step longer than this is a jump
    int64_t backward_tolerance_ns = 200'000'000;  // small reordering is clamped, not re-anchored
    int64_t default_step_ns[2] = {33'333'333, 21'333'333};  // used before a track's step is known
  };

  TimestampRepair() = default;
  explicit TimestampRepair(Options options) : options_(options) {}

  // Maps one decode timestamp (any origin, ns) of `track` to the output timeline.
  int64_t map(Track track, int64_t in_ns);
  // How many times a jump was repaired.
  uint64_t repairs() const { return repairs_; }

private:
  struct TrackState {
    bool started = false;
    int64_t offset = 0;
    int64_t last_out = 0;
    int64_t step = 0;
  };
  Options options_;
  bool have_base_ = false;
  int64_t base_ = 0;
  std::array<TrackState, 2> tracks_{};
  uint64_t repairs_ = 0;
};

// Extends RTMP's 32-bit millisecond timestamps (which wrap after 49.7 days, or jump anywhere)
// to 64 bits by taking each step as the signed 32-bit difference from the previous one.
class TimestampUnwrapper {
public:
  int64_t unwrap(uint32_t ts_ms);

private:
  bool started_ = false;
  uint32_t last_raw_ = 0;
  int64_t last_ = 0;
};

}  // namespace harvest::media

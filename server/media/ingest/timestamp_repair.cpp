#include "media/ingest/timestamp_repair.h"

#include <algorithm>

namespace harvest::media {

int64_t TimestampRepair::map(Track track, int64_t in_ns) {
  TrackState& t = tracks_[track];
  const TrackState& other = tracks_[track == video ? audio : video];
  if (!have_base_) {
    have_base_ = true;
    base_ = in_ns;
  }
  if (!t.started) {
    t.started = true;
    t.offset = -base_;
    int64_t out = in_ns + t.offset;
    // A track that starts far from the other one (or before time 0) is aligned with it.
    const int64_t anchor = other.started ? other.last_out : 0;
    if (out < 0 || out > anchor + options_.max_gap_ns) {
      if (out > anchor + options_.max_gap_ns) ++repairs_;
      out = anchor;
      t.offset = out - in_ns;
    }
    t.last_out = out;
    return out;
  }
  int64_t out = in_ns + t.offset;
  const int64_t delta = out - t.last_out;
  if (delta > options_.max_gap_ns || delta < -options_.backward_tolerance_ns) {
    const int64_t step = t.step > 0 ? t.step : options_.default_step_ns[track];
    out = t.last_out + step;
    t.offset = out - in_ns;
    ++repairs_;
  } else if (delta <= 0) {
    out = t.last_out + 1'000'000;  // keep decode order strictly increasing
  } else {
    t.step = std::min<int64_t>(delta, 100'000'000);
  }
  t.last_out = out;
  return out;
}

int64_t TimestampUnwrapper::unwrap(uint32_t ts_ms) {
  if (!started_) {
    started_ = true;
    last_raw_ = ts_ms;
    last_ = ts_ms;
    return last_;
  }
  last_ += static_cast<int32_t>(ts_ms - last_raw_);
  last_raw_ = ts_ms;
  return last_;
}

}  // namespace harvest::media

#pragma once
// Attribution seam: which product card was on screen at a viewer's playback position.
//
// The room answers from its own state (the card visible now) when no timeline is installed.
// The media pipeline's marker timeline (ExposureTimeline: card shown/hidden at PTS / program
// date time) replaces it without touching the engine.
#include <cstdint>
#include <string>

namespace harvest::show {

class CardTimeline {
public:
  virtual ~CardTimeline() = default;
  // The product id of the card on screen at `media_time` seconds of `stream_id`'s playback,
  // or "" when none or unknown. Loop thread.
  virtual std::string card_at(const std::string& stream_id, double media_time) const = 0;
  // The same within one recorded session (a replay). "" when unknown.
  virtual std::string card_at_in_session(const std::string& /*stream_id*/, const std::string& /*session_id*/,
                                         double /*media_time*/) const {
    return {};
  }
  // The id of the exposure that answered card_at (session_id "" = the current session) or
  // card_at_in_session; 0 when none or when the timeline does not keep exposures.
  virtual int64_t exposure_at(const std::string& /*stream_id*/, const std::string& /*session_id*/,
                              double /*media_time*/) const {
    return 0;
  }
};

}  // namespace harvest::show

#pragma once
// Attribution seam: which product card was on screen at a viewer's playback position.
//
// Today the room answers from its own state (the card visible now). The media pipeline will
// provide a marker timeline (card shown/hidden at PTS / program date time); an implementation
// of this interface over that timeline replaces the room-state one without touching the engine.
#include <string>

namespace harvest::commerce {

class CardTimeline {
public:
  virtual ~CardTimeline() = default;
  // The product id of the card on screen at `media_time` seconds of `stream_id`'s playback,
  // or "" when none or unknown. Loop thread.
  virtual std::string card_at(const std::string& stream_id, double media_time) const = 0;
};

}  // namespace harvest::commerce

#pragma once
// The card exposure timeline: when each product card was actually on the video, per stream and
// per live session, as reported by the media pipeline (first frame showing / no longer showing
// a card). It answers attribution ("which card was on screen at this viewer's media_time?")
// and feeds the report (orders and GMV per exposure).
//
// Time: `pts` is the stream position in seconds on the timeline the player sees (the same
// value sent as `pts` in card.shown and expected back as a buy's `media_time`); `pdt_ms` is the
// program date time of that frame (ms since the epoch, as in EXT-X-PROGRAM-DATE-TIME).
// Loop thread only.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "show/card_timeline.h"

namespace harvest::show {

struct CardExposure {
  std::string stream_id;
  std::string session_id;  // one live session (publish .. end of the reconnect grace)
  std::string product_id;
  uint64_t change_id = 0;  // the room's change that showed it
  double shown_pts = 0;
  int64_t shown_pdt_ms = 0;
  std::optional<double> hidden_pts;  // open while still on screen
  std::optional<int64_t> hidden_pdt_ms;
  int64_t id = 0;  // unique per timeline (and in the store), assigned when it opens; from 1
};

class ExposureTimeline : public CardTimeline {
public:
  // A card became visible on the frame with this pts/pdt. Opens an exposure.
  void card_shown(const std::string& stream_id, const std::string& session_id, const std::string& product_id,
                  uint64_t change_id, double pts, int64_t pdt_ms);
  // The card is no longer visible from this frame on. Closes the open exposure of the product.
  void card_hidden(const std::string& stream_id, const std::string& session_id, const std::string& product_id,
                   double pts, int64_t pdt_ms);
  // A session ended: closes every open exposure of it at `pts`/`pdt_ms`.
  void session_ended(const std::string& stream_id, const std::string& session_id, double pts, int64_t pdt_ms);

  // CardTimeline: the product on screen at `media_time` in the stream's current (latest)
  // session; "" if none. When several cards were visible, the most recently shown one.
  std::string card_at(const std::string& stream_id, double media_time) const override;
  // The same within a given session (replays).
  std::string card_at_in_session(const std::string& stream_id, const std::string& session_id,
                                 double media_time) const override;
  // The id of the exposure that answers card_at (session_id "") / card_at_in_session; 0 none.
  int64_t exposure_at(const std::string& stream_id, const std::string& session_id, double media_time) const override;

  // Every exposure of a stream, oldest first.
  std::vector<CardExposure> exposures(const std::string& stream_id) const;
  // Restores exposures read back from the store (restart).
  void restore(std::vector<CardExposure> exposures);

  // Called after an exposure opened or closed (to persist it). Loop thread.
  using ChangeHook = std::function<void(const CardExposure&)>;
  void set_on_change(ChangeHook hook) { on_change_ = std::move(hook); }

private:
  const CardExposure* find_at(const std::string& stream_id, const std::string& session_id, double media_time) const;
  std::vector<CardExposure> exposures_;  // append-only, in show order
  int64_t next_id_ = 1;
  ChangeHook on_change_;
};

}  // namespace harvest::show

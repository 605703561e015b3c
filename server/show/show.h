#pragma once
// The show: which product cards the host has on screen in each stream, and the change ids that
// tie every change to the frame that later shows it. Plain state and decisions, no sockets and
// no JSON; the rooms put the changes on the websockets. Loop thread only.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "show/card.h"

namespace harvest::show {

struct VisibleCard {
  std::string product_id;
  std::string slot;
  uint64_t change_id = 0;
  int64_t shown_at_ms = 0;
  // Of the first frame that showed it, once the media side reported it (card_presented).
  std::optional<double> pts;
  std::optional<std::string> program_date_time;
};

class Show {
public:
  // What a product's card says now; nullopt when the product is not in the catalog. The show
  // does not own the catalog (commerce does).
  using CardSource =
      std::function<std::optional<Card>(const std::string& stream_id, const std::string& product_id)>;
  explicit Show(CardSource card_source) : card_source_(std::move(card_source)) {}

  // Puts a product's card in `slot`. One card per slot and a product in one slot at a time: the
  // result is the cards it displaced (hidden), then the card itself (shown), in that order;
  // empty when the product is not in the catalog.
  std::vector<CardEvent> show_card(const std::string& stream_id, const std::string& product_id,
                                   const std::string& slot, int64_t now_ms);
  // Hides a product's card ("": every card). Empty when nothing was visible.
  std::vector<CardEvent> hide_card(const std::string& stream_id, const std::string& product_id,
                                   int64_t now_ms);
  // Hides the cards whose product `exists` denies (after a catalog change).
  std::vector<CardEvent> hide_missing(const std::string& stream_id,
                                      const std::function<bool(const std::string& product_id)>& exists,
                                      int64_t now_ms);

  // Visible cards, most recently shown last.
  const std::vector<VisibleCard>& visible(const std::string& stream_id) const;
  // The product of the card shown last, "" when none: the room's answer to "which card is on".
  std::string current_card(const std::string& stream_id) const;

  // The media side saw the first frame of `change_id`: the visible card keeps pts and program
  // date time (newcomers get them in welcome). Returns the change as it was announced, or
  // nullopt when it is unknown (too old or another stream).
  std::optional<CardEvent> presented(const std::string& stream_id, uint64_t change_id,
                                     std::optional<double> pts, std::optional<std::string> program_date_time);

  // The media seam. notify_change after the change went out; notify_update when what a
  // product's card says changed (price, stock, sale), visible or not.
  void add_listener(CardListener* listener) { listeners_.push_back(listener); }
  void notify_change(const CardEvent& event);
  void notify_update(const std::string& stream_id, const std::string& product_id, int64_t now_ms);

private:
  struct Stage {
    std::vector<VisibleCard> cards;  // most recently shown last
    std::deque<CardEvent> recent;    // the last few changes, for presented()
  };
  CardEvent change(const std::string& stream_id, const VisibleCard& card, bool shown, int64_t now_ms);

  CardSource card_source_;
  std::map<std::string, Stage> stages_;
  std::vector<CardListener*> listeners_;
  uint64_t next_change_id_ = 1;
};

}  // namespace harvest::show

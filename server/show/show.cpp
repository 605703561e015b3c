#include "show/show.h"

namespace harvest::show {
namespace {
// Changes kept for presented(): the media side reports a change within a few seconds, so a
// few dozen cover any host's pace.
constexpr size_t kRecentChanges = 64;
}  // namespace

CardEvent Show::change(const std::string& stream_id, const VisibleCard& card, bool shown, int64_t now_ms) {
  CardEvent ev;
  ev.stream_id = stream_id;
  ev.change_id = card.change_id;
  ev.shown = shown;
  ev.product_id = card.product_id;
  ev.slot = card.slot;
  ev.card = card_source_(stream_id, card.product_id);
  ev.server_time_ms = now_ms;
  Stage& stage = stages_[stream_id];
  stage.recent.push_back(ev);
  if (stage.recent.size() > kRecentChanges) stage.recent.pop_front();
  return ev;
}

std::vector<CardEvent> Show::show_card(const std::string& stream_id, const std::string& product_id,
                                       const std::string& slot, int64_t now_ms) {
  if (!card_source_(stream_id, product_id)) return {};  // not in the catalog
  std::vector<CardEvent> out;
  std::vector<VisibleCard>& cards = stages_[stream_id].cards;
  for (size_t i = 0; i < cards.size();) {
    if (cards[i].slot == slot && cards[i].product_id != product_id) {
      VisibleCard gone = cards[i];
      cards.erase(cards.begin() + static_cast<std::ptrdiff_t>(i));
      gone.change_id = next_change_id_++;
      out.push_back(change(stream_id, gone, false, now_ms));
    } else if (cards[i].product_id == product_id) {
      // The same product moves: one "shown" in its new slot says it all.
      cards.erase(cards.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  VisibleCard vc;
  vc.product_id = product_id;
  vc.slot = slot;
  vc.change_id = next_change_id_++;
  vc.shown_at_ms = now_ms;
  cards.push_back(vc);
  out.push_back(change(stream_id, vc, true, now_ms));
  return out;
}

std::vector<CardEvent> Show::hide_card(const std::string& stream_id, const std::string& product_id,
                                       int64_t now_ms) {
  return hide_missing(
      stream_id, [&product_id](const std::string& p) { return !product_id.empty() && p != product_id; },
      now_ms);
}

std::vector<CardEvent> Show::hide_missing(const std::string& stream_id,
                                          const std::function<bool(const std::string&)>& exists,
                                          int64_t now_ms) {
  auto it = stages_.find(stream_id);
  if (it == stages_.end()) return {};
  std::vector<VisibleCard>& cards = it->second.cards;
  std::vector<VisibleCard> gone;
  for (size_t i = 0; i < cards.size();) {
    if (!exists(cards[i].product_id)) {
      gone.push_back(cards[i]);
      cards.erase(cards.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  std::vector<CardEvent> out;
  for (auto& vc : gone) {
    vc.change_id = next_change_id_++;
    out.push_back(change(stream_id, vc, false, now_ms));
  }
  return out;
}

const std::vector<VisibleCard>& Show::visible(const std::string& stream_id) const {
  static const std::vector<VisibleCard> kNone;
  auto it = stages_.find(stream_id);
  return it == stages_.end() ? kNone : it->second.cards;
}

std::string Show::current_card(const std::string& stream_id) const {
  const auto& cards = visible(stream_id);
  return cards.empty() ? std::string() : cards.back().product_id;
}

std::optional<CardEvent> Show::presented(const std::string& stream_id, uint64_t change_id,
                                         std::optional<double> pts,
                                         std::optional<std::string> program_date_time) {
  auto it = stages_.find(stream_id);
  if (it == stages_.end()) return std::nullopt;
  for (const CardEvent& ev : it->second.recent) {
    if (ev.change_id != change_id) continue;
    for (VisibleCard& vc : it->second.cards) {
      if (vc.change_id == change_id) {
        vc.pts = pts;
        vc.program_date_time = program_date_time;
      }
    }
    return ev;
  }
  return std::nullopt;
}

void Show::notify_change(const CardEvent& event) {
  for (CardListener* l : listeners_) l->on_card_change(event);
}

void Show::notify_update(const std::string& stream_id, const std::string& product_id, int64_t now_ms) {
  if (listeners_.empty()) return;
  std::optional<Card> card = card_source_(stream_id, product_id);
  if (!card) return;
  const CardUpdate update{stream_id, product_id, std::move(*card), now_ms};
  for (CardListener* l : listeners_) l->on_card_update(update);
}

}  // namespace harvest::show

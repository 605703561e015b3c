#include "realtime/show_channel.h"

#include <algorithm>

#include "realtime/messages.h"
#include "realtime/room_relay.h"

namespace harvest::realtime {

using nlohmann::json;

void ShowChannel::announce(const std::vector<show::CardEvent>& changes, const Member* requester,
                           const std::string& id_json) {
  for (const show::CardEvent& ev : changes) {
    // pts and program_date_time are not known yet: the amended repeat carries them.
    const json j = card_change_json(ev, std::nullopt, std::nullopt, /*amended=*/false);
    // Here only: other nodes apply the change to their own show (room_relay.h).
    audience_.broadcast_here(ev.stream_id, Payload(j.dump()), Delivery::reliable, 0,
                             requester != nullptr ? requester->id : 0);
    if (requester != nullptr) audience_.reply(requester->id, j, id_json);
    show_.notify_change(ev);
  }
}

bool ShowChannel::show_card(const std::string& stream_id, const std::string& product_id,
                            const std::string& slot, const Member* requester, const std::string& id_json) {
  // Displaced cards go out without the "re": only the shown card answers the request.
  std::vector<show::CardEvent> changes = show_.show_card(stream_id, product_id, slot, now_ms());
  if (changes.empty()) return false;
  const show::CardEvent shown = std::move(changes.back());
  changes.pop_back();
  announce(changes, nullptr, "");
  announce({shown}, requester, id_json);
  touch(stream_id, shown.server_time_ms);
  if (relay_ != nullptr) relay_->card_shown(stream_id, product_id, shown.slot, shown.server_time_ms);
  return true;
}

void ShowChannel::hide_card(const Member& c, const ClientMessage& m) {
  const auto changes = show_.hide_card(c.stream_id, m.product_id, now_ms());
  if (changes.empty()) {
    audience_.reply(c.id,
                    {{"type", "card.hidden"},
                     {"product_id", m.product_id.empty() ? json(nullptr) : json(m.product_id)},
                     {"server_time", now_ms()},
                     {"pts", nullptr},
                     {"program_date_time", nullptr}},
                    m.id_json);
    return;
  }
  announce(changes, &c, m.id_json);
  touch(c.stream_id, now_ms());
  if (relay_ != nullptr) relay_->card_hidden(c.stream_id, m.product_id, now_ms());
}

void ShowChannel::hide_missing(const std::string& stream_id,
                               const std::function<bool(const std::string&)>& exists) {
  const auto changes = show_.hide_missing(stream_id, exists, now_ms());
  announce(changes, nullptr, "");
  if (changes.empty()) return;
  touch(stream_id, now_ms());
  if (relay_ != nullptr)
    for (const show::CardEvent& ev : changes) relay_->card_hidden(stream_id, ev.product_id, ev.server_time_ms);
}

bool ShowChannel::card_presented(const std::string& stream_id, uint64_t change_id, std::optional<double> pts,
                                 std::optional<std::string> program_date_time) {
  auto change = show_.presented(stream_id, change_id, pts, program_date_time);
  if (!change) return false;
  audience_.broadcast_here(stream_id, Payload(card_change_json(*change, pts, program_date_time, true).dump()));
  // The node holding the ingest is the one that sees frames: the others learn when the card
  // reached the picture from it.
  if (relay_ != nullptr) relay_->card_presented(stream_id, change->product_id, pts, program_date_time);
  return true;
}

void ShowChannel::touch(const std::string& stream_id, int64_t at_ms) {
  int64_t& at = changed_at_ms_[stream_id];
  at = std::max(at, at_ms);
}

void ShowChannel::apply_remote_show(const std::string& stream_id, const std::string& product_id,
                                    const std::string& slot, int64_t at_ms) {
  std::vector<show::CardEvent> changes = show_.show_card(stream_id, product_id, slot, now_ms());
  if (changes.empty()) return;  // not in this node's catalog
  announce(changes, nullptr, "");
  touch(stream_id, at_ms);
}

void ShowChannel::apply_remote_hide(const std::string& stream_id, const std::string& product_id, int64_t at_ms) {
  announce(show_.hide_card(stream_id, product_id, now_ms()), nullptr, "");
  touch(stream_id, at_ms);
}

void ShowChannel::apply_remote_presented(const std::string& stream_id, const std::string& product_id,
                                         std::optional<double> pts, std::optional<std::string> program_date_time) {
  // Our own change id for the card the ingest node saw reach the picture.
  for (const show::VisibleCard& vc : show_.visible(stream_id)) {
    if (vc.product_id != product_id) continue;
    if (auto change = show_.presented(stream_id, vc.change_id, pts, program_date_time))
      audience_.broadcast_here(stream_id,
                               Payload(card_change_json(*change, pts, program_date_time, true).dump()));
    return;
  }
}

StageSnapshot ShowChannel::snapshot(const std::string& stream_id) const {
  StageSnapshot snap;
  if (auto it = changed_at_ms_.find(stream_id); it != changed_at_ms_.end()) snap.changed_at_ms = it->second;
  for (const show::VisibleCard& vc : show_.visible(stream_id)) snap.cards.emplace_back(vc.product_id, vc.slot);
  return snap;
}

void ShowChannel::apply_snapshot(const std::string& stream_id, const StageSnapshot& snap) {
  auto it = changed_at_ms_.find(stream_id);
  if (it != changed_at_ms_.end() && it->second >= snap.changed_at_ms) return;  // ours is as new
  const int64_t now = now_ms();
  std::vector<std::string> gone;
  for (const show::VisibleCard& vc : show_.visible(stream_id)) {
    const bool kept = std::any_of(snap.cards.begin(), snap.cards.end(), [&](const auto& c) {
      return c.first == vc.product_id && c.second == vc.slot;
    });
    if (!kept) gone.push_back(vc.product_id);
  }
  for (const std::string& product_id : gone) announce(show_.hide_card(stream_id, product_id, now), nullptr, "");
  for (const auto& card : snap.cards) {
    const auto& visible = show_.visible(stream_id);
    const bool there = std::any_of(visible.begin(), visible.end(), [&](const show::VisibleCard& vc) {
      return vc.product_id == card.first && vc.slot == card.second;
    });
    if (!there) announce(show_.show_card(stream_id, card.first, card.second, now), nullptr, "");
  }
  changed_at_ms_[stream_id] = snap.changed_at_ms;
}

std::vector<std::string> ShowChannel::staged_rooms() const {
  std::vector<std::string> out;
  for (const auto& [stream_id, at] : changed_at_ms_) out.push_back(stream_id);
  return out;
}

}  // namespace harvest::realtime

#include "realtime/show_channel.h"

#include "realtime/messages.h"

namespace harvest::realtime {

using nlohmann::json;

void ShowChannel::announce(const std::vector<show::CardEvent>& changes, const Member* requester,
                           const std::string& id_json) {
  for (const show::CardEvent& ev : changes) {
    // pts and program_date_time are not known yet: the amended repeat carries them.
    const json j = card_change_json(ev, std::nullopt, std::nullopt, /*amended=*/false);
    audience_.broadcast(ev.stream_id, Payload(j.dump()), Delivery::reliable, 0,
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
}

void ShowChannel::hide_missing(const std::string& stream_id,
                               const std::function<bool(const std::string&)>& exists) {
  announce(show_.hide_missing(stream_id, exists, now_ms()), nullptr, "");
}

bool ShowChannel::card_presented(const std::string& stream_id, uint64_t change_id, std::optional<double> pts,
                                 std::optional<std::string> program_date_time) {
  auto change = show_.presented(stream_id, change_id, pts, program_date_time);
  if (!change) return false;
  audience_.broadcast(stream_id, Payload(card_change_json(*change, pts, program_date_time, true).dump()));
  return true;
}

}  // namespace harvest::realtime

#pragma once
// The show on the websockets: hosts' card.show / card.hide go to the Show, its changes go out
// as card.shown / card.hidden, and the media side's report of the first frame that showed a
// change goes out again, amended with pts and program date time. Loop thread only.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "realtime/audience.h"
#include "realtime/protocol.h"
#include "show/card.h"
#include "show/show.h"

namespace harvest::realtime {

class RoomRelay;

// The cards on screen in one room as another node tells them (snapshot) or asks for them.
struct StageSnapshot {
  int64_t changed_at_ms = 0;  // wall time of the last card change (0: none yet)
  std::vector<std::pair<std::string, std::string>> cards;  // (product_id, slot), oldest first
};

class ShowChannel final : public show::CardStage {
public:
  ShowChannel(Audience& audience, show::Show& show) : audience_(audience), show_(show) {}

  // Shows a product's card; `requester` (nullptr: the server itself) gets the change as its
  // reply. False if the product is not in the catalog.
  bool show_card(const std::string& stream_id, const std::string& product_id, const std::string& slot,
                 const Member* requester = nullptr, const std::string& id_json = "");
  void set_relay(RoomRelay* relay) { relay_ = relay; }
  void hide_card(const Member& host, const ClientMessage& m);
  // Hides the cards of products that left the catalog.
  void hide_missing(const std::string& stream_id, const std::function<bool(const std::string&)>& exists);

  // show::CardStage (the media link)
  void add_card_listener(show::CardListener* listener) override { show_.add_listener(listener); }
  bool card_presented(const std::string& stream_id, uint64_t change_id, std::optional<double> pts,
                      std::optional<std::string> program_date_time) override;

  // --- another node's card changes (room_relay.h), applied here as if made here ---
  void apply_remote_show(const std::string& stream_id, const std::string& product_id, const std::string& slot,
                         int64_t at_ms);
  void apply_remote_hide(const std::string& stream_id, const std::string& product_id, int64_t at_ms);
  void apply_remote_presented(const std::string& stream_id, const std::string& product_id,
                              std::optional<double> pts, std::optional<std::string> program_date_time);
  StageSnapshot snapshot(const std::string& stream_id) const;
  // Makes this room's cards those of `snap` when it is newer than our last change; idempotent.
  void apply_snapshot(const std::string& stream_id, const StageSnapshot& snap);
  // Rooms whose cards ever changed (what a node re-publishes on reconnect).
  std::vector<std::string> staged_rooms() const;

private:
  void touch(const std::string& stream_id, int64_t at_ms);
  void announce(const std::vector<show::CardEvent>& changes, const Member* requester,
                const std::string& id_json);

  Audience& audience_;
  show::Show& show_;
  RoomRelay* relay_ = nullptr;
  std::map<std::string, int64_t> changed_at_ms_;  // stream -> wall time of its last card change
};

}  // namespace harvest::realtime

#pragma once
// Rooms: one per stream, on the control-plane thread. Implements Protocol v1 (DESIGN.md) over
// HttpServer's websockets: roles from tokens, rate limits, the commerce commands, and fan-out
// of room events with coalescing of superseding updates (stock, purchase, viewers).
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "commerce/card_timeline.h"
#include "commerce/commerce_service.h"
#include "core/event_loop.h"
#include "core/stream_registry.h"
#include "realtime/access.h"
#include "realtime/http_server.h"
#include "realtime/protocol.h"

namespace harvest::realtime {

struct RoomOptions {
  // Per connection, every message (token bucket). Past it: `rate_limited` answers.
  double message_rate = 20;
  double message_burst = 40;
  // Per connection, chat.send on top of the above.
  double chat_rate = 1;
  double chat_burst = 5;
  // This many `rate_limited` answers within `strike_window` close the connection with 1008.
  int flood_strikes = 10;
  std::chrono::milliseconds strike_window{10000};
  // Room-wide coalescing of superseding broadcasts.
  std::chrono::milliseconds stock_interval{50};     // stock and purchase
  std::chrono::milliseconds viewers_interval{500};  // viewer count
  // stream.health to the host connections of each room (also at once on live/offline).
  std::chrono::milliseconds health_interval{3000};
  // Overrides from HARVEST_WS_MESSAGE_RATE, HARVEST_WS_MESSAGE_BURST, HARVEST_WS_CHAT_RATE,
  // HARVEST_WS_CHAT_BURST (benchmarks raise them).
  static RoomOptions from_environment();
};

// A card change, for the media side (the seam to the video pipeline). `change_id` identifies it
// in card.shown/card.hidden and in card_presented().
struct CardEvent {
  std::string stream_id;
  uint64_t change_id = 0;
  bool shown = true;
  std::string product_id;
  std::string slot;
  nlohmann::json card;  // title, price, currency, image, stock, sale fields
  int64_t server_time_ms = 0;
};

// What a product's card shows changed: product.update (price, title, stock), a flash sale
// started or ended, stock after orders. `card` is the whole card as in card.shown (card_json).
struct CardUpdate {
  std::string stream_id;
  std::string product_id;
  nlohmann::json card;
  int64_t server_time_ms = 0;
};

class CardListener {
public:
  virtual ~CardListener() = default;
  // Loop thread, on every card shown or hidden (after the room state changed and the event
  // went out with pts/program_date_time null).
  virtual void on_card_change(const CardEvent& event) = 0;
  // Loop thread, after the room broadcast the change; for every product, visible or not
  // (the listener decides what is on screen). Stock changes from orders come coalesced
  // (RoomOptions::stock_interval).
  virtual void on_card_update(const CardUpdate& /*update*/) {}
};

// One order as hosts see it: a row of GET /api/streams/{id}/orders, and (with `type` and the
// masked `buyer`) the `order` event pushed to hosts.
nlohmann::json order_json(const commerce::Order& order);

class RoomService final : public WebSocketHandler {
public:
  RoomService(EventLoop& loop, HttpServer& http, StreamRegistry& streams, const AccessConfig& access,
              commerce::CommerceService& commerce, RoomOptions options = RoomOptions::from_environment());
  ~RoomService() override;

  // Loads every stream's shop and arms the timers of running sales.
  void start();

  bool on_open(ConnId conn, const HttpRequest& upgrade) override;
  void on_message(ConnId conn, std::string_view text) override;
  void on_close(ConnId conn) override;

  // --- used by the HTTP API (loop thread) ---
  Status replace_catalog(const std::string& stream_id, std::vector<commerce::Product> products);
  nlohmann::json products_json(const std::string& stream_id);
  // Shows a product's card as if the host had sent card.show. False if the product is unknown.
  bool show_card(const std::string& stream_id, const std::string& product_id, const std::string& slot = "bottom") {
    return show_card(stream_id, product_id, slot, nullptr, "");
  }

  // --- the media seam (loop thread) ---
  void add_card_listener(CardListener* listener) { card_listeners_.push_back(listener); }
  // nullptr: answer from room state (the card visible now).
  void set_card_timeline(const commerce::CardTimeline* timeline) { timeline_ = timeline; }
  // The media side saw the first frame showing (or no longer showing) change `change_id`:
  // the room re-broadcasts card.shown / card.hidden with "amended": true and these fields.
  // Returns false if the change is unknown (too old or another stream).
  bool card_presented(const std::string& stream_id, uint64_t change_id, std::optional<double> pts,
                      std::optional<std::string> program_date_time);

  size_t connection_count() const { return conns_.size(); }

  // Peak room connections per wall-clock minute (ms since the epoch of the minute's start),
  // since this server started. For the report.
  std::map<int64_t, int> peak_viewers_by_minute(const std::string& stream_id) const;
  // The stream.health event for a stream (what hosts receive).
  nlohmann::json health_json(const StreamState& s) const;

private:
  struct TokenBucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
    bool take(double rate, double burst, std::chrono::steady_clock::time_point now);
  };
  struct Conn {
    ConnId id = 0;
    std::string stream_id;
    std::string viewer_id;
    std::string replay_session;  // "" live; else the replay session this viewer watches
    Identity identity;
    TokenBucket messages;
    TokenBucket chat;
    int strikes = 0;
    std::chrono::steady_clock::time_point strike_window_start;
    size_t room_index = 0;
  };
  struct VisibleCard {
    std::string product_id;
    std::string slot;
    uint64_t change_id = 0;
    int64_t shown_at_ms = 0;
    std::optional<double> pts;
    std::optional<std::string> program_date_time;
  };
  struct PurchaseNote {
    int64_t qty = 0;
    std::string buyer;
  };
  struct ChatNote {
    int64_t id = 0;
    std::string viewer_id;
    nlohmann::json message;  // the `chat` event as viewers get it
  };
  struct RecentChange {
    CardEvent event;
  };
  struct Room {
    std::string stream_id;
    std::vector<ConnId> conns;
    std::vector<ConnId> hosts;  // live host/admin connections of this stream (few): `order` events
    std::vector<VisibleCard> cards;  // most recently shown last
    std::set<std::string> dirty_stock;
    std::map<std::string, PurchaseNote> purchases;
    bool stock_flush_armed = false;
    bool viewers_dirty = false;
    bool viewers_flush_armed = false;
    int viewers_sent = -1;
    std::map<std::string, EventLoop::TimerId> sale_timers;
    std::vector<RecentChange> recent_changes;  // last few card changes, for card_presented()
    std::map<int64_t, int> peak_by_minute;      // minute start (ms) -> most connections
    // Chat: ids for moderation, the last few messages for newcomers' welcome, muted viewers.
    int64_t next_chat_id = 1;
    std::deque<ChatNote> recent_chat;
    std::map<std::string, int64_t> muted_until_ms;  // viewer_id -> until (server time)
  };
  class RoomStateTimeline;

  Room& room(const std::string& stream_id);
  void broadcast(Room& room, const Payload& payload, Delivery delivery = Delivery::reliable, uint64_t key = 0,
                 ConnId except = 0);
  void reply(const Conn& c, nlohmann::json message, const std::string& id_json);
  void send_error(const Conn& c, const std::string& code, const std::string& message, const std::string& id_json);
  void reject_buy(const Conn& c, commerce::Rejection reason, const std::string& message, const std::string& id_json,
                  const std::string& product_id);
  bool rate_limit(Conn& c, bool chat);
  void strike(Conn& c);

  void handle(Conn& c, const ClientMessage& m);
  void handle_card_show(Conn& c, const ClientMessage& m);
  bool show_card(const std::string& stream_id, const std::string& product_id, const std::string& slot,
                 const Conn* requester, const std::string& id_json);
  void handle_card_hide(Conn& c, const ClientMessage& m);
  void handle_product_update(Conn& c, const ClientMessage& m);
  void handle_sale_start(Conn& c, const ClientMessage& m);
  void handle_sale_stop(Conn& c, const ClientMessage& m);
  void handle_buy(Conn& c, const ClientMessage& m);
  void handle_chat(Conn& c, const ClientMessage& m);
  void handle_chat_delete(Conn& c, const ClientMessage& m);
  void handle_viewer_mute(Conn& c, const ClientMessage& m);
  // Sends `for_hosts` to the room's hosts and `for_viewers` to everyone else.
  // The `order` event to the room's hosts, once the order is durable.
  void send_order_to_hosts(Room& r, const commerce::Order& order, const std::string& buyer);
  void broadcast_by_role(Room& r, const std::string& for_hosts, const std::string& for_viewers, ConnId except);

  void announce_card(Room& room, const VisibleCard& card, bool shown, const Conn* requester,
                     const std::string& id_json);
  void sale_ended(Room& room, const commerce::FlashSale& sale);
  void card_updated(Room& room, const std::string& product_id);
  void arm_sale_timer(Room& room, const commerce::FlashSale& sale);
  void mark_stock(Room& room, const std::string& product_id);
  void flush_stock(const std::string& stream_id);
  void mark_viewers(Room& room);
  void flush_viewers(const std::string& stream_id);
  void send_health(const StreamState& s);
  void health_tick();

  nlohmann::json card_json(const std::string& stream_id, const std::string& product_id);
  nlohmann::json product_json(const commerce::Product& p) const;
  nlohmann::json sale_json(const std::string& type, const commerce::FlashSale& s) const;
  nlohmann::json welcome_json(const Conn& c);
  std::string current_card(const std::string& stream_id) const;

  EventLoop& loop_;
  HttpServer& http_;
  StreamRegistry& streams_;
  const AccessConfig& access_;
  commerce::CommerceService& commerce_;
  RoomOptions options_;
  std::unordered_map<ConnId, Conn> conns_;
  std::map<std::string, Room> rooms_;
  std::vector<CardListener*> card_listeners_;
  std::unique_ptr<RoomStateTimeline> room_timeline_;
  const commerce::CardTimeline* timeline_ = nullptr;
  uint64_t next_change_id_ = 1;
  EventLoop::TimerId health_timer_ = 0;
};

}  // namespace harvest::realtime

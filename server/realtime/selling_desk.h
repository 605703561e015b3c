#pragma once
// Selling in every room: the catalog, product.update, flash sales and the timers that end them,
// buys (with attribution to the card on screen) and their answers, the `order` events to hosts,
// and the coalesced stock / purchase updates. commerce::CommerceService decides; this part
// tells the room. Loop thread only.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "commerce/commerce_service.h"
#include "core/event_loop.h"
#include "realtime/audience.h"
#include "realtime/protocol.h"
#include "realtime/show_channel.h"
#include "show/card_timeline.h"
#include "show/show.h"

namespace harvest::realtime {

class SellingDesk {
public:
  SellingDesk(EventLoop& loop, Audience& audience, commerce::CommerceService& commerce, show::Show& show,
              ShowChannel& channel, const RoomOptions& options);
  ~SellingDesk();
  SellingDesk(const SellingDesk&) = delete;
  SellingDesk& operator=(const SellingDesk&) = delete;

  // Loads these streams' shops and arms the timers of their running sales.
  void start(const std::vector<std::string>& stream_ids);
  // Attribution of buys with a media_time. nullptr: the card on screen now (the show's state).
  void set_card_timeline(const show::CardTimeline* timeline) { timeline_ = timeline; }

  // --- commands ---
  void update_product(const Member& host, const ClientMessage& m);
  void start_sale(const Member& host, const ClientMessage& m);
  void stop_sale(const Member& host, const ClientMessage& m);
  void buy(const Member& viewer, const ClientMessage& m);
  void reject_buy(ConnId id, commerce::Rejection reason, const std::string& message,
                  const std::string& id_json, const std::string& product_id);

  // --- orders after the buy ---
  // A change of an order is durable: `order.updated` to its buyer and the stream's hosts, and
  // the stock it gave back to every viewer.
  void order_changed(const commerce::Order& after, bool stock_returned);
  // Another node changed it: `order.updated` to its buyer's connections on this node only.
  void order_changed_elsewhere(const commerce::Order& after);
  // The order as its buyer sees it (order_view_json), with the product's title and image.
  nlohmann::json order_view(const commerce::Order& order);

  // --- the catalog (HTTP API, demo) ---
  // Replaces the catalog; sales and cards of removed products end, and the room hears it.
  Status replace_catalog(const std::string& stream_id, std::vector<commerce::Product> products);
  const std::vector<commerce::Product>& products(const std::string& stream_id);
  commerce::Shop& shop(const std::string& stream_id);
  commerce::CommerceService& commerce() { return commerce_; }
  // What a product's card says now (the show's card source); nullopt if not in the catalog.
  std::optional<show::Card> card(const std::string& stream_id, const std::string& product_id);

private:
  class ShowTimeline;
  struct PurchaseNote {
    int64_t qty = 0;
    std::string buyer;
  };
  // Per stream: superseding updates waiting for the next flush, and the running sales' timers.
  struct Counter {
    std::set<std::string> dirty_stock;
    std::map<std::string, PurchaseNote> purchases;
    bool stock_flush_armed = false;
    std::map<std::string, EventLoop::TimerId> sale_timers;
  };

  void arm_sale_timer(const std::string& stream_id, const commerce::FlashSale& sale);
  void cancel_sale_timer(const std::string& stream_id, const std::string& sale_id);
  void sale_ended(const std::string& stream_id, const commerce::FlashSale& sale);
  void expiry_tick();
  void order_durable(const std::string& stream_id, const commerce::Order& order, const std::string& buyer);
  void mark_stock(const std::string& stream_id, const std::string& product_id);
  void flush_stock(const std::string& stream_id);

  EventLoop& loop_;
  Audience& audience_;
  commerce::CommerceService& commerce_;
  show::Show& show_;
  ShowChannel& channel_;
  const RoomOptions& options_;
  std::map<std::string, Counter> counters_;
  std::unique_ptr<ShowTimeline> show_timeline_;
  const show::CardTimeline* timeline_ = nullptr;
  EventLoop::TimerId expiry_timer_ = 0;
};

}  // namespace harvest::realtime

#pragma once
// CommerceService: every stream's Shop, kept in step with the store. Loop thread only.
//
// Reads go to the in-memory Shops (loaded from the store on first use). Catalog and sale changes
// are written through to the store before they take effect. Buys are decided in memory by the
// stream's Shop (the one authority for its products) and persisted through the OrderWriter's
// group commit; the answer callback for an accepted order runs only after it is durable.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <set>

#include "commerce/ledger.h"
#include "commerce/order_lifecycle.h"
#include "commerce/payment_notice.h"
#include "commerce/phone_check.h"
#include "commerce/shop.h"
#include "core/status.h"

namespace harvest::commerce {

struct CommerceOptions {
  // How long a reserved order holds its units for payment (--payment-window).
  int64_t payment_window_ms = 15 * 60 * 1000;
  // The payment service's notification secret (--payment-secret); empty: no gateway payment.
  std::string payment_secret;
  // The payment page's URL template ({order_id}, {amount}, {currency}); set with the secret.
  std::string payment_url;
  // Several nodes share the store (PostgreSQL): each node's shops are caches of the database,
  // kept fresh by ShopNews from the other nodes, and any node expires any node's orders.
  bool shared_store = false;
};

// What this node made durable that the other nodes' shop caches must learn (they read the
// details back from the shared store: nothing personal crosses the bus).
struct ShopNews {
  enum class What { order_stored, order_changed, shop_changed };
  What what = What::shop_changed;
  std::string stream_id;
  int64_t order_id = 0;         // order_*
  int64_t stock_left = -1;      // order_stored: the database's units left after the commit
  bool stock_returned = false;  // order_changed: its units went back on sale
};

// What a payment notification came to.
struct PaymentAnswer {
  int http_status = 200;
  std::string code;     // for refusals: "invalid", "not_found", "amount_mismatch", "conflict", ...
  std::string message;
  std::string outcome;  // "paid", "refund_due", "ignored"
  bool repeated = false;  // this payment_id was handled before: the first answer again
  std::optional<Order> order;
};

class CommerceService {
public:
  // Final answer to a buy: kind is accepted (durable), rejected, duplicate_confirmed or
  // duplicate_rejected — never duplicate_pending (those wait for the first one's commit).
  using Answer = std::function<void(const BuyOutcome&)>;

  CommerceService(ShopLedger& ledger, OrderJournal& journal, CommerceOptions options = {},
                  std::unique_ptr<PhoneCheck> phone_check = nullptr);
  ~CommerceService();

  // The stream's shop, loaded from the store on first use. Sales whose time ran out or that
  // sold out while the server was down come back ended.
  Shop& shop(const std::string& stream_id, int64_t now_ms);

  // Persists and applies a new catalog (each product's `stock` = units left).
  Status replace_catalog(const std::string& stream_id, std::vector<Product> products, int64_t now_ms);
  Status update_product(const std::string& stream_id, const std::string& product_id, const ProductPatch& patch,
                        int64_t now_ms);
  // Persists and starts a sale (id generated). Empty with `message` if refused or not stored.
  std::optional<FlashSale> start_sale(const std::string& stream_id, const SaleParams& params, int64_t now_ms,
                                      std::string& message);
  std::optional<FlashSale> end_sale(const std::string& stream_id, const std::string& sale_id,
                                    const std::string& reason, int64_t now_ms);

  // Decides a buy. `answer` runs exactly once on the loop thread: at once for rejections and
  // duplicates of durable orders; after the group commit for new orders and their duplicates.
  // The returned outcome is the immediate decision (accepted orders are not durable yet).
  BuyOutcome buy(const std::string& stream_id, const BuyRequest& request, Answer answer);

  size_t pending_orders() const { return waiters_.size(); }

  // --- orders after the buy (order_lifecycle.h); every change is durable before it is told ---
  // Runs on the loop thread once a change is durable, for the rooms to tell the buyer, the
  // hosts and (when stock came back) every viewer.
  using OrderListener = std::function<void(const Order& after, bool stock_returned)>;
  void set_order_listener(OrderListener listener) { listener_ = std::move(listener); }
  // A durable order by id; nullptr if there is none (or its stream's shop is not loaded).
  const Order* find_order(int64_t order_id) const;
  // A buyer's orders, newest first.
  std::vector<const Order*> orders_of(const std::string& buyer_id) const;
  // The answer runs once: at once when refused, after the change is durable when not.
  using ChangeAnswer = std::function<void(const Transition&)>;
  void change_order(int64_t order_id, OrderChange change, ChangeAnswer answer);
  // Expires every reserved order whose pay_by has passed (the rooms call it on a tick).
  // Returns how many were started.
  size_t expire_due(int64_t now_ms);
  // A payment service's notification, already parsed and its signature checked.
  void take_payment(const PaymentNotice& notice, int64_t now_ms, std::function<void(const PaymentAnswer&)> answer);

  // --- several nodes on one database ---
  // Runs (loop thread) whenever something this node stored changes what other nodes cache.
  using NewsListener = std::function<void(const ShopNews&)>;
  void set_news_listener(NewsListener listener) { news_ = std::move(listener); }
  // Runs when another node's change of an order reached this node's cache (its buyer may be
  // connected here; its hosts and viewers heard of it through the room events).
  using RemoteOrderListener = std::function<void(const Order& after)>;
  void set_remote_order_listener(RemoteOrderListener listener) { remote_order_listener_ = std::move(listener); }
  // Another node's news: the shop (when this node has it loaded) reads the change back from
  // the store and applies it.
  void apply_remote(const ShopNews& news);

  const CommerceOptions& options() const { return options_; }
  // The payment methods buyers may choose: "offline", and "gateway" when a secret is set.
  std::vector<std::string> payment_methods() const;
  // Where the buyer of a reserved order that pays online goes to pay; "" otherwise.
  std::string pay_url(const Order& order) const;

private:
  // A stored order's change in memory now, durable next: the answer and the listener wait for
  // the journal; on a failed write the order goes back to what it was.
  void commit_change(Shop& shop, const Order& before, const Transition& t, std::optional<PaymentRecord> payment,
                     std::function<void(const Status&)> done);
  void index_order(const Order& o);
  void track_deadline(const Order& before, const Order& after);

  Status persist_catalog(const Shop& shop);
  // What the store holds for a stream's shop (its first load, and a reload).
  struct StoredShop {
    std::vector<Product> products;  // stock = the ceiling
    std::vector<FlashSale> sales;
    std::vector<Order> orders;
    std::vector<RejectedBuy> rejections;
  };
  Status read_stored(const std::string& stream_id, StoredShop& out);
  void tell(ShopNews news) {
    if (news_ && options_.shared_store) news_(news);
  }
  // Another node changed the catalog or a sale: read it all back, unless order changes of this
  // node are still being written (then once they are).
  void reload_shop(const std::string& stream_id);
  void change_settled(const std::string& stream_id);
  // With a shared store: load the shops that have orders past their deadline, whoever sold them.
  void adopt_due_orders(int64_t now_ms);

  ShopLedger& store_;
  OrderJournal& writer_;
  std::map<std::string, std::unique_ptr<Shop>> shops_;
  int64_t next_order_id_ = 1;
  std::unordered_map<int64_t, std::vector<Answer>> waiters_;  // order id -> duplicates waiting
  uint64_t sale_seq_ = 0;

  CommerceOptions options_;
  std::unique_ptr<PhoneCheck> phone_check_;
  OrderListener listener_;
  NewsListener news_;
  RemoteOrderListener remote_order_listener_;
  std::unordered_map<std::string, int> changes_in_flight_;  // stream -> order changes not yet durable
  std::set<std::string> reload_after_changes_;              // streams to reload once they settle
  int64_t next_adopt_ms_ = 0;
  std::unordered_map<int64_t, Shop*> order_shops_;                     // order id -> its shop
  std::unordered_map<std::string, std::vector<int64_t>> buyer_orders_;  // buyer -> order ids
  std::set<std::pair<int64_t, int64_t>> deadlines_;                     // (pay_by, order id), reserved
  std::unordered_map<std::string, PaymentRecord> payments_;             // by payment id
};

}  // namespace harvest::commerce

#pragma once
// Shop: the commerce engine of one stream — its catalog, flash sales and the authority that
// decides every `buy`. Plain C++ values in, decisions out; no sockets, JSON or SQL.
//
// Contract: one Shop per stream, used from one thread (the control plane), so decisions are
// serialised and concurrent buyers can never oversell. Stock is reserved in memory when an order
// is accepted; the caller persists the order and then calls confirm() (durable) or release()
// (the store failed: the reservation is undone and the idempotency key forgotten).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "commerce/types.h"

namespace harvest::commerce {

struct BuyRequest {
  std::string viewer_id;
  std::string idempotency_key;
  std::string product_id;
  int64_t qty = 0;
  std::string sale_id;  // optional: the sale the buyer saw; "" = whatever is running
  std::optional<double> media_time;
  std::string card_product_id;        // card on screen now (room state)
  std::string media_card_product_id;  // card on screen at media_time (CardTimeline)
  int64_t media_exposure_id = 0;      // its exposure (CardTimeline::exposure_at), 0 none
  std::string replay_session;         // "" live; else the replay session the buyer watched
  int64_t now_ms = 0;
  int64_t pay_by_ms = 0;              // the reservation's payment deadline (0: none)
};

struct BuyOutcome {
  enum class Kind {
    accepted,             // new order reserved; persist it, then confirm()/release()
    rejected,             // `reason`; remembered for the key unless it is rate_limited
    duplicate_pending,    // same key, its order is still being persisted: answer when it is
    duplicate_confirmed,  // same key, its order is durable: `order` is the first answer
    duplicate_rejected,   // same key was rejected before: `reason` is the first answer
  };
  Kind kind = Kind::rejected;
  Order order;
  Rejection reason = Rejection::invalid;
  std::string message;
  // Set when this order sold the sale out (the sale has just ended).
  std::optional<FlashSale> sale_sold_out;
};

struct ProductPatch {
  std::optional<Fen> price;
  std::optional<int64_t> stock;  // units left from now on
  std::optional<std::string> title;
  std::optional<std::string> image;
};

struct SaleParams {
  std::string product_id;
  Fen price = 0;
  int64_t quantity = 0;
  int64_t per_buyer_limit = 1;
  int64_t duration_s = 0;
};

class Shop {
public:
  explicit Shop(std::string stream_id) : stream_id_(std::move(stream_id)) {}

  const std::string& stream_id() const { return stream_id_; }

  // --- catalog ---
  const std::vector<Product>& products() const { return products_; }
  const Product* product(std::string_view id) const;
  // Replaces the catalog with `products` (their `stock` = units left now; `sold` is ignored).
  // Products that stay keep their sold counts. Returns the ids that were removed; a removed
  // product's running sale ends with reason "removed" (see ended_sales()).
  std::vector<std::string> replace_catalog(std::vector<Product> products, int64_t now_ms);
  // Returns false if there is no such product.
  bool update_product(std::string_view id, const ProductPatch& patch);

  // --- flash sales ---
  // Starts a sale; `id` must be unique. Fails (empty + message) if the product is unknown, a
  // sale already runs for it, or the product has fewer than `quantity` units left.
  std::optional<FlashSale> start_sale(const std::string& id, const SaleParams& params, int64_t now_ms,
                                      std::string& message);
  // Ends a running sale; empty if it is unknown or already ended.
  std::optional<FlashSale> end_sale(std::string_view sale_id, const std::string& reason, int64_t now_ms);
  const FlashSale* sale(std::string_view sale_id) const;
  const FlashSale* running_sale_for(std::string_view product_id) const;
  std::vector<FlashSale> running_sales() const;
  const std::map<std::string, FlashSale>& all_sales() const { return sales_; }
  // Sales that ended inside replace_catalog() since the last call (for broadcasting).
  std::vector<FlashSale> take_ended_sales();

  // --- buying ---
  // Decides one buy. `order_id` is used only if the order is accepted.
  BuyOutcome decide(const BuyRequest& request, int64_t order_id);
  // The order is durable: later duplicates answer with it.
  void confirm(int64_t order_id);
  // The order could not be persisted: undo the reservation and forget the key.
  void release(int64_t order_id);
  // A shared database refused the order (another node sold the units, or stored the key):
  // undo the reservation, remember `reason` as the key's answer, and lower the product's
  // units left to `stock_left` when the database says so (>= 0): this node's stock is a cache.
  void refuse(int64_t order_id, Rejection reason, int64_t stock_left);
  // Units `viewer_id` bought in `sale_id` (accepted orders that hold stock).
  int64_t bought_in_sale(std::string_view sale_id, std::string_view viewer_id) const;

  // --- orders after the buy ---
  // Durable orders by id (every status).
  const std::unordered_map<int64_t, Order>& orders() const { return orders_; }
  Order* order(int64_t id);
  // A durable change of an order (order_lifecycle.h): stores its new state, and gives its
  // units back (to the product, and to its sale while that runs) when `stock_returned`.
  void order_changed(const Order& after, bool stock_returned);

  // --- several nodes on one database (PostgreSQL): this shop is a cache of the database's ---
  // An order another node made durable: listed, its units counted as sold (the per-buyer sale
  // limits see it), and the product's units left taken from the database's figure.
  void apply_remote_order(const Order& order, int64_t stock_left);
  // The database's units left for a product after a commit (>= 0), less the units this node
  // has reserved but not yet stored: what this node may still accept.
  void refresh_stock(std::string_view product_id, int64_t stock_left);
  // Rebuilds from the store (like restore()) but keeps the orders still being written: another
  // node changed the catalog or a sale.
  void reload(std::vector<Product> products_with_ceiling, std::vector<FlashSale> sales,
              const std::vector<Order>& orders, const std::vector<RejectedBuy>& rejections);

  // --- restart recovery ---
  // Rebuilds state from the store: `products` with `stock` = the stock ceiling (units left
  // plus units sold), every sale, every durable order and every stored final rejection.
  void restore(std::vector<Product> products_with_ceiling, std::vector<FlashSale> sales,
               const std::vector<Order>& orders, const std::vector<RejectedBuy>& rejections = {});
  // The stock ceiling persisted for a product: units left plus units sold.
  static int64_t ceiling(const Product& p) { return p.stock + p.sold; }

private:
  struct Answer {
    enum class State { pending, confirmed, rejected } state = State::pending;
    int64_t order_id = 0;  // pending: in pending_; confirmed: in orders_
    Rejection reason = Rejection::invalid;
  };
  void count_units(const Order& o, int64_t sign);
  Product* find_product(std::string_view id);
  FlashSale* find_running(std::string_view product_id);
  static std::string idem_key(std::string_view viewer, std::string_view key);
  BuyOutcome reject(const BuyRequest& request, Rejection reason, std::string message);

  std::string stream_id_;
  std::vector<Product> products_;
  std::map<std::string, FlashSale> sales_;
  std::vector<FlashSale> ended_in_replace_;
  std::unordered_map<std::string, int64_t> sale_buyer_units_;  // sale_id \n viewer -> units
  std::unordered_map<std::string, Answer> answers_;            // viewer \n key -> first answer
  std::unordered_map<int64_t, Order> pending_;                  // accepted, not yet durable
  std::unordered_map<int64_t, Order> orders_;                   // durable
};

}  // namespace harvest::commerce

#pragma once
// What the engine needs kept durable, stated by the engine: store::Store implements the ledger
// for every backend, store::OrderWriter the group commit. commerce/ names no backend, so the
// store can depend on commerce's types without a cycle between the folders.
//
// Contract: loop thread (OrderJournal: any thread); errors as Status, never exceptions.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "commerce/types.h"
#include "core/status.h"

namespace harvest::commerce {

class ShopLedger {
public:
  virtual ~ShopLedger() = default;
  // Products are stored with `stock` = the stock ceiling (units left + units sold), so units
  // left after a restart = ceiling - units in durable orders. `sold` is not stored.
  // Replaces the stream's whole catalog (in the given order) in one transaction.
  virtual Status save_products(const std::string& stream_id, const std::vector<Product>& products) = 0;
  virtual Status list_products(const std::string& stream_id, std::vector<Product>& out) = 0;
  // Inserts or replaces a sale (its `sold` is not stored: it is counted from orders).
  virtual Status save_sale(const std::string& stream_id, const FlashSale& sale) = 0;
  virtual Status list_sales(const std::string& stream_id, std::vector<FlashSale>& out) = 0;
  // Durable orders of a stream, oldest first. An order row is also the idempotency record of
  // its (viewer_id, idempotency_key).
  virtual Status list_orders(const std::string& stream_id, std::vector<Order>& out) = 0;
  // The largest order id ever stored (0 if none): new ids continue from it.
  virtual int64_t max_order_id() = 0;
  // One order by id, whatever its stream (`out` empty when there is none): what another node
  // just made durable, read back by the nodes that share the store.
  virtual Status find_order(int64_t order_id, std::optional<Order>& out) = 0;
  // Streams with a reserved order whose pay_by has passed, so that any node can expire the
  // orders of a node that died (their shops may not be loaded anywhere else).
  virtual Status list_streams_with_due_orders(int64_t now_ms, std::vector<std::string>& out) = 0;
  // Idempotency records of final rejections.
  virtual Status list_rejections(const std::string& stream_id, std::vector<RejectedBuy>& out) = 0;
  // Every handled payment notification.
  virtual Status list_payments(std::vector<PaymentRecord>& out) = 0;
};

// What the store decided for one entry of a group commit. SQLite (one node) stores every
// entry; a shared database (PostgreSQL, several nodes) decides stock and order states itself
// and may refuse an entry that this node's memory accepted.
enum class Verdict : uint8_t {
  stored,     // durable
  sold_out,   // a new order refused: the database has too few units left (another node sold them)
  duplicate,  // a new order refused: another node already stored this (viewer, key)
  stale,      // a change not made: another node changed the order first (e.g. it expired it)
};
struct Committed {
  Verdict verdict = Verdict::stored;
  // Units of the order's product the database has left after the commit; -1 if not known
  // (SQLite: this node's memory is the authority).
  int64_t stock_left = -1;
};

// The group commit of orders.
class OrderJournal {
public:
  // Runs on the loop thread once the order is written (ok, with the store's verdict) or
  // failed (error; the verdict is meaningless then).
  using Done = std::function<void(const Status&, const Committed&)>;
  virtual ~OrderJournal() = default;
  // Any thread. Queues `order`; `done` runs later on the loop thread.
  virtual void submit(Order order, Done done) = 0;
  // Any thread. Queues a later state of an order already stored (and the payment notification
  // that caused it, if any), written in order after everything queued before it.
  virtual void submit_change(Order after, std::optional<PaymentRecord> payment, Done done) = 0;
  // Any thread. Queues the idempotency record of a final rejection (written with the next
  // group; the buyer does not wait for it).
  virtual void record_rejection(RejectedBuy rejection) = 0;
};

}  // namespace harvest::commerce

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

#include "commerce/shop.h"
#include "core/status.h"
#include "commerce/ledger.h"

namespace harvest::commerce {

class CommerceService {
public:
  // Final answer to a buy: kind is accepted (durable), rejected, duplicate_confirmed or
  // duplicate_rejected — never duplicate_pending (those wait for the first one's commit).
  using Answer = std::function<void(const BuyOutcome&)>;

  CommerceService(ShopLedger& ledger, OrderJournal& journal);

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

private:
  Status persist_catalog(const Shop& shop);
  ShopLedger& store_;
  OrderJournal& writer_;
  std::map<std::string, std::unique_ptr<Shop>> shops_;
  int64_t next_order_id_ = 1;
  std::unordered_map<int64_t, std::vector<Answer>> waiters_;  // order id -> duplicates waiting
  uint64_t sale_seq_ = 0;
};

}  // namespace harvest::commerce

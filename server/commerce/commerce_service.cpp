#include "commerce/commerce_service.h"

#include "core/log.h"
#include "core/tokens.h"

namespace harvest::commerce {

CommerceService::CommerceService(ShopLedger& ledger, OrderJournal& journal, CommerceOptions options,
                                 std::unique_ptr<PhoneCheck> phone_check)
    : store_(ledger),
      writer_(journal),
      next_order_id_(ledger.max_order_id() + 1),
      options_(std::move(options)),
      phone_check_(phone_check ? std::move(phone_check) : std::make_unique<MobileNumberFormat>()) {
  std::vector<PaymentRecord> payments;
  if (auto st = store_.list_payments(payments); !st)
    log::error("payments_not_restored").kv("reason", st.message());
  for (auto& p : payments) payments_[p.payment_id] = std::move(p);
}

CommerceService::~CommerceService() = default;

Shop& CommerceService::shop(const std::string& stream_id, int64_t now_ms) {
  auto it = shops_.find(stream_id);
  if (it != shops_.end()) return *it->second;
  auto shop = std::make_unique<Shop>(stream_id);
  StoredShop stored;
  // The shop cannot wait or fail here (every room and route needs one); it starts from what
  // was read, and the failure is on record for the operator.
  if (Status read = read_stored(stream_id, stored); !read)
    log::error("shop_not_restored").kv("stream", stream_id).kv("reason", read.message());
  shop->restore(std::move(stored.products), std::move(stored.sales), stored.orders, stored.rejections);
  // Sales that ran out of time, units or product while the server was down end now. A sale
  // that sold out is not stored as ended (its last orders might not have been durable), so it
  // is recognised here from the durable orders.
  for (const auto& s : shop->running_sales()) {
    const Product* p = shop->product(s.product_id);
    std::string reason;
    if (now_ms >= s.ends_at_ms) reason = "time";
    else if (s.sold >= s.quantity || p == nullptr || p->stock == 0) reason = "sold_out";
    if (reason.empty()) continue;
    if (auto ended = shop->end_sale(s.id, reason, now_ms)) {
      if (auto st = store_.save_sale(stream_id, *ended); !st)
        log::error("sale_store_failed").kv("stream", stream_id).kv("reason", st.message());
    }
  }
  auto& ref = *shop;
  shops_.emplace(stream_id, std::move(shop));
  for (const auto& [id, order] : ref.orders()) index_order(order);
  return ref;
}

Status CommerceService::read_stored(const std::string& stream_id, StoredShop& out) {
  Status read = store_.list_products(stream_id, out.products);
  if (read) read = store_.list_sales(stream_id, out.sales);
  if (read) read = store_.list_orders(stream_id, out.orders);
  if (read) read = store_.list_rejections(stream_id, out.rejections);
  return read;
}

Status CommerceService::persist_catalog(const Shop& shop) {
  std::vector<Product> rows = shop.products();
  for (auto& p : rows) p.stock = Shop::ceiling(p);
  return store_.save_products(shop.stream_id(), rows);
}

Status CommerceService::replace_catalog(const std::string& stream_id, std::vector<Product> products,
                                        int64_t now_ms) {
  Shop& s = shop(stream_id, now_ms);
  // Compute the rows first so nothing changes in memory if the store refuses them.
  std::vector<Product> rows = products;
  for (auto& p : rows) {
    const Product* old = s.product(p.id);
    p.stock += old != nullptr ? old->sold : 0;
  }
  if (auto st = store_.save_products(stream_id, rows); !st) return st;
  s.replace_catalog(std::move(products), now_ms);
  for (const auto& ended : s.take_ended_sales()) {
    if (auto st = store_.save_sale(stream_id, ended); !st) return st;
  }
  tell({.what = ShopNews::What::shop_changed, .stream_id = stream_id});
  return Status::ok();
}

Status CommerceService::update_product(const std::string& stream_id, const std::string& product_id,
                                       const ProductPatch& patch, int64_t now_ms) {
  Shop& s = shop(stream_id, now_ms);
  const Product* p = s.product(product_id);
  if (p == nullptr) return Status::error("unknown product");
  const Product before = *p;
  s.update_product(product_id, patch);
  if (auto st = persist_catalog(s); !st) {
    ProductPatch undo;
    undo.price = before.price;
    undo.stock = before.stock;
    undo.title = before.title;
    undo.image = before.image;
    s.update_product(product_id, undo);
    return st;
  }
  tell({.what = ShopNews::What::shop_changed, .stream_id = stream_id});
  return Status::ok();
}

std::optional<FlashSale> CommerceService::start_sale(const std::string& stream_id, const SaleParams& params,
                                                     int64_t now_ms, std::string& message) {
  Shop& s = shop(stream_id, now_ms);
  // Sale ids are unique across restarts: time plus a random suffix.
  const std::string id = "s" + std::to_string(now_ms) + "-" + tokens::random_id(4) + std::to_string(++sale_seq_);
  auto sale = s.start_sale(id, params, now_ms, message);
  if (!sale) return std::nullopt;
  if (auto st = store_.save_sale(stream_id, *sale); !st) {
    s.end_sale(id, "store_failed", now_ms);
    message = "could not store the sale";
    log::error("sale_store_failed").kv("stream", stream_id).kv("reason", st.message());
    return std::nullopt;
  }
  tell({.what = ShopNews::What::shop_changed, .stream_id = stream_id});
  return sale;
}

std::optional<FlashSale> CommerceService::end_sale(const std::string& stream_id, const std::string& sale_id,
                                                   const std::string& reason, int64_t now_ms) {
  Shop& s = shop(stream_id, now_ms);
  auto ended = s.end_sale(sale_id, reason, now_ms);
  if (ended) {
    if (auto st = store_.save_sale(stream_id, *ended); !st)
      log::error("sale_store_failed").kv("stream", stream_id).kv("reason", st.message());
    tell({.what = ShopNews::What::shop_changed, .stream_id = stream_id});
  }
  return ended;
}

BuyOutcome CommerceService::buy(const std::string& stream_id, const BuyRequest& request, Answer answer) {
  Shop& s = shop(stream_id, request.now_ms);
  BuyRequest reserve = request;
  reserve.pay_by_ms = request.now_ms + options_.payment_window_ms;
  BuyOutcome outcome = s.decide(reserve, next_order_id_);
  switch (outcome.kind) {
    case BuyOutcome::Kind::accepted: {
      ++next_order_id_;
      const int64_t order_id = outcome.order.id;
      waiters_[order_id].push_back(std::move(answer));
      writer_.submit(outcome.order, [this, stream_id, order_id, accepted = outcome, request](
                                        const Status& st, const Committed& committed) {
        auto it = shops_.find(stream_id);
        BuyOutcome final_outcome = accepted;
        if (st && committed.verdict != Verdict::stored) {
          // A shared database refused what this node's memory (only a cache then) accepted:
          // the buyer was never confirmed, so they hear the database's answer.
          const Rejection reason = committed.verdict == Verdict::sold_out ? Rejection::sold_out : Rejection::unavailable;
          if (it != shops_.end()) it->second->refuse(order_id, reason, committed.stock_left);
          final_outcome.kind = BuyOutcome::Kind::rejected;
          final_outcome.reason = reason;
          final_outcome.sale_sold_out.reset();
          final_outcome.message = reason == Rejection::sold_out ? "sold out" : "this request was already placed; try again";
          if (reason == Rejection::sold_out && !request.idempotency_key.empty())
            writer_.record_rejection(RejectedBuy{stream_id, request.viewer_id, request.idempotency_key, reason, request.now_ms});
        } else if (st) {
          if (it != shops_.end()) {
            it->second->confirm(order_id);
            if (const Order* o = it->second->order(order_id)) {
              index_order(*o);
              it->second->refresh_stock(o->product_id, committed.stock_left);
            }
          }
          tell({.what = ShopNews::What::order_stored, .stream_id = stream_id, .order_id = order_id,
                .stock_left = committed.stock_left});
        } else {
          if (it != shops_.end()) it->second->release(order_id);
          final_outcome.kind = BuyOutcome::Kind::rejected;
          final_outcome.reason = Rejection::unavailable;
          final_outcome.message = "the order could not be stored; try again";
        }
        auto w = waiters_.find(order_id);
        if (w == waiters_.end()) return;
        std::vector<Answer> answers = std::move(w->second);
        waiters_.erase(w);
        for (size_t i = 0; i < answers.size(); ++i) {
          BuyOutcome o = final_outcome;
          // The first caller's order was new; later callers repeated its key.
          if (i > 0 && st && o.kind != BuyOutcome::Kind::rejected) o.kind = BuyOutcome::Kind::duplicate_confirmed;
          answers[i](o);
        }
      });
      break;
    }
    case BuyOutcome::Kind::duplicate_pending:
      waiters_[outcome.order.id].push_back(std::move(answer));
      break;
    case BuyOutcome::Kind::rejected:
      if (is_final(outcome.reason) && !request.idempotency_key.empty())
        writer_.record_rejection(
            RejectedBuy{stream_id, request.viewer_id, request.idempotency_key, outcome.reason, request.now_ms});
      answer(outcome);
      break;
    default:
      answer(outcome);
      break;
  }
  return outcome;
}

// ---------------------------------------------------------------- several nodes

void CommerceService::apply_remote(const ShopNews& news) {
  auto it = shops_.find(news.stream_id);
  if (it == shops_.end()) return;  // not cached here: it is read fresh when first needed
  Shop& s = *it->second;
  if (news.what == ShopNews::What::shop_changed) return reload_shop(news.stream_id);
  std::optional<Order> stored;
  if (auto st = store_.find_order(news.order_id, stored); !st || !stored || stored->stream_id != news.stream_id) {
    if (!st) log::warn("remote_order_not_read").kv("order", news.order_id).kv("reason", st.message());
    return;
  }
  Order* mine = s.order(news.order_id);
  if (mine == nullptr) {
    // New to this node (sold on another one, or its later change is the first we hear of it).
    s.apply_remote_order(*stored, news.what == ShopNews::What::order_stored ? news.stock_left : -1);
    index_order(*stored);
    return;
  }
  // The database has it as of the other node's commit; what this node holds may be newer
  // (its own change in flight) or the same (this node made it): keep the newest.
  if (mine->updated_at_ms > stored->updated_at_ms ||
      (mine->updated_at_ms == stored->updated_at_ms && mine->status == stored->status))
    return;
  const Order before = *mine;
  const bool returned = news.stock_returned && holds_stock(before) && !holds_stock(*stored);
  track_deadline(before, *stored);
  // Its buyer, the hosts and the viewers heard of it from the node that made it (the room
  // events cross the bus): only the cache changes here.
  s.order_changed(*stored, returned);
  if (remote_order_listener_) remote_order_listener_(*stored);
}

void CommerceService::reload_shop(const std::string& stream_id) {
  if (changes_in_flight_[stream_id] > 0) {
    reload_after_changes_.insert(stream_id);
    return;
  }
  auto it = shops_.find(stream_id);
  if (it == shops_.end()) return;
  StoredShop stored;
  if (Status read = read_stored(stream_id, stored); !read) {
    log::warn("shop_not_reloaded").kv("stream", stream_id).kv("reason", read.message());
    return;
  }
  for (const auto& [id, o] : it->second->orders()) track_deadline(o, Order{});
  it->second->reload(std::move(stored.products), std::move(stored.sales), stored.orders, stored.rejections);
  for (const auto& [id, o] : it->second->orders()) index_order(o);
}

void CommerceService::change_settled(const std::string& stream_id) {
  auto n = changes_in_flight_.find(stream_id);
  if (n == changes_in_flight_.end() || --n->second > 0) return;
  changes_in_flight_.erase(n);
  if (reload_after_changes_.erase(stream_id) != 0) reload_shop(stream_id);
}

void CommerceService::adopt_due_orders(int64_t now_ms) {
  if (!options_.shared_store || now_ms < next_adopt_ms_) return;
  // Every 30 s is often enough: a dead node's reservations are freed within a deadline's
  // slack, and the query is one index scan.
  next_adopt_ms_ = now_ms + 30'000;
  std::vector<std::string> streams;
  if (auto st = store_.list_streams_with_due_orders(now_ms, streams); !st) {
    log::warn("due_orders_not_listed").kv("reason", st.message());
    return;
  }
  for (const std::string& id : streams) {
    if (shops_.count(id) == 0) shop(id, now_ms);  // loading indexes its deadlines
  }
}

}  // namespace harvest::commerce

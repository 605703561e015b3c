#include "commerce/shop.h"

#include <algorithm>

namespace harvest::commerce {

const char* rejection_name(Rejection r) {
  switch (r) {
    case Rejection::sold_out: return "sold_out";
    case Rejection::limit_reached: return "limit_reached";
    case Rejection::sale_ended: return "sale_ended";
    case Rejection::invalid: return "invalid";
    case Rejection::rate_limited: return "rate_limited";
    case Rejection::unavailable: return "unavailable";
  }
  return "invalid";
}

std::optional<Rejection> rejection_from_name(std::string_view name) {
  for (Rejection r : {Rejection::sold_out, Rejection::limit_reached, Rejection::sale_ended, Rejection::invalid,
                      Rejection::rate_limited, Rejection::unavailable})
    if (name == rejection_name(r)) return r;
  return std::nullopt;
}

std::string Shop::idem_key(std::string_view viewer, std::string_view key) {
  std::string k;
  k.reserve(viewer.size() + key.size() + 1);
  k.append(viewer).push_back('\n');
  k.append(key);
  return k;
}

const Product* Shop::product(std::string_view id) const {
  for (const auto& p : products_)
    if (p.id == id) return &p;
  return nullptr;
}

Product* Shop::find_product(std::string_view id) {
  for (auto& p : products_)
    if (p.id == id) return &p;
  return nullptr;
}

std::vector<std::string> Shop::replace_catalog(std::vector<Product> products, int64_t now_ms) {
  std::vector<std::string> removed;
  for (const auto& old : products_) {
    const bool kept = std::any_of(products.begin(), products.end(), [&](const Product& p) { return p.id == old.id; });
    if (!kept) removed.push_back(old.id);
  }
  for (auto& p : products) {
    const Product* old = product(p.id);
    p.sold = old != nullptr ? old->sold : 0;
  }
  for (const auto& id : removed) {
    if (FlashSale* s = find_running(id)) {
      if (auto ended = end_sale(s->id, "removed", now_ms)) ended_in_replace_.push_back(*ended);
    }
  }
  products_ = std::move(products);
  return removed;
}

bool Shop::update_product(std::string_view id, const ProductPatch& patch) {
  Product* p = find_product(id);
  if (p == nullptr) return false;
  if (patch.price) p->price = *patch.price;
  if (patch.stock) p->stock = *patch.stock;
  if (patch.title) p->title = *patch.title;
  if (patch.image) p->image = *patch.image;
  return true;
}

FlashSale* Shop::find_running(std::string_view product_id) {
  for (auto& [id, s] : sales_)
    if (!s.ended && s.product_id == product_id) return &s;
  return nullptr;
}

const FlashSale* Shop::running_sale_for(std::string_view product_id) const {
  for (const auto& [id, s] : sales_)
    if (!s.ended && s.product_id == product_id) return &s;
  return nullptr;
}

const FlashSale* Shop::sale(std::string_view sale_id) const {
  auto it = sales_.find(std::string(sale_id));
  return it == sales_.end() ? nullptr : &it->second;
}

std::vector<FlashSale> Shop::running_sales() const {
  std::vector<FlashSale> out;
  for (const auto& [id, s] : sales_)
    if (!s.ended) out.push_back(s);
  return out;
}

std::vector<FlashSale> Shop::take_ended_sales() {
  std::vector<FlashSale> out;
  out.swap(ended_in_replace_);
  return out;
}

std::optional<FlashSale> Shop::start_sale(const std::string& id, const SaleParams& params, int64_t now_ms,
                                          std::string& message) {
  const Product* p = product(params.product_id);
  if (p == nullptr) {
    message = "unknown product";
    return std::nullopt;
  }
  if (running_sale_for(params.product_id) != nullptr) {
    message = "a sale is already running for this product";
    return std::nullopt;
  }
  if (sales_.count(id) != 0) {
    message = "duplicate sale id";
    return std::nullopt;
  }
  if (params.quantity > p->stock) {
    message = "not enough stock for this quantity";
    return std::nullopt;
  }
  FlashSale s;
  s.id = id;
  s.product_id = params.product_id;
  s.price = params.price;
  s.quantity = params.quantity;
  s.per_buyer_limit = params.per_buyer_limit;
  s.started_at_ms = now_ms;
  s.ends_at_ms = now_ms + params.duration_s * 1000;
  sales_[id] = s;
  return s;
}

std::optional<FlashSale> Shop::end_sale(std::string_view sale_id, const std::string& reason, int64_t now_ms) {
  auto it = sales_.find(std::string(sale_id));
  if (it == sales_.end() || it->second.ended) return std::nullopt;
  it->second.ended = true;
  it->second.ended_at_ms = now_ms;
  it->second.end_reason = reason;
  return it->second;
}

int64_t Shop::bought_in_sale(std::string_view sale_id, std::string_view viewer_id) const {
  auto it = sale_buyer_units_.find(idem_key(sale_id, viewer_id));
  return it == sale_buyer_units_.end() ? 0 : it->second;
}

BuyOutcome Shop::reject(const BuyRequest& request, Rejection reason, std::string message) {
  BuyOutcome out;
  out.kind = BuyOutcome::Kind::rejected;
  out.reason = reason;
  out.message = std::move(message);
  if (is_final(reason)) {
    Answer a;
    a.state = Answer::State::rejected;
    a.reason = reason;
    answers_.emplace(idem_key(request.viewer_id, request.idempotency_key), a);
  }
  return out;
}

BuyOutcome Shop::decide(const BuyRequest& request, int64_t order_id) {
  const std::string key = idem_key(request.viewer_id, request.idempotency_key);
  if (auto it = answers_.find(key); it != answers_.end()) {
    BuyOutcome out;
    switch (it->second.state) {
      case Answer::State::pending:
        out.kind = BuyOutcome::Kind::duplicate_pending;
        out.order = pending_.at(it->second.order_id);
        break;
      case Answer::State::confirmed:
        out.kind = BuyOutcome::Kind::duplicate_confirmed;
        out.order = orders_.at(it->second.order_id);
        break;
      case Answer::State::rejected:
        out.kind = BuyOutcome::Kind::duplicate_rejected;
        out.reason = it->second.reason;
        out.message = "repeated request";
        break;
    }
    return out;
  }

  if (request.qty < 1 || request.qty > kMaxQtyPerOrder)
    return reject(request, Rejection::invalid, "qty must be 1-" + std::to_string(kMaxQtyPerOrder));
  Product* p = find_product(request.product_id);
  if (p == nullptr) return reject(request, Rejection::invalid, "unknown product");

  FlashSale* sale = find_running(request.product_id);
  if (!request.sale_id.empty() && (sale == nullptr || sale->id != request.sale_id))
    return reject(request, Rejection::sale_ended, "that sale has ended");
  if (sale != nullptr && request.now_ms >= sale->ends_at_ms)
    return reject(request, Rejection::sale_ended, "the sale's time is up");

  std::string buyer_key;
  if (sale != nullptr) {
    buyer_key = idem_key(sale->id, request.viewer_id);
    const int64_t already = sale_buyer_units_[buyer_key];
    if (already + request.qty > sale->per_buyer_limit)
      return reject(request, Rejection::limit_reached,
                    "at most " + std::to_string(sale->per_buyer_limit) + " per buyer in this sale");
    if (sale->quantity - sale->sold < request.qty) return reject(request, Rejection::sold_out, "sale sold out");
  }
  if (p->stock < request.qty) return reject(request, Rejection::sold_out, "sold out");

  // Accept: reserve now, persist next.
  BuyOutcome out;
  out.kind = BuyOutcome::Kind::accepted;
  Order& o = out.order;
  o.id = order_id;
  o.stream_id = stream_id_;
  o.viewer_id = request.viewer_id;
  o.idempotency_key = request.idempotency_key;
  o.product_id = p->id;
  o.qty = request.qty;
  o.unit_price = sale != nullptr ? sale->price : p->price;
  o.total = o.unit_price * o.qty;
  o.currency = p->currency;
  o.media_time = request.media_time;
  o.card_product_id = request.card_product_id;
  o.media_card_product_id = request.media_card_product_id;
  o.media_exposure_id = request.media_exposure_id;
  o.replay_session = request.replay_session;
  o.sale_id = sale != nullptr ? sale->id : std::string();
  o.server_time_ms = request.now_ms;
  o.updated_at_ms = request.now_ms;
  o.status = OrderStatus::reserved;
  o.pay_by_ms = request.pay_by_ms;

  p->stock -= o.qty;
  p->sold += o.qty;
  if (sale != nullptr) {
    sale->sold += o.qty;
    sale_buyer_units_[buyer_key] += o.qty;
    if (sale->sold >= sale->quantity || p->stock == 0)
      out.sale_sold_out = end_sale(sale->id, "sold_out", request.now_ms);
  }
  Answer a;
  a.state = Answer::State::pending;
  a.order_id = o.id;
  answers_[key] = a;
  pending_[o.id] = o;
  return out;
}

void Shop::confirm(int64_t order_id) {
  auto it = pending_.find(order_id);
  if (it == pending_.end()) return;
  Answer& a = answers_[idem_key(it->second.viewer_id, it->second.idempotency_key)];
  a.state = Answer::State::confirmed;
  a.order_id = order_id;
  orders_[order_id] = std::move(it->second);
  pending_.erase(it);
}

Order* Shop::order(int64_t id) {
  auto it = orders_.find(id);
  return it == orders_.end() ? nullptr : &it->second;
}

// Adds (sign +1) or takes away (-1) an order's units from the sold counts: its product's, its
// sale's and its buyer's in that sale. Units left move the other way.
void Shop::count_units(const Order& o, int64_t sign) {
  if (Product* p = find_product(o.product_id)) {
    p->stock -= sign * o.qty;
    p->sold += sign * o.qty;
  }
  if (!o.sale_id.empty()) {
    auto s = sales_.find(o.sale_id);
    if (s != sales_.end()) s->second.sold += sign * o.qty;
    sale_buyer_units_[idem_key(o.sale_id, o.viewer_id)] += sign * o.qty;
  }
}

void Shop::order_changed(const Order& after, bool stock_returned) {
  orders_[after.id] = after;
  if (!stock_returned) return;
  // Back on the shelf at once. A sale that still runs gets its units back too (its buyers may
  // buy them again); a sale that has ended does not restart, so its units go to the list price.
  if (Product* p = find_product(after.product_id)) {
    p->stock += after.qty;
    p->sold -= after.qty;
  }
  if (!after.sale_id.empty()) {
    auto s = sales_.find(after.sale_id);
    if (s != sales_.end() && !s->second.ended) s->second.sold -= after.qty;
    sale_buyer_units_[idem_key(after.sale_id, after.viewer_id)] -= after.qty;
  }
}

void Shop::release(int64_t order_id) {
  auto it = pending_.find(order_id);
  if (it == pending_.end()) return;
  const Order& o = it->second;
  count_units(o, -1);
  answers_.erase(idem_key(o.viewer_id, o.idempotency_key));
  pending_.erase(it);
}

void Shop::refuse(int64_t order_id, Rejection reason, int64_t stock_left) {
  auto it = pending_.find(order_id);
  if (it == pending_.end()) return;
  const Order o = it->second;
  release(order_id);
  if (is_final(reason)) {
    Answer a;
    a.state = Answer::State::rejected;
    a.reason = reason;
    answers_[idem_key(o.viewer_id, o.idempotency_key)] = a;
  }
  if (Product* p = find_product(o.product_id); p != nullptr && stock_left >= 0)
    p->stock = std::min(p->stock, stock_left);
}

void Shop::apply_remote_order(const Order& order, int64_t stock_left) {
  if (orders_.count(order.id) != 0 || pending_.count(order.id) != 0) return;
  Answer a;
  a.state = Answer::State::confirmed;
  a.order_id = order.id;
  answers_[idem_key(order.viewer_id, order.idempotency_key)] = a;
  orders_[order.id] = order;
  if (holds_stock(order)) count_units(order, +1);
  if (stock_left >= 0) refresh_stock(order.product_id, stock_left);
}

void Shop::refresh_stock(std::string_view product_id, int64_t stock_left) {
  Product* p = find_product(product_id);
  if (p == nullptr || stock_left < 0) return;
  int64_t reserved_here = 0;
  for (const auto& [id, o] : pending_)
    if (o.product_id == product_id) reserved_here += o.qty;
  p->stock = std::max<int64_t>(0, stock_left - reserved_here);
}

void Shop::reload(std::vector<Product> products_with_ceiling, std::vector<FlashSale> sales,
                  const std::vector<Order>& orders, const std::vector<RejectedBuy>& rejections) {
  auto pending = std::move(pending_);
  restore(std::move(products_with_ceiling), std::move(sales), orders, rejections);
  for (auto& [id, o] : pending) {
    if (orders_.count(id) != 0) continue;  // stored meanwhile: counted by restore()
    count_units(o, +1);
    Answer& a = answers_[idem_key(o.viewer_id, o.idempotency_key)];
    a.state = Answer::State::pending;
    a.order_id = id;
    pending_.emplace(id, std::move(o));
  }
}

void Shop::restore(std::vector<Product> products_with_ceiling, std::vector<FlashSale> sales,
                   const std::vector<Order>& orders, const std::vector<RejectedBuy>& rejections) {
  products_ = std::move(products_with_ceiling);
  for (auto& p : products_) p.sold = 0;
  sales_.clear();
  for (auto& s : sales) {
    s.sold = 0;
    sales_[s.id] = std::move(s);
  }
  answers_.clear();
  pending_.clear();
  orders_.clear();
  sale_buyer_units_.clear();
  for (const Order& o : orders) {
    // Only orders that still hold their units count as sold (a cancelled or expired one gave
    // them back); `stock` is made from the ceiling below, after every order is counted.
    if (holds_stock(o)) {
      if (Product* p = find_product(o.product_id)) p->sold += o.qty;
      if (!o.sale_id.empty()) {
        auto s = sales_.find(o.sale_id);
        if (s != sales_.end()) s->second.sold += o.qty;
        sale_buyer_units_[idem_key(o.sale_id, o.viewer_id)] += o.qty;
      }
    }
    Answer a;
    a.state = Answer::State::confirmed;
    a.order_id = o.id;
    answers_[idem_key(o.viewer_id, o.idempotency_key)] = a;
    orders_[o.id] = o;
  }
  for (const RejectedBuy& r : rejections) {
    Answer a;
    a.state = Answer::State::rejected;
    a.reason = r.reason;
    answers_.emplace(idem_key(r.viewer_id, r.idempotency_key), a);  // an order for the key wins
  }
  for (auto& p : products_) p.stock = std::max<int64_t>(0, p.stock - p.sold);
}

}  // namespace harvest::commerce

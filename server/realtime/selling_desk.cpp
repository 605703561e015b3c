#include "realtime/selling_desk.h"

#include <algorithm>

#include "core/json_writer.h"
#include "core/log.h"
#include "core/metrics.h"
#include "realtime/messages.h"

namespace harvest::realtime {

using nlohmann::json;

namespace {
// "买家 ab**": a buyer other viewers can tell apart without learning their id.
std::string masked_buyer(const std::string& viewer_id) { return "买家 " + viewer_id.substr(0, 2) + "**"; }
}  // namespace

// Attribution from the show's state: the card on screen now (the seam's default answer).
class SellingDesk::ShowTimeline final : public show::CardTimeline {
public:
  explicit ShowTimeline(const show::Show& show) : show_(show) {}
  std::string card_at(const std::string& stream_id, double /*media_time*/) const override {
    return show_.current_card(stream_id);
  }

private:
  const show::Show& show_;
};

SellingDesk::SellingDesk(EventLoop& loop, Audience& audience, commerce::CommerceService& commerce,
                         show::Show& show, ShowChannel& channel, const RoomOptions& options)
    : loop_(loop),
      audience_(audience),
      commerce_(commerce),
      show_(show),
      channel_(channel),
      options_(options),
      show_timeline_(std::make_unique<ShowTimeline>(show)) {}

SellingDesk::~SellingDesk() {
  if (expiry_timer_ != 0) loop_.cancel(expiry_timer_);
  commerce_.set_order_listener(nullptr);
  commerce_.set_remote_order_listener(nullptr);
}

void SellingDesk::start(const std::vector<std::string>& stream_ids) {
  const int64_t now = now_ms();
  for (const auto& stream_id : stream_ids)
    for (const auto& sale : commerce_.shop(stream_id, now).running_sales()) arm_sale_timer(stream_id, sale);
  commerce_.set_order_listener(
      [this](const commerce::Order& after, bool stock_returned) { order_changed(after, stock_returned); });
  commerce_.set_remote_order_listener([this](const commerce::Order& after) { order_changed_elsewhere(after); });
  // Every shop is loaded now, so reservations whose pay_by passed while the server was down
  // expire on the first tick.
  expiry_tick();
}

// Payment deadlines are checked four times a second: an order expires within 250 ms of its
// pay_by, and the tick costs a set lookup when nothing is due.
void SellingDesk::expiry_tick() {
  commerce_.expire_due(now_ms());
  expiry_timer_ = loop_.run_after(std::chrono::milliseconds(250), [this] { expiry_tick(); });
}

nlohmann::json SellingDesk::order_view(const commerce::Order& order) {
  json view = order_view_json(order, shop(order.stream_id).product(order.product_id));
  if (std::string url = commerce_.pay_url(order); !url.empty()) view["pay_url"] = url;
  return view;
}

void SellingDesk::order_changed(const commerce::Order& after, bool stock_returned) {
  if (stock_returned) mark_stock(after.stream_id, after.product_id);
  json event = order_view(after);
  event["type"] = "order.updated";
  const std::string text = event.dump();
  for (ConnId id : audience_.buyer_connections(after.viewer_id)) {
    const Member* m = audience_.find(id);
    // A host connection of this stream hears it below; the buyer's own viewer connections here.
    if (m != nullptr && !m->manages()) audience_.send(id, text);
  }
  if (audience_.hosts_listening(after.stream_id)) audience_.to_hosts(after.stream_id, Payload(text));
}

void SellingDesk::order_changed_elsewhere(const commerce::Order& after) {
  const auto here = audience_.buyer_connections(after.viewer_id);
  if (here.empty()) return;
  json event = order_view(after);
  event["type"] = "order.updated";
  const std::string text = event.dump();
  for (ConnId id : here) {
    const Member* m = audience_.find(id);
    if (m != nullptr && !m->manages()) audience_.send(id, text);
  }
}

commerce::Shop& SellingDesk::shop(const std::string& stream_id) {
  return commerce_.shop(stream_id, now_ms());
}

const std::vector<commerce::Product>& SellingDesk::products(const std::string& stream_id) {
  return shop(stream_id).products();
}

std::optional<show::Card> SellingDesk::card(const std::string& stream_id, const std::string& product_id) {
  commerce::Shop& s = shop(stream_id);
  const commerce::Product* p = s.product(product_id);
  if (p == nullptr) return std::nullopt;
  show::Card card{p->title, p->price, p->currency, p->image, p->stock, p->sold, {}, {}, {}, std::nullopt};
  // The card's short origin: the county, else the township or the village (the sheet has it all).
  const commerce::Place& place = p->origin.place;
  card.origin_place = !place.county.empty()     ? place.county
                      : !place.township.empty() ? place.township
                                                : place.village;
  card.harvest_date = p->origin.harvest_date;
  card.trace_code = p->origin.trace_code;
  if (const commerce::FlashSale* sale = s.running_sale_for(product_id))
    card.sale = show::Card::Sale{sale->id, sale->price, sale->ends_at_ms, sale->quantity - sale->sold};
  return card;
}

// ---------------------------------------------------------------- catalog and products

Status SellingDesk::replace_catalog(const std::string& stream_id, std::vector<commerce::Product> products) {
  if (auto st = commerce_.replace_catalog(stream_id, std::move(products), now_ms()); !st) return st;
  commerce::Shop& s = shop(stream_id);
  // Sales of removed products ended inside the engine.
  std::vector<std::string> timed;
  for (const auto& [sale_id, timer] : counters_[stream_id].sale_timers) timed.push_back(sale_id);
  for (const auto& sale_id : timed) {
    const commerce::FlashSale* sale = s.sale(sale_id);
    if (sale != nullptr && sale->ended) sale_ended(stream_id, *sale);
  }
  channel_.hide_missing(stream_id,
                        [&s](const std::string& product_id) { return s.product(product_id) != nullptr; });
  const json j = {{"type", "catalog"}, {"products", products_json(s.products())}, {"server_time", now_ms()}};
  audience_.broadcast(stream_id, Payload(j.dump()));
  return Status::ok();
}

void SellingDesk::update_product(const Member& c, const ClientMessage& m) {
  commerce::ProductPatch patch;
  patch.price = m.price;
  patch.stock = m.stock;
  patch.title = m.title;
  const int64_t now = now_ms();
  if (commerce_.shop(c.stream_id, now).product(m.product_id) == nullptr) {
    audience_.send_error(c.id, "invalid", "unknown product", m.id_json);
    return;
  }
  if (auto st = commerce_.update_product(c.stream_id, m.product_id, patch, now); !st) {
    audience_.send_error(c.id, "invalid", "could not update the product: " + st.message(), m.id_json);
    return;
  }
  const commerce::Product* p = commerce_.shop(c.stream_id, now).product(m.product_id);
  const json j = {{"type", "product.updated"}, {"product", product_json(*p)}, {"server_time", now}};
  audience_.broadcast(c.stream_id, Payload(j.dump()), Delivery::reliable, 0, c.id);
  audience_.reply(c.id, j, m.id_json);
  mark_stock(c.stream_id, m.product_id);
  show_.notify_update(c.stream_id, m.product_id, now_ms());
}

// ---------------------------------------------------------------- flash sales

void SellingDesk::arm_sale_timer(const std::string& stream_id, const commerce::FlashSale& sale) {
  const int64_t wait_ms = std::max<int64_t>(0, sale.ends_at_ms - now_ms());
  const std::string sale_id = sale.id;
  counters_[stream_id].sale_timers[sale.id] =
      loop_.run_after(std::chrono::milliseconds(wait_ms), [this, stream_id, sale_id] {
        counters_[stream_id].sale_timers.erase(sale_id);
        if (auto ended = commerce_.end_sale(stream_id, sale_id, "time", now_ms()))
          sale_ended(stream_id, *ended);
      });
}

void SellingDesk::cancel_sale_timer(const std::string& stream_id, const std::string& sale_id) {
  auto& timers = counters_[stream_id].sale_timers;
  if (auto it = timers.find(sale_id); it != timers.end()) {
    loop_.cancel(it->second);
    timers.erase(it);
  }
}

void SellingDesk::sale_ended(const std::string& stream_id, const commerce::FlashSale& sale) {
  cancel_sale_timer(stream_id, sale.id);
  audience_.broadcast(stream_id, Payload(sale_json("sale.ended", sale, now_ms()).dump()));
  show_.notify_update(stream_id, sale.product_id, now_ms());
}

void SellingDesk::start_sale(const Member& c, const ClientMessage& m) {
  commerce::SaleParams params;
  params.product_id = m.product_id;
  params.price = m.price.value_or(0);
  params.quantity = m.quantity;
  params.per_buyer_limit = m.per_buyer_limit;
  params.duration_s = m.duration_s;
  std::string message;
  auto sale = commerce_.start_sale(c.stream_id, params, now_ms(), message);
  if (!sale) {
    audience_.send_error(c.id, "invalid", message, m.id_json);
    return;
  }
  arm_sale_timer(c.stream_id, *sale);
  const json j = sale_json("sale.started", *sale, now_ms());
  audience_.broadcast(c.stream_id, Payload(j.dump()), Delivery::reliable, 0, c.id);
  audience_.reply(c.id, j, m.id_json);
  show_.notify_update(c.stream_id, sale->product_id, now_ms());
  log::info("sale_started")
      .kv("stream", c.stream_id)
      .kv("sale", sale->id)
      .kv("product", sale->product_id)
      .kv("quantity", sale->quantity);
}

void SellingDesk::stop_sale(const Member& c, const ClientMessage& m) {
  auto ended = commerce_.end_sale(c.stream_id, m.sale_id, "stopped", now_ms());
  if (!ended) {
    audience_.send_error(c.id, "invalid", "no running sale with that id", m.id_json);
    return;
  }
  cancel_sale_timer(c.stream_id, ended->id);
  const json j = sale_json("sale.ended", *ended, now_ms());
  audience_.broadcast(c.stream_id, Payload(j.dump()), Delivery::reliable, 0, c.id);
  audience_.reply(c.id, j, m.id_json);
  show_.notify_update(c.stream_id, ended->product_id, now_ms());
}

// ---------------------------------------------------------------- buys

void SellingDesk::reject_buy(ConnId id, commerce::Rejection reason, const std::string& message,
                             const std::string& id_json, const std::string& product_id) {
  metrics().orders_rejected.add(commerce::rejection_name(reason));
  JsonObject r;
  r.str("type", "order.rejected")
      .raw("re", id_json)
      .str("reason", commerce::rejection_name(reason))
      .str("message", message);
  if (!product_id.empty()) r.str("product_id", product_id);
  audience_.send(id, r.take());
}

void SellingDesk::buy(const Member& c, const ClientMessage& m) {
  if (c.identity.role != Role::viewer) {
    audience_.send_error(c.id, "forbidden", "only viewers buy", m.id_json);
    return;
  }
  commerce::BuyRequest req;
  req.viewer_id = c.viewer_id;
  req.idempotency_key = m.idempotency_key;
  req.product_id = m.product_id;
  req.qty = m.qty;
  req.sale_id = m.sale_id;
  req.media_time = m.media_time;
  req.card_product_id = show_.current_card(c.stream_id);
  req.replay_session = c.replay_session;
  if (m.media_time) {
    const show::CardTimeline& tl = timeline_ != nullptr ? *timeline_ : *show_timeline_;
    if (c.replay_session.empty()) {
      req.media_card_product_id = tl.card_at(c.stream_id, *m.media_time);
      req.media_exposure_id = tl.exposure_at(c.stream_id, "", *m.media_time);
    } else {
      req.media_card_product_id = tl.card_at_in_session(c.stream_id, c.replay_session, *m.media_time);
      req.media_exposure_id = tl.exposure_at(c.stream_id, c.replay_session, *m.media_time);
    }
  }
  req.now_ms = now_ms();

  auto answer = [this, conn_id = c.id, stream_id = c.stream_id, id_json = m.id_json,
                 buyer = masked_buyer(c.viewer_id)](const commerce::BuyOutcome& o) {
    using Kind = commerce::BuyOutcome::Kind;
    if (o.kind == Kind::accepted) order_durable(stream_id, o.order, buyer);
    if (audience_.find(conn_id) == nullptr) return;  // the buyer left; the order stands (a retry finds it)
    if (o.kind != Kind::accepted && o.kind != Kind::duplicate_confirmed) {
      reject_buy(conn_id, o.reason, o.message, id_json, "");
      return;
    }
    JsonObject j;
    j.str("type", "order.confirmed")
        .raw("re", id_json)
        .num("order_id", o.order.id)
        .str("product_id", o.order.product_id)
        .num("qty", o.order.qty)
        .num("unit_price", o.order.unit_price)
        .num("total", o.order.total)
        .str("currency", o.order.currency)
        .str("status", commerce::status_name(o.order.status));
    if (o.order.pay_by_ms != 0)
      j.num("pay_by", o.order.pay_by_ms);
    else
      j.null("pay_by");
    if (o.order.sale_id.empty())
      j.null("sale_id");
    else
      j.str("sale_id", o.order.sale_id);
    j.num("server_time", o.order.server_time_ms).boolean("duplicate", o.kind == Kind::duplicate_confirmed);
    audience_.send(conn_id, j.take());
  };
  commerce::BuyOutcome decided = commerce_.buy(c.stream_id, req, answer);
  if (decided.kind == commerce::BuyOutcome::Kind::accepted) {
    mark_stock(c.stream_id, decided.order.product_id);
    if (decided.sale_sold_out) sale_ended(c.stream_id, *decided.sale_sold_out);
  }
}

void SellingDesk::order_durable(const std::string& stream_id, const commerce::Order& order,
                                const std::string& buyer) {
  metrics().orders_confirmed.fetch_add(1, std::memory_order_relaxed);
  metrics().gmv_fen.fetch_add(order.total, std::memory_order_relaxed);
  PurchaseNote& note = counters_[stream_id].purchases[order.product_id];
  note.qty = order.qty;
  note.buyer = buyer;
  mark_stock(stream_id, order.product_id);
  // The row GET /orders gives (hosts may see viewer ids), pushed as the order becomes durable,
  // so a host's order feed needs no re-reading of the whole list.
  if (!audience_.hosts_listening(stream_id)) return;
  json event = order_json(order);
  event["type"] = "order";
  event["buyer"] = buyer;
  audience_.to_hosts(stream_id, Payload(event.dump()));
}

// ---------------------------------------------------------------- coalesced stock and purchases

void SellingDesk::mark_stock(const std::string& stream_id, const std::string& product_id) {
  Counter& counter = counters_[stream_id];
  counter.dirty_stock.insert(product_id);
  if (counter.stock_flush_armed) return;
  counter.stock_flush_armed = true;
  loop_.run_after(options_.stock_interval, [this, stream_id] { flush_stock(stream_id); });
}

void SellingDesk::flush_stock(const std::string& stream_id) {
  Counter& counter = counters_[stream_id];
  counter.stock_flush_armed = false;
  commerce::Shop& s = shop(stream_id);
  for (const auto& product_id : counter.dirty_stock) {
    const commerce::Product* p = s.product(product_id);
    if (p == nullptr) continue;
    JsonObject stock;
    stock.str("type", "stock").str("product_id", product_id).num("left", p->stock).num("sold", p->sold);
    if (const commerce::FlashSale* sale = s.running_sale_for(product_id))
      stock.str("sale_id", sale->id).num("sale_left", sale->quantity - sale->sold);
    audience_.broadcast(stream_id, Payload(stock.take()), Delivery::superseding,
                        supersede_key("stock", product_id));
    auto pit = counter.purchases.find(product_id);
    if (pit != counter.purchases.end()) {
      std::string purchase = JsonObject()
                                 .str("type", "purchase")
                                 .str("product_id", product_id)
                                 .num("qty", pit->second.qty)
                                 .str("buyer", pit->second.buyer)
                                 .num("count", p->sold)
                                 .take();
      audience_.broadcast(stream_id, Payload(purchase), Delivery::superseding,
                          supersede_key("purchase", product_id));
      counter.purchases.erase(pit);
    }
  }
  const std::set<std::string> changed = std::move(counter.dirty_stock);
  counter.dirty_stock.clear();
  for (const auto& product_id : changed) show_.notify_update(stream_id, product_id, now_ms());
}

}  // namespace harvest::realtime

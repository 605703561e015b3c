// CommerceService, after the buy: order changes (order_lifecycle.h), their durability and
// the stock they give back, payment deadlines, and payment notifications.
#include <algorithm>
#include <chrono>
#include <memory>

#include "commerce/commerce_service.h"
#include "core/log.h"
#include "core/metrics.h"

namespace harvest::commerce {

std::vector<std::string> CommerceService::payment_methods() const {
  std::vector<std::string> methods{"offline"};
  if (!options_.payment_secret.empty()) methods.emplace_back("gateway");
  return methods;
}

std::string CommerceService::pay_url(const Order& o) const {
  if (options_.payment_url.empty() || o.status != OrderStatus::reserved || o.payment != "gateway") return {};
  std::string url = options_.payment_url;
  // Values are digits and a currency code: nothing in them needs escaping in a URL.
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"{order_id}", std::to_string(o.id)},
                                   {"{amount}", std::to_string(o.total)},
                                   {"{currency}", o.currency}}) {
    for (size_t at = url.find(key); at != std::string::npos; at = url.find(key, at + value.size()))
      url.replace(at, key.size(), value);
  }
  return url;
}

void CommerceService::index_order(const Order& o) {
  auto it = shops_.find(o.stream_id);
  if (it == shops_.end()) return;
  if (order_shops_.emplace(o.id, it->second.get()).second) buyer_orders_[o.viewer_id].push_back(o.id);
  if (o.status == OrderStatus::reserved && o.pay_by_ms != 0) deadlines_.emplace(o.pay_by_ms, o.id);
}

void CommerceService::track_deadline(const Order& before, const Order& after) {
  if (before.status == OrderStatus::reserved && before.pay_by_ms != 0) deadlines_.erase({before.pay_by_ms, before.id});
  if (after.status == OrderStatus::reserved && after.pay_by_ms != 0) deadlines_.emplace(after.pay_by_ms, after.id);
}

const Order* CommerceService::find_order(int64_t order_id) const {
  auto it = order_shops_.find(order_id);
  return it == order_shops_.end() ? nullptr : it->second->order(order_id);
}

std::vector<const Order*> CommerceService::orders_of(const std::string& buyer_id) const {
  std::vector<const Order*> out;
  auto it = buyer_orders_.find(buyer_id);
  if (it == buyer_orders_.end()) return out;
  for (auto id = it->second.rbegin(); id != it->second.rend(); ++id)
    if (const Order* o = find_order(*id)) out.push_back(o);
  return out;
}

void CommerceService::commit_change(Shop& shop, const Order& before, const Transition& t,
                                    std::optional<PaymentRecord> payment, std::function<void(const Status&)> done) {
  // In memory now, so that the next change is decided on this state (a cancel after an expiry
  // is refused at once); but nobody hears of it, and no unit goes back on sale, until it is
  // durable — a unit sold again before the change is on disk could be sold twice after a crash.
  Order* live = shop.order(before.id);
  *live = t.after;
  track_deadline(before, t.after);
  if (payment) payments_[payment->payment_id] = *payment;
  const std::string stream_id = shop.stream_id();
  const std::string payment_id = payment ? payment->payment_id : std::string();
  ++changes_in_flight_[stream_id];
  writer_.submit_change(t.after, std::move(payment),
                        [this, stream_id, before, t, payment_id, done = std::move(done)](const Status& st,
                                                                                        const Committed& committed) {
                          auto it = shops_.find(stream_id);
                          Shop* s = it == shops_.end() ? nullptr : it->second.get();
                          Order* now = s != nullptr ? s->order(before.id) : nullptr;
                          if (!st) {
                            // Back to what it was, unless a later change has been made on top.
                            if (now != nullptr && now->updated_at_ms == t.after.updated_at_ms &&
                                now->status == t.after.status) {
                              track_deadline(*now, before);
                              *now = before;
                            }
                            if (!payment_id.empty()) payments_.erase(payment_id);
                            done(st);
                            change_settled(stream_id);
                            return;
                          }
                          // Another node made this change first (an expiry: both saw the deadline
                          // pass). The state is the same; the units went back once, by that node.
                          const bool stock_returned = t.stock_returned && committed.verdict != Verdict::stale;
                          if (s != nullptr) {
                            // Keep the latest state in memory (a later change may already be there).
                            const Order latest = now != nullptr ? *now : t.after;
                            s->order_changed(latest, stock_returned);
                          }
                          metrics().order_changes.add(before.status == t.after.status ? "updated"
                                                                                      : status_name(t.after.status));
                          if (listener_) listener_(t.after, stock_returned);
                          if (committed.verdict != Verdict::stale)
                            tell({.what = ShopNews::What::order_changed, .stream_id = stream_id,
                                  .order_id = before.id, .stock_returned = stock_returned});
                          done(st);
                          change_settled(stream_id);
                        });
}

void CommerceService::change_order(int64_t order_id, OrderChange change, ChangeAnswer answer) {
  auto it = order_shops_.find(order_id);
  Order* order = it == order_shops_.end() ? nullptr : it->second->order(order_id);
  if (order == nullptr) {
    Transition t;
    t.http_status = 404;
    t.code = "not_found";
    t.message = "no such order";
    answer(t);
    return;
  }
  if (change.kind == OrderChange::Kind::checkout) {
    change.contact.phone = normalise_phone(change.contact.phone);
    if (!change.contact.phone.empty() && contact_problem(change.contact) == std::nullopt) {
      if (auto problem = phone_check_->problem(order->viewer_id, change.contact.phone)) {
        Transition t;
        t.http_status = 400;
        t.code = "invalid";
        t.message = "phone: " + *problem;
        answer(t);
        return;
      }
    }
    if (change.payment == "gateway" && options_.payment_secret.empty()) {
      Transition t;
      t.http_status = 400;
      t.code = "invalid";
      t.message = "online payment is not set up on this server: choose offline";
      answer(t);
      return;
    }
  }
  const Order before = *order;
  Transition t = apply_change(before, change);
  if (!t.ok) {
    t.after = before;
    answer(t);
    return;
  }
  commit_change(*it->second, before, t, std::nullopt, [t, answer = std::move(answer)](const Status& st) {
    if (st) return answer(t);
    Transition failed;
    failed.http_status = 503;
    failed.code = "unavailable";
    failed.message = "the change could not be stored; try again";
    answer(failed);
  });
}

size_t CommerceService::expire_due(int64_t now_ms) {
  adopt_due_orders(now_ms);
  std::vector<int64_t> due;
  for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first <= now_ms; ++it) due.push_back(it->second);
  if (due.empty()) return 0;
  // One line per tick that expired something: how many, and how long until the last of them
  // was on disk (a burst after a restart is worth seeing; the checkout benchmark reads it).
  struct Batch {
    size_t left = 0;
    size_t expired = 0;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  };
  auto batch = std::make_shared<Batch>();
  batch->left = due.size();
  for (int64_t id : due) {
    OrderChange change;
    change.kind = OrderChange::Kind::expire;
    change.actor = Actor::system;
    change.now_ms = now_ms;
    change_order(id, change, [id, batch](const Transition& t) {
      if (t.ok) ++batch->expired;
      else log::warn("order_not_expired").kv("order", id).kv("reason", t.message);
      if (--batch->left != 0) return;
      const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - batch->started).count();
      log::info("orders_expired").kv("count", batch->expired).kv("durable_ms", static_cast<int64_t>(ms));
    });
  }
  return due.size();
}

void CommerceService::take_payment(const PaymentNotice& n, int64_t now_ms,
                                   std::function<void(const PaymentAnswer&)> answer) {
  PaymentAnswer a;
  // Every answer is counted by its outcome (refusals by their code).
  answer = [inner = std::move(answer)](const PaymentAnswer& out) {
    metrics().payment_notices.add(out.http_status >= 300 ? out.code : out.repeated ? "repeated" : out.outcome);
    inner(out);
  };
  if (auto seen = payments_.find(n.payment_id); seen != payments_.end()) {
    // Payment services repeat a notification until they get a 2xx: the first answer again,
    // and nothing changes.
    if (seen->second.order_id != n.order_id) {
      a.http_status = 409;
      a.code = "conflict";
      a.message = "this payment_id was used for another order";
      return answer(a);
    }
    a.outcome = seen->second.outcome;
    a.repeated = true;
    a.message = "already handled";
    if (const Order* o = find_order(n.order_id)) a.order = *o;
    return answer(a);
  }
  auto it = order_shops_.find(n.order_id);
  Order* order = it == order_shops_.end() ? nullptr : it->second->order(n.order_id);
  if (order == nullptr) {
    a.http_status = 404;
    a.code = "not_found";
    a.message = "no such order";
    return answer(a);
  }
  if (n.amount != order->total || n.currency != order->currency) {
    a.http_status = 400;
    a.code = "amount_mismatch";
    a.message = "the order is " + std::to_string(order->total) + " " + order->currency;
    return answer(a);
  }
  if (n.status != "paid") {
    // A failed or closed payment moves no money; the order keeps waiting until its pay_by.
    a.outcome = "ignored";
    a.message = "status " + n.status + ": nothing to do";
    a.order = *order;
    return answer(a);
  }
  PaymentRecord record{n.payment_id, n.order_id, n.amount, n.currency, "paid", now_ms};
  const Order before = *order;
  Transition t;
  if (before.status == OrderStatus::reserved) {
    OrderChange change;
    change.kind = OrderChange::Kind::paid;
    change.actor = Actor::gateway;
    change.payment_id = n.payment_id;
    change.now_ms = now_ms;
    t = apply_change(before, change);
  } else {
    // Money for an order that cannot take it (expired, cancelled, or paid already): refused,
    // kept on record, and the order flagged for the farmer to refund.
    record.outcome = "refund_due";
    t.ok = true;
    t.after = before;
    t.after.flag = "refund_due";
    t.after.updated_at_ms = now_ms;
    log::warn("payment_refused").kv("order", n.order_id).kv("status", status_name(before.status));
  }
  commit_change(*it->second, before, t, record, [t, record, answer = std::move(answer)](const Status& st) {
    PaymentAnswer out;
    if (!st) {
      out.http_status = 503;
      out.code = "unavailable";
      out.message = "could not be stored; send it again";
      return answer(out);
    }
    out.outcome = record.outcome;
    out.message = record.outcome == "paid" ? "paid" : "the order could not take this payment: refund it";
    out.order = t.after;
    answer(out);
  });
}

}  // namespace harvest::commerce

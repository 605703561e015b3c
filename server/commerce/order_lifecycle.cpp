#include "commerce/order_lifecycle.h"

#include <array>

namespace harvest::commerce {
namespace {

constexpr std::array<OrderStatus, 7> kStatuses = {OrderStatus::reserved,  OrderStatus::paid,
                                                 OrderStatus::shipped,   OrderStatus::delivered,
                                                 OrderStatus::cancelled, OrderStatus::expired,
                                                 OrderStatus::refunded};

// Counts UTF-8 characters; false if the text has a control character (a line break in an
// address would break the courier's CSV and label).
bool text_fits(std::string_view s, size_t min_chars, size_t max_chars) {
  size_t chars = 0;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return false;
    if ((c & 0xC0) != 0x80) ++chars;
  }
  return chars >= min_chars && chars <= max_chars;
}

bool tracking_fits(std::string_view s) {
  if (s.size() < 4 || s.size() > 40) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-')) return false;
  return true;
}

Transition refuse(int status, const char* code, std::string message) {
  Transition t;
  t.http_status = status;
  t.code = code;
  t.message = std::move(message);
  return t;
}

Transition not_now(const Order& o, std::string_view what) {
  return refuse(409, "conflict", "the order is " + std::string(status_name(o.status)) + ": it cannot be " +
                                     std::string(what));
}

}  // namespace

const char* status_name(OrderStatus s) {
  switch (s) {
    case OrderStatus::reserved: return "reserved";
    case OrderStatus::paid: return "paid";
    case OrderStatus::shipped: return "shipped";
    case OrderStatus::delivered: return "delivered";
    case OrderStatus::cancelled: return "cancelled";
    case OrderStatus::expired: return "expired";
    case OrderStatus::refunded: return "refunded";
  }
  return "reserved";
}

std::optional<OrderStatus> status_from_name(std::string_view name) {
  for (OrderStatus s : kStatuses)
    if (name == status_name(s)) return s;
  return std::nullopt;
}

bool holds_stock(const Order& o) {
  switch (o.status) {
    case OrderStatus::cancelled:
    case OrderStatus::expired: return false;
    case OrderStatus::refunded: return o.shipped_at_ms != 0;  // shipped goods do not come back to the shelf
    default: return true;
  }
}

const char* change_name(OrderChange::Kind kind) {
  switch (kind) {
    case OrderChange::Kind::checkout: return "checkout";
    case OrderChange::Kind::paid: return "paid";
    case OrderChange::Kind::ship: return "ship";
    case OrderChange::Kind::deliver: return "deliver";
    case OrderChange::Kind::cancel: return "cancel";
    case OrderChange::Kind::expire: return "expire";
    case OrderChange::Kind::refund: return "refund";
  }
  return "?";
}

std::optional<std::string> contact_problem(const Contact& c) {
  if (!text_fits(c.name, 1, 40)) return "name: 1-40 characters";
  if (!text_fits(c.address, 4, 200)) return "address: 4-200 characters on one line";
  if (c.phone.empty()) return "phone: a mobile number is needed for the courier";
  return std::nullopt;
}

Transition apply_change(const Order& before, const OrderChange& change) {
  using Kind = OrderChange::Kind;
  const bool staff = change.actor == Actor::host;
  Transition t;
  t.ok = true;
  t.after = before;
  Order& o = t.after;
  o.updated_at_ms = change.now_ms;

  switch (change.kind) {
    case Kind::checkout: {
      if (change.actor != Actor::buyer) return refuse(403, "forbidden", "only the buyer checks out");
      if (before.status != OrderStatus::reserved) return not_now(before, "checked out");
      if (change.payment != "offline" && change.payment != "gateway")
        return refuse(400, "invalid", "payment: offline or gateway");
      if (auto problem = contact_problem(change.contact)) return refuse(400, "invalid", *problem);
      // Changing the address is fine; changing how to pay after choosing is not (an offline
      // choice has stopped the clock, and the farmer may already be waiting for a transfer).
      if (!before.payment.empty() && before.payment != change.payment)
        return refuse(409, "conflict", "the payment method was already chosen: " + before.payment);
      o.contact = change.contact;
      o.payment = change.payment;
      // Offline payment (cash on delivery, a transfer) is confirmed by the farmer, on the
      // farmer's time: the order no longer expires by itself; the host marks it paid or cancels.
      if (change.payment == "offline") o.pay_by_ms = 0;
      return t;
    }
    case Kind::paid: {
      if (change.actor == Actor::buyer) return refuse(403, "forbidden", "the seller or the payment service marks an order paid");
      if (before.status != OrderStatus::reserved) return not_now(before, "paid");
      if (change.actor == Actor::host && before.contact.empty())
        return refuse(409, "conflict", "the buyer has not checked out yet (no address)");
      o.status = OrderStatus::paid;
      o.paid_at_ms = change.now_ms;
      if (change.actor == Actor::gateway) {
        o.payment = "gateway";
        o.payment_id = change.payment_id;
      } else if (o.payment.empty()) {
        o.payment = "offline";
      }
      o.pay_by_ms = 0;
      return t;
    }
    case Kind::ship: {
      if (!staff) return refuse(403, "forbidden", "only the seller ships");
      if (before.status != OrderStatus::paid) return not_now(before, "shipped");
      if (!text_fits(change.carrier, 1, 40)) return refuse(400, "invalid", "carrier: 1-40 characters");
      if (!tracking_fits(change.tracking)) return refuse(400, "invalid", "tracking: 4-40 letters, digits or -");
      o.status = OrderStatus::shipped;
      o.carrier = change.carrier;
      o.tracking = change.tracking;
      o.shipped_at_ms = change.now_ms;
      return t;
    }
    case Kind::deliver: {
      if (!staff) return refuse(403, "forbidden", "only the seller marks an order delivered");
      if (before.status != OrderStatus::shipped) return not_now(before, "delivered");
      o.status = OrderStatus::delivered;
      o.delivered_at_ms = change.now_ms;
      return t;
    }
    case Kind::cancel: {
      if (change.actor != Actor::buyer && !staff) return refuse(403, "forbidden", "only the buyer or the seller cancels");
      if (before.status != OrderStatus::reserved)
        return not_now(before, before.status == OrderStatus::paid ? "cancelled (it is paid: refund it)" : "cancelled");
      if (!text_fits(change.reason, 0, 200)) return refuse(400, "invalid", "reason: at most 200 characters");
      o.status = OrderStatus::cancelled;
      o.reason = change.reason.empty() ? (staff ? "cancelled by the seller" : "cancelled by the buyer") : change.reason;
      o.pay_by_ms = 0;
      t.stock_returned = true;
      return t;
    }
    case Kind::expire: {
      if (change.actor != Actor::system) return refuse(403, "forbidden", "orders expire by themselves");
      if (before.status != OrderStatus::reserved || before.pay_by_ms == 0 || change.now_ms < before.pay_by_ms)
        return not_now(before, "expired");
      o.status = OrderStatus::expired;
      o.reason = "not paid in time";
      t.stock_returned = true;
      return t;
    }
    case Kind::refund: {
      if (!staff) return refuse(403, "forbidden", "only the seller refunds");
      if (before.status != OrderStatus::paid && before.status != OrderStatus::shipped &&
          before.status != OrderStatus::delivered)
        return not_now(before, before.status == OrderStatus::reserved ? "refunded (it is not paid: cancel it)" : "refunded");
      if (!text_fits(change.reason, 1, 200)) return refuse(400, "invalid", "reason: 1-200 characters");
      o.status = OrderStatus::refunded;
      o.reason = change.reason;
      t.stock_returned = before.status == OrderStatus::paid;
      return t;
    }
  }
  return refuse(400, "invalid", "unknown change");
}

}  // namespace harvest::commerce

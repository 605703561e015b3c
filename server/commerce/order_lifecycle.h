#pragma once
// The order state machine: which change may happen to an order in which state, by whom, and
// what the order looks like after it. A pure function of plain values; CommerceService makes
// each change durable before anyone hears of it, and gives back stock when a change says so.
//
//   reserved ──checkout──► reserved (contact, payment chosen; offline stops the clock)
//   reserved ──paid (host, or the gateway's notification)──► paid ──ship──► shipped ──deliver──► delivered
//   reserved ──cancel (buyer or host)──► cancelled            stock back
//   reserved ──expire (pay_by passed)──► expired              stock back
//   paid/shipped/delivered ──refund (host)──► refunded        stock back only if not shipped
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "commerce/types.h"

namespace harvest::commerce {

enum class Actor { buyer, host, system, gateway };

struct OrderChange {
  enum class Kind { checkout, paid, ship, deliver, cancel, expire, refund };
  Kind kind = Kind::cancel;
  Actor actor = Actor::host;
  int64_t now_ms = 0;
  Contact contact;          // checkout
  std::string payment;      // checkout: "offline" | "gateway"
  std::string payment_id;   // paid by the gateway
  std::string carrier;      // ship
  std::string tracking;     // ship
  std::string reason;       // cancel, refund
};

const char* change_name(OrderChange::Kind kind);

struct Transition {
  bool ok = false;
  Order after;                 // when ok
  bool stock_returned = false; // when ok: the order's units go back on sale
  // When refused: 400 (bad fields), 403 (not this actor's to do), 409 (not in this state).
  int http_status = 409;
  std::string code;     // "invalid", "forbidden", "conflict"
  std::string message;  // a sentence for the person
};

// Checks a contact for checkout; nullopt when it will do. The phone number's format only: a
// number check that sends a code is a separate, pluggable step (commerce/phone_check.h).
std::optional<std::string> contact_problem(const Contact& contact);

// Decides `change` on `before`. Never touches stock: `stock_returned` says what to give back.
Transition apply_change(const Order& before, const OrderChange& change);

}  // namespace harvest::commerce

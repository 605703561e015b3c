#pragma once
// Plain value types of the commerce engine. Money is an integer count of fen plus an ISO 4217
// code; times are server wall-clock milliseconds since the epoch. Nothing here knows of sockets,
// JSON frames or SQL.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace harvest::commerce {

using Fen = int64_t;

// Limits that keep every product of price and quantity far inside int64 (1e10 * 1e4 < 2^63).
inline constexpr Fen kMaxPriceFen = 10'000'000'000;  // 100 million yuan
inline constexpr int64_t kMaxQtyPerOrder = 99;
inline constexpr int64_t kMaxStock = 100'000'000;
inline constexpr int64_t kMaxSaleDurationS = 24 * 3600;

// Where a product comes from (issue 18, "field to table"): shown as a short line on the card,
// in full on the product sheet and on the public /trace/{trace_code} page. Every field is
// optional; an empty Origin means the farmer has not said. Rules: origin_validation.h.
struct Place {
  std::string county;    // 隰县
  std::string township;  // 黄土镇
  std::string village;   // 上庄村
  bool empty() const { return county.empty() && township.empty() && village.empty(); }
};

struct Origin {
  std::string farm;                       // farm or cooperative
  Place place;
  std::string harvest_date;               // YYYY-MM-DD, a real calendar date, not in the future
  std::string method;                     // growing method, e.g. "有机种植"
  std::vector<std::string> certificates;  // e.g. "绿色食品", "地理标志"
  std::string trace_code;                 // from a provincial traceability platform, or ""
  bool empty() const {
    return farm.empty() && place.empty() && harvest_date.empty() && method.empty() && certificates.empty() &&
           trace_code.empty();
  }
};

struct Product {
  std::string id;  // 1-64 chars [A-Za-z0-9_-]
  std::string title;
  Fen price = 0;
  std::string currency = "CNY";
  std::string image;  // URL path, e.g. /samples/images/pear.png
  int64_t stock = 0;  // units left to sell now (after reservations)
  int64_t sold = 0;   // units in accepted orders (pending or durable)
  Origin origin;
};

// A flash sale: `quantity` units of one product at `price` until `ends_at_ms`, at most
// `per_buyer_limit` units per viewer. It ends at zero, when sold out, or when stopped.
struct FlashSale {
  std::string id;
  std::string product_id;
  Fen price = 0;
  int64_t quantity = 0;
  int64_t per_buyer_limit = 1;
  int64_t started_at_ms = 0;
  int64_t ends_at_ms = 0;
  int64_t sold = 0;
  bool ended = false;
  int64_t ended_at_ms = 0;
  std::string end_reason;  // "time", "sold_out", "stopped", "removed"
};

// Where an order is in its life (docs/orders.md). reserved holds stock until pay_by; paid,
// shipped and delivered keep it sold; cancelled and expired give it back; refunded gives it
// back only when the goods had not been shipped.
enum class OrderStatus { reserved, paid, shipped, delivered, cancelled, expired, refunded };
const char* status_name(OrderStatus s);
std::optional<OrderStatus> status_from_name(std::string_view name);

// Where the farmer ships to. Shown only to the stream's hosts, the admin and the buyer.
struct Contact {
  std::string name;
  std::string phone;
  std::string address;
  bool empty() const { return name.empty() && phone.empty() && address.empty(); }
};

struct Order {
  int64_t id = 0;
  std::string stream_id;
  std::string viewer_id;
  std::string idempotency_key;
  std::string product_id;
  int64_t qty = 0;
  Fen unit_price = 0;
  Fen total = 0;
  std::string currency = "CNY";
  std::optional<double> media_time;  // viewer's playback position (s), when the client sent it
  std::string card_product_id;       // the card on screen when the order was accepted ("" none)
  std::string media_card_product_id;  // the card on screen at media_time ("" unknown)
  std::string sale_id;                // "" when bought at the list price
  int64_t server_time_ms = 0;
  std::string replay_session;         // "" live; else the replay session the buyer watched
  int64_t media_exposure_id = 0;      // the card exposure at media_time (0 none/unknown)

  // --- its life after the buy (order_lifecycle.h) ---
  OrderStatus status = OrderStatus::reserved;
  int64_t pay_by_ms = 0;     // a reserved order expires then; 0: no automatic expiry
  std::string payment;       // "" until checkout, then "offline" or "gateway"
  Contact contact;
  std::string carrier;       // shipped
  std::string tracking;
  std::string reason;        // why it was cancelled or refunded
  std::string payment_id;    // the gateway's id of the payment that paid it
  std::string flag;          // e.g. "refund_due": money arrived that the order could not take
  int64_t updated_at_ms = 0;
  int64_t paid_at_ms = 0;
  int64_t shipped_at_ms = 0;
  int64_t delivered_at_ms = 0;
};

// A payment service's notification as it was handled, kept so that a repeated notification
// (same payment_id) gets the same answer and pays nothing twice.
struct PaymentRecord {
  std::string payment_id;
  int64_t order_id = 0;
  Fen amount = 0;
  std::string currency;
  std::string outcome;  // "paid", or "refund_due": the order could not take the money
  int64_t at_ms = 0;
};

// Whether an order keeps its units out of stock (see OrderStatus).
bool holds_stock(const Order& o);

enum class Rejection { sold_out, limit_reached, sale_ended, invalid, rate_limited, unavailable };
const char* rejection_name(Rejection r);
// The inverse of rejection_name(); nullopt for an unknown name.
std::optional<Rejection> rejection_from_name(std::string_view name);
// Whether a rejection is the key's final answer (a repeated key gets it again, also after a
// restart). rate_limited and unavailable are not: they say "try again".
constexpr bool is_final(Rejection r) { return r != Rejection::rate_limited && r != Rejection::unavailable; }

// The idempotency record of a rejected buy: its first answer, stored so that a retry with the
// same key after a restart gets the same answer (and can never become a second decision).
struct RejectedBuy {
  std::string stream_id;
  std::string viewer_id;
  std::string idempotency_key;
  Rejection reason = Rejection::invalid;
  int64_t at_ms = 0;
};

}  // namespace harvest::commerce

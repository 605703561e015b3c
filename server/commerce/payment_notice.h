#pragma once
// A payment service's notification (POST /api/payments/notify): the raw JSON body
//   {"order_id": 12, "payment_id": "wx-4200001", "amount": 3990, "currency": "CNY", "status": "paid"}
// signed with X-Signature: hex(HMAC-SHA256(secret, raw body)). Pure functions: the signature
// check and the parse never touch the shop; CommerceService::take_payment decides.
// docs/orders.md says how WeChat Pay and Alipay notifications map onto this shape.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "commerce/types.h"

namespace harvest::commerce {

struct PaymentNotice {
  int64_t order_id = 0;
  std::string payment_id;  // the service's id of the payment: 1-64 printable ASCII
  Fen amount = 0;          // fen
  std::string currency;    // ISO 4217
  std::string status;      // "paid" moves money; anything else ("failed", "closed") is noted only
};

struct NoticeParse {
  std::optional<PaymentNotice> notice;
  std::string error;  // when notice is empty: what is wrong, for the 400 answer
};

NoticeParse parse_payment_notice(std::string_view raw_body);

// Whether `signature_hex` is hex(HMAC-SHA256(secret, raw_body)) (either case), compared in
// constant time. An empty secret matches nothing.
bool signature_matches(std::string_view secret, std::string_view raw_body, std::string_view signature_hex);

}  // namespace harvest::commerce

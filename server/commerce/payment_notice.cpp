#include "commerce/payment_notice.h"

#include <nlohmann/json.hpp>

#include "core/tokens.h"

namespace harvest::commerce {

using nlohmann::json;

namespace {

bool printable_id(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

NoticeParse fail(std::string error) { return {std::nullopt, std::move(error)}; }

}  // namespace

NoticeParse parse_payment_notice(std::string_view raw_body) {
  const json j = json::parse(raw_body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return fail("the body is not a JSON object");
  PaymentNotice n;
  auto order = j.find("order_id");
  if (order == j.end() || !order->is_number_integer() || order->get<int64_t>() <= 0)
    return fail("order_id: a positive integer");
  n.order_id = order->get<int64_t>();
  auto id = j.find("payment_id");
  if (id == j.end() || !id->is_string() || !printable_id(id->get<std::string>()))
    return fail("payment_id: 1-64 printable characters");
  n.payment_id = id->get<std::string>();
  auto amount = j.find("amount");
  if (amount == j.end() || !amount->is_number_integer() || amount->get<int64_t>() < 0 ||
      amount->get<int64_t>() > kMaxPriceFen * kMaxQtyPerOrder)
    return fail("amount: an integer number of fen");
  n.amount = amount->get<int64_t>();
  auto currency = j.find("currency");
  if (currency == j.end() || !currency->is_string() || currency->get<std::string>().size() != 3)
    return fail("currency: a 3-letter code");
  n.currency = currency->get<std::string>();
  auto status = j.find("status");
  if (status == j.end() || !status->is_string() || status->get<std::string>().empty() ||
      status->get<std::string>().size() > 32)
    return fail("status: e.g. \"paid\"");
  n.status = status->get<std::string>();
  return {std::move(n), {}};
}

bool signature_matches(std::string_view secret, std::string_view raw_body, std::string_view signature_hex) {
  if (secret.empty() || signature_hex.size() != 64) return false;
  std::string lower(signature_hex);
  for (char& c : lower)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  return tokens::constant_time_equal(tokens::hmac_sha256_hex(secret, raw_body), lower);
}

}  // namespace harvest::commerce

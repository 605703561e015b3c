// libFuzzer target: the Protocol v1 parser must never crash, hang or leak on any frame, and its
// fast path must answer exactly as the reference (nlohmann) parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "realtime/protocol.h"

namespace {

bool same(const harvest::realtime::ParseResult& a, const harvest::realtime::ParseResult& b) {
  if (a.message.has_value() != b.message.has_value()) return false;
  if (!a.message) {
    return a.error.code == b.error.code && a.error.message == b.error.message && a.error.id_json == b.error.id_json &&
           a.error.type == b.error.type;
  }
  const auto& x = *a.message;
  const auto& y = *b.message;
  return x.type == y.type && x.id_json == y.id_json && x.product_id == y.product_id && x.slot == y.slot &&
         x.price == y.price && x.stock == y.stock && x.title == y.title && x.quantity == y.quantity &&
         x.per_buyer_limit == y.per_buyer_limit && x.duration_s == y.duration_s && x.sale_id == y.sale_id &&
         x.qty == y.qty && x.idempotency_key == y.idempotency_key && x.media_time == y.media_time && x.text == y.text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = harvest::realtime::parse_client_message(text);
  if (r.message) (void)harvest::realtime::client_type_name(r.message->type);
  if (!same(r, harvest::realtime::parse_client_message_json(text))) std::abort();
  return 0;
}

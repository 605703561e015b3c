// Payment notifications: the parse never crashes, whatever it accepts is within the checked
// bounds, and no input signs itself (a signature check without the secret never passes). The
// buyer-token check gets the same bytes: no forged token is accepted.
#include <cstddef>
#include <cstdint>
#include <string>

#include "commerce/payment_notice.h"
#include "core/tokens.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto parsed = harvest::commerce::parse_payment_notice(text);
  if (parsed.notice) {
    const auto& n = *parsed.notice;
    if (n.order_id <= 0 || n.amount < 0 || n.payment_id.empty() || n.payment_id.size() > 64 || n.currency.size() != 3)
      __builtin_trap();
  } else if (parsed.error.empty()) {
    __builtin_trap();
  }
  const std::string secret = "fuzz-payment-secret-0123456789";
  // The input as both body and signature: it cannot be its own MAC.
  if (harvest::commerce::signature_matches(secret, text, text)) __builtin_trap();
  if (harvest::commerce::signature_matches("", text, text)) __builtin_trap();
  if (harvest::tokens::verify_buyer_token(secret, text)) __builtin_trap();
  return 0;
}

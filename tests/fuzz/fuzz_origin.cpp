// Catalog products with origin records (api::parse_catalog → commerce::origin_from_json →
// validate_origin): the parse never crashes, and whatever it accepts is within the rules — a
// real past harvest date, a trace code safe in a URL, bounded text — and survives the store's
// JSON round trip unchanged.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "api/products.h"
#include "commerce/origin_json.h"
#include "commerce/origin_validation.h"
#include "core/text.h"

namespace {
const std::chrono::sys_days kToday{std::chrono::year{2026} / 12 / 5};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace harvest;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<commerce::Product> products;
  const std::string err = api::parse_catalog(text, products, nullptr, kToday);
  if (!err.empty()) return 0;  // refused with a sentence: nothing to check in `products`
  for (const auto& p : products) {
    const commerce::Origin& o = p.origin;
    if (!commerce::validate_origin(o, kToday).empty()) __builtin_trap();
    if (!o.harvest_date.empty()) {
      const auto day = commerce::parse_calendar_date(o.harvest_date);
      if (!day || *day > kToday + std::chrono::days{1}) __builtin_trap();
    }
    if (!o.trace_code.empty() && !commerce::is_trace_code(o.trace_code)) __builtin_trap();
    if (o.farm.size() > commerce::kMaxFarmBytes || !text::is_display_text(o.farm)) __builtin_trap();
    if (o.certificates.size() > commerce::kMaxCertificates) __builtin_trap();
    // The store keeps it as origin_json text; reading that back gives the same record.
    commerce::Origin back;
    const auto stored = commerce::origin_json(o).dump();
    if (!commerce::origin_from_json(nlohmann::json::parse(stored), back).empty()) __builtin_trap();
    if (commerce::origin_json(back) != commerce::origin_json(o)) __builtin_trap();
  }
  return 0;
}

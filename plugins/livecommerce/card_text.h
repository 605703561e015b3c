#pragma once
// The words and numbers printed on a card. Pure functions so the formatting rules
// (fen to yuan, countdown rounding) are tested without drawing anything.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace harvest::livecommerce {

// 3990 fen, "CNY" -> "¥39.90". Known symbols for CNY/USD/EUR/GBP/JPY; other
// codes print as "HKD 39.90". JPY has no minor unit in ISO 4217 but the scene
// still carries 1/100 units, so it is formatted the same way.
std::string format_price(std::int64_t minor_units, std::string_view currency);

// Whole seconds left until `ends_at_ns`, rounded up so the display reaches
// 00:00 exactly when the sale ends; never negative.
std::int64_t seconds_left(std::uint64_t running_time_ns, std::uint64_t ends_at_ns);

// 95 -> "01:35"; minutes are not wrapped into hours ("125:00").
std::string format_countdown(std::int64_t seconds);

// Seconds as a running time in nanoseconds (the scene carries seconds).
std::uint64_t seconds_to_ns(double seconds);

enum class Locale { kZhCN, kEn };
std::optional<Locale> locale_from_name(std::string_view name);
std::string_view locale_name(Locale locale);

// The small printed labels, e.g. stock_label(120) -> "剩 120 件" / "120 left".
struct CardLabels {
  Locale locale = Locale::kZhCN;
  std::string stock(std::int64_t left) const;
  std::string bought(std::int64_t count) const;
  std::string_view sold_out() const;
  std::string_view sale_ends_in() const;
  // The card's origin line: "隰县 · 采摘于 9月12日" / "隰县 · picked 12 Sep". The place
  // is printed as typed; either part may be missing ("" when both are). harvest_date
  // is "YYYY-MM-DD" (anything else prints no date).
  std::string origin(std::string_view place, std::string_view harvest_date) const;
};

}  // namespace harvest::livecommerce

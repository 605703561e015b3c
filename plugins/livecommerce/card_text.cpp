#include "card_text.h"

#include <cmath>
#include <cstdio>

namespace harvest::livecommerce {

std::string format_price(std::int64_t minor_units, std::string_view currency) {
  const bool negative = minor_units < 0;
  // Work in unsigned so INT64_MIN cannot overflow on negation.
  const std::uint64_t magnitude =
      negative ? 0 - static_cast<std::uint64_t>(minor_units) : static_cast<std::uint64_t>(minor_units);
  std::string symbol;
  if (currency == "CNY")
    symbol = "¥";
  else if (currency == "JPY")
    symbol = "¥";
  else if (currency == "USD")
    symbol = "$";
  else if (currency == "EUR")
    symbol = "€";
  else if (currency == "GBP")
    symbol = "£";
  else
    symbol = std::string(currency) + " ";
  char digits[48];
  std::snprintf(digits, sizeof digits, "%llu.%02llu", static_cast<unsigned long long>(magnitude / 100),
                static_cast<unsigned long long>(magnitude % 100));
  return (negative ? "-" : "") + symbol + digits;
}

std::int64_t seconds_left(std::uint64_t running_time_ns, std::uint64_t ends_at_ns) {
  if (running_time_ns >= ends_at_ns) return 0;
  constexpr std::uint64_t kSecond = 1'000'000'000;
  return static_cast<std::int64_t>((ends_at_ns - running_time_ns + kSecond - 1) / kSecond);
}

std::string format_countdown(std::int64_t seconds) {
  if (seconds < 0) seconds = 0;
  char text[32];
  std::snprintf(text, sizeof text, "%02lld:%02lld", static_cast<long long>(seconds / 60),
                static_cast<long long>(seconds % 60));
  return text;
}

std::uint64_t seconds_to_ns(double seconds) {
  if (!(seconds > 0)) return 0;
  return static_cast<std::uint64_t>(std::llround(seconds * 1e9));
}

std::optional<Locale> locale_from_name(std::string_view name) {
  if (name == "zh-CN" || name == "zh") return Locale::kZhCN;
  if (name == "en") return Locale::kEn;
  return std::nullopt;
}

std::string_view locale_name(Locale locale) { return locale == Locale::kEn ? "en" : "zh-CN"; }

std::string CardLabels::stock(std::int64_t left) const {
  const auto n = std::to_string(left);
  return locale == Locale::kEn ? n + " left" : "剩 " + n + " 件";
}

std::string CardLabels::bought(std::int64_t count) const {
  const auto n = std::to_string(count);
  return locale == Locale::kEn ? n + " bought" : n + " 人已买";
}

std::string_view CardLabels::sold_out() const { return locale == Locale::kEn ? "SOLD OUT" : "已售罄"; }

std::string CardLabels::origin(std::string_view place, std::string_view harvest_date) const {
  std::string date;
  int month = 0, day = 0;
  if (harvest_date.size() == 10 &&
      std::sscanf(std::string(harvest_date.substr(5)).c_str(), "%2d-%2d", &month, &day) == 2 && month >= 1 &&
      month <= 12 && day >= 1 && day <= 31) {
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    date = locale == Locale::kEn ? "picked " + std::to_string(day) + " " + kMonths[month - 1]
                                 : "采摘于 " + std::to_string(month) + "月" + std::to_string(day) + "日";
  }
  if (place.empty()) return date;
  if (date.empty()) return std::string(place);
  return std::string(place) + " · " + date;
}

std::string_view CardLabels::sale_ends_in() const { return locale == Locale::kEn ? "Ends in" : "限时"; }

}  // namespace harvest::livecommerce

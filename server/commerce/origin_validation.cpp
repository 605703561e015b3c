#include "commerce/origin_validation.h"

#include <algorithm>

#include "core/text.h"

namespace harvest::commerce {
namespace {

using namespace std::chrono;

// Optional display text: "" or valid UTF-8 without control characters, at most `max_bytes`.
bool is_origin_text(std::string_view s, size_t max_bytes) {
  return s.empty() || (s.size() <= max_bytes && text::is_display_text(s));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int digits(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

std::string text_rule(const std::string& field, size_t max_bytes) {
  return "origin '" + field + "' must be text of at most " + std::to_string(max_bytes) +
         " bytes without control characters or bidi overrides";
}

}  // namespace

sys_days china_today(system_clock::time_point now) { return floor<days>(now + hours(8)); }

std::optional<sys_days> parse_calendar_date(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  for (size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
    if (!is_digit(t[i])) return std::nullopt;
  const year_month_day ymd{year{digits(t.substr(0, 4))}, month{static_cast<unsigned>(digits(t.substr(5, 2)))},
                           day{static_cast<unsigned>(digits(t.substr(8, 2)))}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd};
}

bool is_trace_code(std::string_view code) {
  if (code.size() < kMinTraceCodeChars || code.size() > kMaxTraceCodeChars) return false;
  return std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '_';
  });
}

std::string validate_origin(const Origin& o, sys_days today) {
  if (!is_origin_text(o.farm, kMaxFarmBytes)) return text_rule("farm", kMaxFarmBytes);
  if (!is_origin_text(o.place.county, kMaxPlacePartBytes))
    return text_rule("place.county", kMaxPlacePartBytes);
  if (!is_origin_text(o.place.township, kMaxPlacePartBytes))
    return text_rule("place.township", kMaxPlacePartBytes);
  if (!is_origin_text(o.place.village, kMaxPlacePartBytes))
    return text_rule("place.village", kMaxPlacePartBytes);
  if (!is_origin_text(o.method, kMaxMethodBytes)) return text_rule("method", kMaxMethodBytes);
  if (!o.harvest_date.empty()) {
    const auto date = parse_calendar_date(o.harvest_date);
    if (!date)
      return "origin 'harvest_date' must be a real calendar date written YYYY-MM-DD, e.g. 2026-09-12";
    if (year_month_day{*date}.year() < year{kEarliestHarvestYear})
      return "origin 'harvest_date' must not be before " + std::to_string(kEarliestHarvestYear);
    if (*date > today + days{1}) return "origin 'harvest_date' must not be in the future";
  }
  if (o.certificates.size() > kMaxCertificates)
    return "origin 'certificates' may list at most " + std::to_string(kMaxCertificates) + " certificates";
  for (const auto& c : o.certificates)
    if (c.empty() || !is_origin_text(c, kMaxCertificateBytes))
      return "each of origin 'certificates' must be 1-" + std::to_string(kMaxCertificateBytes) +
             " bytes of text without control characters or bidi overrides";
  if (!o.trace_code.empty() && !is_trace_code(o.trace_code))
    return "origin 'trace_code' must be " + std::to_string(kMinTraceCodeChars) + "-" +
           std::to_string(kMaxTraceCodeChars) + " characters [A-Za-z0-9_-]";
  return {};
}

}  // namespace harvest::commerce

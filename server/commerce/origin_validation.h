#pragma once
// What a product's origin record (commerce::Origin, issue 18 "field to table") may hold. Pure:
// the caller has taken the fields out of its JSON (origin_json.h) and says what day it is.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "commerce/types.h"

namespace harvest::commerce {

// Byte bounds (UTF-8: a Chinese character is 3 bytes), so a card line and the sheet stay short
// and a record cannot carry a novel. 60 bytes is 20 Chinese characters.
inline constexpr size_t kMaxFarmBytes = 120;
inline constexpr size_t kMaxPlacePartBytes = 60;
inline constexpr size_t kMaxMethodBytes = 60;
inline constexpr size_t kMaxCertificates = 8;
inline constexpr size_t kMaxCertificateBytes = 60;
inline constexpr size_t kMinTraceCodeChars = 4;
inline constexpr size_t kMaxTraceCodeChars = 64;
// The earliest harvest date taken: anything before is a typo (a year "0926"), not a crop.
inline constexpr int kEarliestHarvestYear = 1900;

// China has one time zone, UTC+8 all year: the farmer's "today".
std::chrono::sys_days china_today(std::chrono::system_clock::time_point now);

// "YYYY-MM-DD" as a calendar day; nullopt unless it is exactly that shape and a real date
// (no 2026-02-30, no month 13).
std::optional<std::chrono::sys_days> parse_calendar_date(std::string_view text);

// A trace code of a provincial traceability platform: 4-64 characters [A-Za-z0-9_-], so it is
// safe as it is in a URL path (/trace/{code}) and in a CSV cell.
bool is_trace_code(std::string_view code);

// Checks every field of `origin` (all optional: "" and no certificates pass). `today` is the
// day in China (china_today); a harvest date may be at most one day after it, the slack for a
// device clock a little ahead. Empty when it may be stored, else a sentence naming the field,
// for a 400 answer.
std::string validate_origin(const Origin& origin, std::chrono::sys_days today);

}  // namespace harvest::commerce

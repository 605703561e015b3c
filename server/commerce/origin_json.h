#pragma once
// An origin record (commerce::Origin) as JSON, both ways: the `origin` of a product in the
// catalog API, the websocket catalog, the sample catalog, the store's origin column and the
// trace API. One shape everywhere:
//   {"farm", "place": {"county", "township", "village"}, "harvest_date": "YYYY-MM-DD",
//    "method", "certificates": [...], "trace_code"}
// Every key is optional; absent and "" mean the same.
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "commerce/types.h"

namespace harvest::commerce {

// The record with every key present (empty strings and [] for what the farmer did not say),
// so clients need no existence checks.
nlohmann::json origin_json(const Origin& origin);

// Reads `j` (an object, or null for "no origin") into `out`. Checks the JSON types only;
// what the values may be is validate_origin()'s rule. Returns "" or a sentence naming the
// field, for a 400 answer. Unknown keys are ignored, like elsewhere in the catalog.
std::string origin_from_json(const nlohmann::json& j, Origin& out);

// origin_from_json, then validate_origin (origin_validation.h) against `today` in China: what
// any catalog that takes an `origin` from a client calls. "" or the sentence for a 400; on an
// error `out` must not be stored.
std::string parse_origin(const nlohmann::json& j, std::chrono::sys_days today, Origin& out);

}  // namespace harvest::commerce

#pragma once
// The sales report of a stream (GET /api/streams/{id}/report): totals, per product, per card
// exposure (each showing of each product) and per wall-clock minute. A pure function of the
// durable orders, the exposure timeline and the viewer counts, so it is unit-tested alone.
// Money stays integer fen.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "show/exposure_timeline.h"
#include "commerce/types.h"

namespace harvest::commerce {

struct ReportInput {
  std::string stream_id;
  std::vector<Order> orders;            // durable orders, oldest first
  std::vector<show::CardExposure> exposures;  // the stream's exposures, oldest first
  std::vector<Product> catalog;                   // for titles
  int viewers = 0;
  int peak_viewers = 0;
  std::map<int64_t, int> peak_viewers_by_minute;  // minute start (ms) -> peak connections
};

nlohmann::json build_report(const ReportInput& in);

}  // namespace harvest::commerce

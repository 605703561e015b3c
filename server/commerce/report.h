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
  // Distinct buyer ids that opened the room since the server started (HostMonitor), and
  // whether that count hit its memory cap (then it is a lower bound).
  int64_t unique_viewers = 0;
  bool unique_viewers_capped = false;
};

nlohmann::json build_report(const ReportInput& in);

// An order that still stands: a cancelled, expired or refunded order sold nothing.
bool is_sale(const Order& o);

// Every buy comes through the room, so every buyer opened it: the unique viewers are at least
// the buyers. The tracked ids are kept in memory only, so after a restart the buyers of the
// orders before it may outnumber them; the larger of the two is then a lower bound.
int64_t unique_viewers_at_least_buyers(int64_t tracked, int64_t buyers);

// buyers / unique viewers; null when nobody opened the room.
nlohmann::json conversion(int64_t buyers, int64_t unique_viewers);

}  // namespace harvest::commerce

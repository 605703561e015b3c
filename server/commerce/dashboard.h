#pragma once
// The farmer's own dashboard (GET /api/me/dashboard): each of their shows with its sales,
// buyers, unique viewers and conversion; each product across the shows; and totals. A pure
// function of the shows' orders and the room counts, unit-tested alone. Money is integer fen.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commerce/types.h"

namespace harvest::commerce {

struct DashboardShow {
  std::string id;
  std::string title;
  std::string farmer;
  std::string phase;               // api::show_phase
  int64_t created_at_ms = 0;
  int64_t scheduled_at_ms = 0;     // 0: none
  int64_t live_since_ms = 0;       // 0: not live
  int64_t ended_at_ms = 0;         // 0: not ended
  int peak_viewers = 0;
  int64_t unique_viewers = 0;      // tracked in memory (HostMonitor::unique_viewers)
  bool unique_viewers_capped = false;
  std::vector<Product> catalog;    // for product titles
  std::vector<Order> orders;       // every durable order of the show (read on the reader thread)
};

// {shows: [...], products: [...], totals: {...}}; shows live first, then upcoming, then the
// rest, newest first.
nlohmann::json build_dashboard(const std::vector<DashboardShow>& shows);

}  // namespace harvest::commerce

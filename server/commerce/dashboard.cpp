#include "commerce/dashboard.h"

#include <algorithm>
#include <map>
#include <set>

#include "commerce/report.h"

namespace harvest::commerce {
namespace {

using nlohmann::json;

json ms_or_null(int64_t ms) { return ms != 0 ? json(ms) : json(nullptr); }

int phase_rank(const std::string& phase) { return phase == "live" ? 0 : phase == "upcoming" ? 1 : 2; }

// The moment that places a show in time: when it went live, was announced for, or was made.
int64_t when(const DashboardShow& s) {
  if (s.live_since_ms != 0) return s.live_since_ms;
  if (s.scheduled_at_ms != 0) return s.scheduled_at_ms;
  return s.created_at_ms;
}

struct ProductSales {
  int64_t gmv = 0, orders = 0, units = 0;
  std::set<std::string> buyers;
  std::set<std::string> shows;
};

}  // namespace

json build_dashboard(const std::vector<DashboardShow>& shows) {
  std::vector<const DashboardShow*> order;
  for (const auto& s : shows) order.push_back(&s);
  std::stable_sort(order.begin(), order.end(), [](const DashboardShow* a, const DashboardShow* b) {
    const int ra = phase_rank(a->phase), rb = phase_rank(b->phase);
    if (ra != rb) return ra < rb;
    return when(*a) > when(*b);
  });

  json list = json::array();
  std::map<std::string, ProductSales> products;
  std::map<std::string, std::string> titles;
  int64_t gmv = 0, orders = 0, units = 0, buyers = 0, unique_viewers = 0;
  int peak = 0;
  for (const DashboardShow* s : order) {
    int64_t show_gmv = 0, show_orders = 0, show_units = 0;
    std::set<std::string> show_buyers;
    for (const Order& o : s->orders) {
      if (!is_sale(o)) continue;
      show_gmv += o.total;
      ++show_orders;
      show_units += o.qty;
      show_buyers.insert(o.viewer_id);
      ProductSales& p = products[o.product_id];
      p.gmv += o.total;
      ++p.orders;
      p.units += o.qty;
      p.buyers.insert(o.viewer_id);
      p.shows.insert(s->id);
    }
    // A product's title from the newest show that lists it (shows go newest first here).
    for (const Product& p : s->catalog) titles.emplace(p.id, p.title);
    const int64_t show_buyer_count = static_cast<int64_t>(show_buyers.size());
    const int64_t viewers = unique_viewers_at_least_buyers(s->unique_viewers, show_buyer_count);
    list.push_back({{"id", s->id},
                    {"title", s->title},
                    {"farmer", s->farmer},
                    {"phase", s->phase},
                    {"scheduled_at", ms_or_null(s->scheduled_at_ms)},
                    {"live_since", ms_or_null(s->live_since_ms)},
                    {"ended_at", ms_or_null(s->ended_at_ms)},
                    {"created_at", s->created_at_ms},
                    {"gmv", show_gmv},
                    {"orders", show_orders},
                    {"units", show_units},
                    {"buyers", show_buyer_count},
                    {"unique_viewers", viewers},
                    {"unique_viewers_capped", s->unique_viewers_capped},
                    {"conversion", conversion(show_buyer_count, viewers)},
                    {"peak_viewers", s->peak_viewers}});
    gmv += show_gmv;
    orders += show_orders;
    units += show_units;
    buyers += show_buyer_count;
    unique_viewers += viewers;
    peak = std::max(peak, s->peak_viewers);
  }

  json product_list = json::array();
  for (const auto& [id, p] : products) {
    auto title = titles.find(id);
    product_list.push_back({{"product_id", id},
                            {"title", title == titles.end() ? json(nullptr) : json(title->second)},
                            {"gmv", p.gmv},
                            {"orders", p.orders},
                            {"units", p.units},
                            {"buyers", p.buyers.size()},
                            {"shows", p.shows.size()}});
  }
  std::stable_sort(product_list.begin(), product_list.end(),
                   [](const json& a, const json& b) { return a["gmv"].get<int64_t>() > b["gmv"].get<int64_t>(); });

  // Totals add the shows up: a buyer of two shows is two show-buyers, and so is a viewer, so
  // the conversion is of show visits (the sum of buyers over the sum of unique viewers).
  return {{"currency", "CNY"},
          {"shows", list},
          {"products", product_list},
          {"totals",
           {{"shows", list.size()},
            {"gmv", gmv},
            {"orders", orders},
            {"units", units},
            {"buyers", buyers},
            {"unique_viewers", unique_viewers},
            {"conversion", conversion(buyers, unique_viewers)},
            {"peak_viewers", peak}}}};
}

}  // namespace harvest::commerce

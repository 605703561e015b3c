// The farmer's dashboard (commerce/dashboard.h): per show, per product across shows, totals.
#include <catch2/catch.hpp>

#include "commerce/dashboard.h"

using namespace harvest;
using namespace harvest::commerce;
using nlohmann::json;

namespace {

Order order(const std::string& buyer, const std::string& product, int64_t qty, Fen unit,
            OrderStatus status = OrderStatus::paid) {
  Order o;
  o.viewer_id = buyer;
  o.product_id = product;
  o.qty = qty;
  o.unit_price = unit;
  o.total = qty * unit;
  o.status = status;
  return o;
}

Product product(const std::string& id, const std::string& title) {
  Product p;
  p.id = id;
  p.title = title;
  return p;
}

}  // namespace

TEST_CASE("dashboard: shows, products across shows and totals") {
  DashboardShow old_show;
  old_show.id = "old";
  old_show.title = "Pears in May";
  old_show.phase = "ended";
  old_show.created_at_ms = 1'000;
  old_show.peak_viewers = 40;
  old_show.unique_viewers = 10;
  old_show.catalog = {product("pear", "Old pear title")};
  old_show.orders = {order("b1", "pear", 2, 3990), order("b2", "pear", 1, 3990),
                     order("b1", "pear", 1, 3990, OrderStatus::cancelled)};  // a cancelled one sold nothing

  DashboardShow live;
  live.id = "live";
  live.title = "Crabs tonight";
  live.phase = "live";
  live.created_at_ms = 500;
  live.live_since_ms = 2'000;
  live.peak_viewers = 12;
  live.unique_viewers = 4;
  live.catalog = {product("pear", "Pear"), product("crab", "Crab")};
  live.orders = {order("b1", "crab", 1, 8800), order("b3", "pear", 1, 4200), order("b3", "crab", 3, 8800),
                 order("b4", "crab", 1, 8800, OrderStatus::expired)};

  DashboardShow empty;
  empty.id = "soon";
  empty.title = "Next week";
  empty.phase = "upcoming";
  empty.scheduled_at_ms = 9'000;

  const json d = build_dashboard({old_show, empty, live});
  REQUIRE(d["shows"].size() == 3);
  CHECK(d["shows"][0]["id"] == "live");  // live first, then upcoming, then the rest
  CHECK(d["shows"][1]["id"] == "soon");
  CHECK(d["shows"][2]["id"] == "old");

  const json& l = d["shows"][0];
  CHECK(l["gmv"] == 8800 + 4200 + 3 * 8800);
  CHECK(l["orders"] == 3);
  CHECK(l["units"] == 5);
  CHECK(l["buyers"] == 2);
  CHECK(l["unique_viewers"] == 4);
  CHECK(l["conversion"].get<double>() == Approx(0.5));
  CHECK(l["live_since"] == 2'000);
  CHECK(l["scheduled_at"].is_null());
  CHECK(l["peak_viewers"] == 12);

  const json& soon = d["shows"][1];
  CHECK(soon["gmv"] == 0);
  CHECK(soon["conversion"].is_null());  // nobody came yet: no conversion, not 0 %
  CHECK(soon["scheduled_at"] == 9'000);

  const json& o = d["shows"][2];
  CHECK(o["gmv"] == 3 * 3990);
  CHECK(o["buyers"] == 2);
  CHECK(o["conversion"].get<double>() == Approx(0.2));

  REQUIRE(d["products"].size() == 2);
  const json& crab = d["products"][0];  // most GMV first
  CHECK(crab["product_id"] == "crab");
  CHECK(crab["title"] == "Crab");
  CHECK(crab["gmv"] == 4 * 8800);
  CHECK(crab["orders"] == 2);
  CHECK(crab["units"] == 4);
  CHECK(crab["buyers"] == 2);
  CHECK(crab["shows"] == 1);
  const json& pear = d["products"][1];
  CHECK(pear["title"] == "Pear");  // the newest show's title
  CHECK(pear["gmv"] == 3 * 3990 + 4200);
  CHECK(pear["shows"] == 2);
  CHECK(pear["buyers"] == 3);

  const json& t = d["totals"];
  CHECK(t["shows"] == 3);
  CHECK(t["gmv"] == 3 * 3990 + 8800 + 4200 + 3 * 8800);
  CHECK(t["orders"] == 5);
  CHECK(t["buyers"] == 4);           // show-buyers: b1 bought in both shows
  CHECK(t["unique_viewers"] == 14);
  CHECK(t["conversion"].get<double>() == Approx(4.0 / 14.0));
  CHECK(t["peak_viewers"] == 40);
}

TEST_CASE("dashboard: no shows, and buyers outnumbering the tracked viewers after a restart") {
  const json none = build_dashboard({});
  CHECK(none["shows"].empty());
  CHECK(none["totals"]["gmv"] == 0);
  CHECK(none["totals"]["conversion"].is_null());

  DashboardShow s;
  s.id = "x";
  s.phase = "offline";
  s.unique_viewers = 0;  // the server restarted since the buys
  s.orders = {order("b1", "pear", 1, 100), order("b2", "pear", 1, 100)};
  const json d = build_dashboard({s});
  CHECK(d["shows"][0]["unique_viewers"] == 2);
  CHECK(d["shows"][0]["conversion"].get<double>() == Approx(1.0));
  CHECK(d["products"][0]["title"].is_null());  // in no catalog any more
}

// ExposureTimeline (open/close/update, sessions, card_at edges), the report aggregation, and the
// card_exposures table of the SQLite store.
#include <catch2/catch.hpp>

#include <filesystem>

#include "show/exposure_timeline.h"
#include "commerce/report.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"
#include "store_reads.h"

using namespace harvest;
using show::CardExposure;
using show::ExposureTimeline;

TEST_CASE("exposures: open and close and card_at edges") {
  ExposureTimeline tl;
  std::vector<CardExposure> changes;
  tl.set_on_change([&](const CardExposure& e) { changes.push_back(e); });
  CHECK(tl.card_at("s", 1.0).empty());
  tl.card_shown("s", "live-1", "pear", 1, 10.0, 1'000'000);
  CHECK(changes.size() == 1);
  CHECK(changes.back().id == 1);
  CHECK(tl.card_at("s", 9.999).empty());
  CHECK(tl.card_at("s", 10.0) == "pear");  // inclusive start
  CHECK(tl.card_at("s", 1e6) == "pear");   // open: until hidden
  // Showing it again (an update) keeps the first exposure.
  tl.card_shown("s", "live-1", "pear", 2, 12.0, 1'002'000);
  CHECK(tl.exposures("s").size() == 1);
  CHECK(changes.size() == 1);
  tl.card_hidden("s", "live-1", "pear", 20.0, 1'010'000);
  CHECK(changes.size() == 2);
  CHECK(changes.back().hidden_pts == 20.0);
  CHECK(tl.card_at("s", 19.999) == "pear");
  CHECK(tl.card_at("s", 20.0).empty());  // exclusive end
  CHECK(tl.exposure_at("s", "", 15.0) == 1);
  CHECK(tl.exposure_at("s", "", 25.0) == 0);
  // Hiding what is not shown changes nothing.
  tl.card_hidden("s", "live-1", "crab", 21.0, 1'011'000);
  CHECK(changes.size() == 2);
  // Other streams are separate.
  CHECK(tl.card_at("other", 15.0).empty());
  CHECK(tl.exposures("other").empty());
}

TEST_CASE("exposures: overlapping cards (newest wins) and sessions and replays") {
  ExposureTimeline tl;
  tl.card_shown("s", "a", "pear", 1, 0.0, 0);
  tl.card_shown("s", "a", "crab", 2, 5.0, 5000);
  CHECK(tl.card_at("s", 6.0) == "crab");
  tl.card_hidden("s", "a", "crab", 8.0, 8000);
  CHECK(tl.card_at("s", 8.5) == "pear");
  tl.session_ended("s", "a", 30.0, 30000);
  for (const auto& e : tl.exposures("s")) CHECK(e.hidden_pts.has_value());
  // A new session: card_at answers from the latest one; the old one is still there by session.
  tl.card_shown("s", "b", "honey", 3, 2.0, 100000);
  CHECK(tl.card_at("s", 6.0) == "honey");
  CHECK(tl.card_at_in_session("s", "a", 6.0) == "crab");
  CHECK(tl.card_at_in_session("s", "a", 31.0).empty());
  CHECK(tl.card_at_in_session("s", "b", 6.0) == "honey");
  CHECK(tl.card_at_in_session("s", "nope", 6.0).empty());
  CHECK(tl.card_at_in_session("s", "", 6.0).empty());
  CHECK(tl.exposure_at("s", "a", 6.0) == 2);
  // A hide before the show (clock trouble) never makes a negative duration.
  tl.card_hidden("s", "b", "honey", 1.0, 99000);
  const auto all = tl.exposures("s");
  CHECK(*all.back().hidden_pts == 2.0);
  CHECK(*all.back().hidden_pdt_ms == 100000);
}

TEST_CASE("exposures: restore keeps ids and continues after them") {
  ExposureTimeline first;
  first.card_shown("s", "a", "pear", 1, 0.0, 0);
  first.card_hidden("s", "a", "pear", 5.0, 5000);
  first.card_shown("s", "a", "crab", 2, 6.0, 6000);
  ExposureTimeline again;
  again.restore(first.exposures("s"));
  CHECK(again.card_at("s", 7.0) == "crab");
  CHECK(again.exposure_at("s", "a", 1.0) == 1);
  again.card_shown("s", "a", "honey", 3, 9.0, 9000);
  CHECK(again.exposures("s").back().id == 3);
}

namespace {
commerce::Order order(int64_t id, const std::string& product, int64_t total, int64_t server_ms,
                      std::optional<double> media_time, int64_t exposure, const std::string& card,
                      const std::string& replay = "") {
  commerce::Order o;
  o.id = id;
  o.stream_id = "s";
  o.viewer_id = "viewer-" + std::to_string(id);
  o.idempotency_key = "k" + std::to_string(id);
  o.product_id = product;
  o.qty = 1;
  o.unit_price = total;
  o.total = total;
  o.media_time = media_time;
  o.media_exposure_id = exposure;
  o.card_product_id = card;
  o.media_card_product_id = exposure != 0 ? product : "";
  o.server_time_ms = server_ms;
  o.replay_session = replay;
  return o;
}
}  // namespace

TEST_CASE("report: per exposure and per minute and live vs replay") {
  commerce::ReportInput in;
  in.stream_id = "s";
  CardExposure pear;
  pear.stream_id = "s";
  pear.session_id = "a";
  pear.product_id = "pear";
  pear.id = 1;
  pear.shown_pts = 10;
  pear.hidden_pts = 70;
  pear.shown_pdt_ms = 60'000;
  pear.hidden_pdt_ms = 120'000;
  CardExposure crab = pear;
  crab.id = 2;
  crab.product_id = "crab";
  crab.shown_pts = 70;
  crab.hidden_pts.reset();
  crab.shown_pdt_ms = 120'000;
  crab.hidden_pdt_ms.reset();
  in.exposures = {pear, crab};
  commerce::Product pear_product;
  pear_product.id = "pear";
  pear_product.title = "Pear";
  in.catalog = {pear_product};
  in.orders = {
      order(1, "pear", 3990, 61'000, 15.0, 1, "pear"),          // in the pear exposure both ways
      order(2, "pear", 3990, 119'000, 69.0, 1, "pear"),         // same, still minute 1
      order(3, "crab", 8800, 125'000, 75.0, 2, "crab"),         // crab, minute 2
      order(4, "pear", 3990, 130'000, 5.0, 0, "crab"),          // media_time before any card
      order(5, "pear", 3990, 200'000, 20.0, 1, "crab", "a"),    // replay buy inside pear
      order(6, "crab", 8800, 200'500, std::nullopt, 0, "crab"), // no media_time
  };
  in.peak_viewers_by_minute = {{60'000, 3}, {180'000, 7}};
  const auto r = commerce::build_report(in);
  CHECK(r["gmv"] == 3990 * 4 + 8800 * 2);
  CHECK(r["orders"] == 6);
  CHECK(r["live"]["orders"] == 5);
  CHECK(r["replay"]["orders"] == 1);
  CHECK(r["replay"]["gmv"] == 3990);
  REQUIRE(r["by_replay_session"].size() == 1);
  CHECK(r["by_replay_session"][0]["replay_session"] == "a");
  REQUIRE(r["by_exposure"].size() == 2);
  const auto& e1 = r["by_exposure"][0];
  CHECK(e1["exposure_id"] == 1);
  CHECK(e1["title"] == "Pear");
  CHECK(e1["duration_s"] == 60.0);
  CHECK(e1["open"] == false);
  CHECK(e1["by_media_time"]["orders"] == 3);
  CHECK(e1["by_media_time"]["gmv"] == 3990 * 3);
  CHECK(e1["by_media_time"]["live"]["orders"] == 2);
  CHECK(e1["by_media_time"]["replay"]["orders"] == 1);
  CHECK(e1["by_server_time"]["orders"] == 2);  // orders 1 and 2 (card pear, 60-120 s)
  const auto& e2 = r["by_exposure"][1];
  CHECK(e2["open"] == true);
  CHECK(e2["duration_s"].is_null());
  CHECK(e2["by_media_time"]["orders"] == 1);
  CHECK(e2["by_server_time"]["orders"] == 3);  // orders 3, 4, 6: live, card crab, after 120 s
  CHECK(r["unattributed_media_time"]["orders"] == 1);
  // Minutes: 60 000 (orders 1, 2; peak 3), 120 000 (3, 4), 180 000 (5, 6; peak 7).
  const auto& m = r["by_minute"];
  REQUIRE(m.size() == 3);
  CHECK(m[0]["minute"] == 60'000);
  CHECK(m[0]["orders"] == 2);
  CHECK(m[0]["gmv"] == 7980);
  CHECK(m[0]["peak_viewers"] == 3);
  CHECK(m[1]["orders"] == 2);
  CHECK(m[1]["peak_viewers"].is_null());
  CHECK(m[2]["orders"] == 2);
  CHECK(m[2]["replay"]["orders"] == 1);
  CHECK(m[2]["peak_viewers"] == 7);
  int64_t minute_gmv = 0;
  for (const auto& x : m) minute_gmv += x["gmv"].get<int64_t>();
  CHECK(minute_gmv == r["gmv"].get<int64_t>());
}

TEST_CASE("store: card exposures and replay orders survive reopening") {
  test::TempDir dir;
  const std::string path = (std::filesystem::path(dir.path()) / "harvest.db").string();
  {
    store::SqliteStore db(path);
    REQUIRE(db.error().empty());
    CardExposure e;
    e.stream_id = "s";
    e.session_id = "live-1";
    e.product_id = "pear";
    e.change_id = 7;
    e.id = 1;
    e.shown_pts = 1.5;
    e.shown_pdt_ms = 1000;
    REQUIRE(db.save_exposure(e));
    e.hidden_pts = 9.25;
    e.hidden_pdt_ms = 9000;
    REQUIRE(db.save_exposure(e));  // closing replaces the row
    REQUIRE(db.commit_orders({order(1, "pear", 100, 5, 2.0, 1, "pear", "live-1")}));
  }
  store::SqliteStore db(path);
  REQUIRE(db.error().empty());
  const auto all = test::exposures_of(db);
  REQUIRE(all.size() == 1);
  CHECK(all[0].session_id == "live-1");
  CHECK(all[0].change_id == 7);
  CHECK(all[0].shown_pts == 1.5);
  CHECK(all[0].hidden_pts == 9.25);
  CHECK(all[0].hidden_pdt_ms == 9000);
  const auto orders = test::orders_of(db, "s");
  REQUIRE(orders.size() == 1);
  CHECK(orders[0].replay_session == "live-1");
  CHECK(orders[0].media_exposure_id == 1);
}

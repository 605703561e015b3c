// Attribution through the real rooms, engine, order writer and SQLite store, in-process: the
// exposure timeline is driven directly (as the media side will), buys arrive through
// RoomService::on_open/on_message (the websocket handler), and the report is built from the
// store. Then everything is torn down and rebuilt over the same data directory (a restart).
#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>

#include "commerce/commerce_service.h"
#include "show/exposure_timeline.h"
#include "core/event_loop.h"
#include "core/stream_registry.h"
#include "realtime/http_server.h"
#include "commerce/report.h"
#include "realtime/rooms.h"
#include "store/order_writer.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"
#include "support/wait.h"
#include "store_reads.h"

using namespace harvest;
using nlohmann::json;

namespace {

// One server's worth of services over a data directory, without sockets.
struct Services {
  explicit Services(const std::string& dir) : store((std::filesystem::path(dir) / "harvest.db").string()) {
    REQUIRE(store.error().empty());
    loop.bind_to_current_thread();
    streams = std::make_unique<StreamRegistry>(store);
    REQUIRE(streams->load());
    http = std::make_unique<realtime::HttpServer>(loop, realtime::HttpServerOptions{});
    writer = std::make_unique<store::OrderWriter>(store, loop);
    commerce = std::make_unique<commerce::CommerceService>(store, *writer);
    access.token_secret = "attribution-test-secret";
    rooms = std::make_unique<realtime::RoomService>(loop, *http, *streams, access, *commerce);
    timeline.restore(test::exposures_of(store));
    timeline.set_on_change([this](const show::CardExposure& e) { REQUIRE(store.save_exposure(e)); });
    rooms->selling().set_card_timeline(&timeline);
    rooms->start();
  }
  ~Services() { writer.reset(); }

  // `buyer`: a buyer token from an earlier connection (the same buyer comes back); "" a new one.
  realtime::ConnId connect(const std::string& stream, const std::string& viewer, const std::string& replay = "",
                           const std::string& buyer = "") {
    realtime::HttpRequest req;
    req.method = "GET";
    req.path = "/ws";
    req.query["stream"] = stream;
    req.query["viewer_id"] = viewer;
    if (!buyer.empty()) req.query["buyer"] = buyer;
    if (!replay.empty()) req.query["replay"] = replay;
    const realtime::ConnId id = next_conn++;
    rooms->on_open(id, req);
    return id;
  }
  void buy(realtime::ConnId conn, const std::string& key, const std::string& product, std::optional<double> t) {
    json m = {{"type", "buy"}, {"product_id", product}, {"qty", 1}, {"idempotency_key", key}};
    if (t) m["media_time"] = *t;
    rooms->on_message(conn, m.dump());
  }
  std::vector<commerce::Order> wait_orders(const std::string& stream, size_t n) {
    std::vector<commerce::Order> orders;
    const bool ok = test::wait_until([&] {
      loop.run_pending();
      orders = test::orders_of(store, stream);
      return orders.size() >= n;
    });
    REQUIRE(ok);
    return orders;
  }
  json report(const std::string& stream) {
    commerce::ReportInput in;
    in.stream_id = stream;
    in.orders = test::orders_of(store, stream);
    in.exposures = timeline.exposures(stream);
    in.catalog = rooms->selling().products(stream);
    in.peak_viewers_by_minute = rooms->monitor().peak_viewers_by_minute(stream);
    in.unique_viewers = rooms->monitor().unique_viewers(stream).count;
    return commerce::build_report(in);
  }

  store::SqliteStore store;
  EventLoop loop;
  std::unique_ptr<StreamRegistry> streams;
  realtime::AccessConfig access;
  std::unique_ptr<realtime::HttpServer> http;
  show::ExposureTimeline timeline;
  std::unique_ptr<store::OrderWriter> writer;
  std::unique_ptr<commerce::CommerceService> commerce;
  std::unique_ptr<realtime::RoomService> rooms;
  realtime::ConnId next_conn = 1;
};

std::vector<commerce::Product> catalog() {
  commerce::Product pear;
  pear.id = "pear";
  pear.title = "Pear";
  pear.price = 3990;
  pear.stock = 100;
  commerce::Product crab = pear;
  crab.id = "crab";
  crab.title = "Crab";
  crab.price = 8800;
  return {pear, crab};
}

const commerce::Order& by_key(const std::vector<commerce::Order>& orders, const std::string& key) {
  for (const auto& o : orders)
    if (o.idempotency_key == key) return o;
  FAIL("no order " << key);
  return orders.front();
}

}  // namespace

TEST_CASE("attribution: orders by media_time and replay buys and report survive a restart") {
  test::TempDir dir;
  std::string stream;
  {
    Services s(dir.path());
    StreamState* st = nullptr;
    REQUIRE(s.streams->create("attribution", "farmer", st));
    stream = st->record.id;
    REQUIRE(s.rooms->selling().replace_catalog(stream, catalog()));
    REQUIRE(s.rooms->stage().show_card(stream, "crab", "bottom"));  // room state: crab on screen now

    // The media side reports: pear on the video 10-20 s, crab from 30 s (still open).
    s.timeline.card_shown(stream, "live-1", "pear", 1, 10.0, 1'000'000);
    s.timeline.card_hidden(stream, "live-1", "pear", 20.0, 1'010'000);
    s.timeline.card_shown(stream, "live-1", "crab", 2, 30.0, 1'020'000);

    const auto viewer = s.connect(stream, "viewer-aaaa1");
    s.buy(viewer, "inside", "pear", 15.0);       // inside the pear exposure
    s.buy(viewer, "outside", "pear", 25.0);      // between exposures: none
    s.buy(viewer, "no-time", "crab", std::nullopt);
    s.buy(viewer, "crab-open", "crab", 31.0);    // inside the open crab exposure
    const auto replay = s.connect(stream, "viewer-bbbb2", "live-1");
    s.buy(replay, "replay", "pear", 12.0);       // a replay of live-1, inside pear
    const auto orders = s.wait_orders(stream, 5);

    const auto& inside = by_key(orders, "inside");
    CHECK(inside.media_card_product_id == "pear");
    CHECK(inside.media_exposure_id == 1);
    CHECK(inside.card_product_id == "crab");  // room state at acceptance
    CHECK(inside.replay_session.empty());
    const auto& outside = by_key(orders, "outside");
    CHECK(outside.media_card_product_id.empty());
    CHECK(outside.media_exposure_id == 0);
    CHECK(by_key(orders, "no-time").media_exposure_id == 0);
    CHECK(by_key(orders, "crab-open").media_exposure_id == 2);
    const auto& rep = by_key(orders, "replay");
    CHECK(rep.replay_session == "live-1");
    CHECK(rep.media_card_product_id == "pear");
    CHECK(rep.media_exposure_id == 1);
    CHECK(rep.unit_price == 3990);

    const json r = s.report(stream);
    CHECK(r["orders"] == 5);
    CHECK(r["live"]["orders"] == 4);
    CHECK(r["replay"]["orders"] == 1);
    REQUIRE(r["by_exposure"].size() == 2);
    CHECK(r["by_exposure"][0]["product_id"] == "pear");
    CHECK(r["by_exposure"][0]["by_media_time"]["orders"] == 2);
    CHECK(r["by_exposure"][0]["by_media_time"]["gmv"] == 2 * 3990);
    CHECK(r["by_exposure"][0]["by_media_time"]["replay"]["orders"] == 1);
    CHECK(r["by_exposure"][1]["by_media_time"]["orders"] == 1);
    CHECK(r["unattributed_media_time"]["orders"] == 1);
    int64_t minute_orders = 0, minute_gmv = 0;
    bool peak_seen = false;
    for (const auto& m : r["by_minute"]) {
      minute_orders += m["orders"].get<int64_t>();
      minute_gmv += m["gmv"].get<int64_t>();
      if (m["peak_viewers"].is_number() && m["peak_viewers"].get<int>() >= 2) peak_seen = true;
    }
    CHECK(minute_orders == 5);
    CHECK(minute_gmv == r["gmv"].get<int64_t>());
    CHECK(peak_seen);
    s.rooms->on_close(viewer);
    s.rooms->on_close(replay);
  }

  // Restart over the same directory: exposures and attribution come back.
  Services s(dir.path());
  REQUIRE(s.timeline.exposures(stream).size() == 2);
  CHECK(s.timeline.card_at(stream, 15.0) == "pear");
  CHECK(s.timeline.card_at(stream, 31.0) == "crab");
  const json r = s.report(stream);
  CHECK(r["orders"] == 5);
  CHECK(r["by_exposure"][0]["by_media_time"]["orders"] == 2);
  CHECK(r["by_exposure"][1]["by_media_time"]["orders"] == 1);
  CHECK(r["by_exposure"][1]["open"] == true);
  // The timeline goes on after the restored ids; a buy after the restart is attributed too.
  s.timeline.card_hidden(stream, "live-1", "crab", 40.0, 1'030'000);
  s.timeline.card_shown(stream, "live-1", "pear", 3, 50.0, 1'040'000);
  CHECK(s.timeline.exposures(stream).back().id == 3);
  const auto viewer = s.connect(stream, "viewer-cccc3");
  s.buy(viewer, "after-restart", "pear", 55.0);
  const auto orders = s.wait_orders(stream, 6);
  CHECK(by_key(orders, "after-restart").media_exposure_id == 3);
  CHECK(test::exposures_of(s.store).size() == 3);
  s.rooms->on_close(viewer);
}

TEST_CASE("attribution: bad replay ids are refused") {
  test::TempDir dir;
  Services s(dir.path());
  StreamState* st = nullptr;
  REQUIRE(s.streams->create("replays", "farmer", st));
  const std::string stream = st->record.id;
  REQUIRE(s.rooms->selling().replace_catalog(stream, catalog()));
  for (const std::string& bad : {std::string("UPPER"), std::string("a/b"), std::string(65, 'a'), std::string("sp ace"), std::string("x_y")}) {
    const auto c = s.connect(stream, "viewer-dddd4", bad);
    CHECK(s.streams->find(stream)->viewers == 0);  // not in the room
    s.rooms->on_close(c);
  }
  realtime::HttpRequest empty_replay;
  empty_replay.query = {{"stream", stream}, {"replay", ""}};
  s.rooms->on_open(100, empty_replay);
  CHECK(s.streams->find(stream)->viewers == 0);
  s.rooms->on_close(100);
  const auto ok = s.connect(stream, "viewer-eeee5", "2026-11-22-live-1");
  CHECK(s.streams->find(stream)->viewers == 1);
  s.rooms->on_close(ok);
}

TEST_CASE("report: buyers, unique viewers and conversion") {
  test::TempDir dir;
  std::string stream;
  {
    Services s(dir.path());
    StreamState* st = nullptr;
    REQUIRE(s.streams->create("conversion", "farmer", st));
    stream = st->record.id;
    REQUIRE(s.rooms->selling().replace_catalog(stream, catalog()));
    CHECK(s.report(stream)["conversion"].is_null());  // nobody came: no conversion, not 0
    CHECK(s.report(stream)["unique_viewers"] == 0);

    // Four buyer ids open the room; one of them twice (a second tab, with its buyer token),
    // and one watches a replay.
    const auto a = s.connect(stream, "viewer-a");
    const std::string a_token = s.rooms->audience().find(a)->buyer_token;
    const auto a_again = s.connect(stream, "viewer-a", "", a_token);
    const auto b = s.connect(stream, "viewer-b");
    const auto c = s.connect(stream, "viewer-c");
    const auto d = s.connect(stream, "viewer-d", "live-1");
    CHECK(s.rooms->monitor().unique_viewers(stream).count == 4);

    s.buy(a, "a1", "pear", std::nullopt);
    s.buy(a_again, "a2", "crab", std::nullopt);  // the same buyer from the second tab
    s.buy(b, "b1", "pear", std::nullopt);
    s.buy(d, "d1", "pear", 3.0);                // a replay buy counts: d opened the room too
    s.wait_orders(stream, 4);

    const json r = s.report(stream);
    CHECK(r["buyers"] == 3);
    CHECK(r["unique_viewers"] == 4);
    CHECK(r["conversion"].get<double>() == Approx(0.75));
    bool pear_seen = false;
    for (const auto& p : r["by_product"]) {
      if (p["product_id"] == "pear") {
        pear_seen = true;
        CHECK(p["buyers"] == 3);
        CHECK(p["orders"] == 3);
      } else {
        CHECK(p["buyers"] == 1);
      }
    }
    CHECK(pear_seen);
    for (auto conn : {a, a_again, b, c, d}) s.rooms->on_close(conn);
  }
  // After a restart the tracked viewers start again from none, but every buyer opened the
  // room: the unique viewers are at least the buyers (a lower bound).
  Services s(dir.path());
  const json r = s.report(stream);
  CHECK(r["buyers"] == 3);
  CHECK(r["unique_viewers"] == 3);
  CHECK(r["conversion"].get<double>() == Approx(1.0));
}

// One contract, every backend: the same Store calls and the same answers from SQLite (a temp
// file) and PostgreSQL (a real server started for the test). A backend that cannot be opened
// fails the test; nothing is skipped.
#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>

#include "../commerce/unit/store_reads.h"
#include "store/pg_store.h"
#include "store/sqlite_store.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

using namespace harvest;

namespace {

commerce::Order order(int64_t id, const std::string& viewer, const std::string& key, int64_t qty = 1) {
  commerce::Order o;
  o.id = id;
  o.stream_id = "s1";
  o.viewer_id = viewer;
  o.idempotency_key = key;
  o.product_id = "pear";
  o.qty = qty;
  o.unit_price = 100;
  o.total = 100 * qty;
  o.currency = "CNY";
  o.server_time_ms = 5;
  o.updated_at_ms = 5;
  o.media_time = id % 2 == 0 ? std::optional<double>(1.25) : std::nullopt;
  o.card_product_id = "pear";
  o.status = commerce::OrderStatus::reserved;
  o.pay_by_ms = 1000;
  return o;
}

// Every kind of record written and read back, as a restart would read it.
void check_contract(store::Store& db) {
  StreamRecord s;
  s.id = "s1";
  s.stream_key = "key-1";
  s.title = "梨园直播";
  s.farmer = "王大姐";
  s.created_at_ms = 7;
  s.owner = "f1";
  REQUIRE(db.create_stream(s));
  CHECK_FALSE(db.create_stream(s));  // the id (and key) exist
  s.title = "New title";
  s.ended_at_ms = 9;
  REQUIRE(db.update_stream(s));
  REQUIRE(db.find_stream("s1"));
  CHECK(db.find_stream("s1")->title == "New title");
  CHECK(db.find_stream_by_key("key-1")->ended_at_ms == 9);
  CHECK_FALSE(db.find_stream("nope"));
  std::vector<StreamRecord> streams;
  REQUIRE(db.list_streams(streams));
  CHECK(streams.size() == 1);

  commerce::Product pear;
  pear.id = "pear";
  pear.title = "隰县玉露香梨 \"特级\" \\ 5斤";
  pear.price = 3990;
  pear.stock = 120;
  pear.image = "/x.png";
  pear.origin.farm = "王家梨园";
  pear.origin.place.county = "隰县";
  pear.origin.harvest_date = "2026-09-01";
  pear.origin.trace_code = "XJ-2026-001";
  commerce::Product apple = pear;
  apple.origin = {};
  apple.id = "apple";
  apple.stock = 5;
  REQUIRE(db.save_products("s1", {pear, apple}));
  auto products = test::products_of(db, "s1");
  REQUIRE(products.size() == 2);
  CHECK(products[0].id == "pear");
  CHECK(products[0].title == pear.title);
  CHECK(products[0].stock == 120);
  CHECK(products[0].origin.farm == "王家梨园");
  CHECK(products[0].origin.trace_code == "XJ-2026-001");
  CHECK(products[1].origin.empty());
  REQUIRE(db.save_products("s1", {pear}));  // apple removed
  CHECK(test::products_of(db, "s1").size() == 1);

  commerce::FlashSale sale;
  sale.id = "sale1";
  sale.product_id = "pear";
  sale.quantity = 10;
  sale.ends_at_ms = 99;
  REQUIRE(db.save_sale("s1", sale));
  sale.ended = true;
  sale.end_reason = "stopped";
  REQUIRE(db.save_sale("s1", sale));
  auto sales = test::sales_of(db, "s1");
  REQUIRE(sales.size() == 1);
  CHECK(sales[0].ended);
  CHECK(sales[0].end_reason == "stopped");

  const int64_t base = db.max_order_id();
  CHECK(base >= 0);
  std::vector<commerce::Order> placed{order(base + 1, "v1", "k1"),
                                      order(base + 2, "v2", "k \"quoted\" \\ ,{}")};
  std::vector<commerce::Committed> results;
  REQUIRE(db.commit_orders(placed, results));
  for (const auto& r : results) CHECK(r.verdict == commerce::Verdict::stored);
  auto orders = test::orders_of(db, "s1");
  REQUIRE(orders.size() == 2);
  CHECK(orders[1].idempotency_key == "k \"quoted\" \\ ,{}");
  CHECK(orders[1].media_time == Approx(1.25));
  CHECK_FALSE(orders[0].media_time);
  CHECK(orders[0].status == commerce::OrderStatus::reserved);
  CHECK(db.max_order_id() >= base + 2);
  // One order by id, as another node reads back what it just heard of.
  std::optional<commerce::Order> one;
  REQUIRE(db.find_order(base + 2, one));
  REQUIRE(one);
  CHECK(one->stream_id == "s1");
  CHECK(one->idempotency_key == "k \"quoted\" \\ ,{}");
  REQUIRE(db.find_order(base + 1000, one));
  CHECK_FALSE(one);
  // Reservations past their deadline (pay_by 1000), by stream, for any node to expire.
  std::vector<std::string> due;
  REQUIRE(db.list_streams_with_due_orders(999, due));
  CHECK(due.empty());
  REQUIRE(db.list_streams_with_due_orders(1000, due));
  CHECK(due == std::vector<std::string>{"s1"});

  commerce::Order paid = orders[0];
  paid.status = commerce::OrderStatus::paid;
  paid.payment_id = "pay-1";
  paid.paid_at_ms = 50;
  paid.updated_at_ms = 50;
  REQUIRE(db.commit_order_changes({paid}, {{"pay-1", paid.id, 100, "CNY", "paid", 50}}));
  orders = test::orders_of(db, "s1");
  CHECK(orders[0].status == commerce::OrderStatus::paid);
  CHECK(orders[0].paid_at_ms == 50);
  std::vector<commerce::PaymentRecord> payments;
  REQUIRE(db.list_payments(payments));
  REQUIRE(payments.size() == 1);
  CHECK(payments[0].order_id == paid.id);
  commerce::Order ghost = paid;
  ghost.id = base + 999;
  CHECK_FALSE(db.commit_order_changes({ghost}, {}));  // not stored: refused, nothing written

  REQUIRE(db.commit_rejections({{"s1", "v3", "k3", commerce::Rejection::sold_out, 10},
                                {"s1", "v3", "k3", commerce::Rejection::invalid, 11}}));
  auto rejections = test::rejections_of(db, "s1");
  REQUIRE(rejections.size() == 1);
  CHECK(rejections[0].reason == commerce::Rejection::sold_out);

  show::CardExposure e;
  e.stream_id = "s1";
  e.id = 1;
  e.product_id = "pear";
  e.shown_pts = 1.5;
  e.shown_pdt_ms = 100;
  REQUIRE(db.save_exposure(e));
  e.hidden_pts = 3.5;
  e.hidden_pdt_ms = 300;
  REQUIRE(db.save_exposure(e));
  auto exposures = test::exposures_of(db);
  REQUIRE(exposures.size() == 1);
  CHECK(exposures[0].hidden_pts == Approx(3.5));

  REQUIRE(db.save_restream("s1", "rtmp://example/live"));
  std::vector<std::pair<std::string, std::string>> restreams;
  REQUIRE(db.list_restreams(restreams));
  REQUIRE(restreams.size() == 1);
  REQUIRE(db.save_restream("s1", ""));
  REQUIRE(db.list_restreams(restreams));
  CHECK(restreams.empty());

  REQUIRE(db.save_account({.id = "f1",
                           .username = "wang",
                           .name = "王",
                           .password_hash = "h",
                           .disabled = false,
                           .created_at_ms = 1}));
  REQUIRE(db.save_account({.id = "f1",
                           .username = "wang",
                           .name = "王",
                           .password_hash = "h",
                           .disabled = true,
                           .created_at_ms = 1}));
  std::vector<accounts::Account> accounts;
  REQUIRE(db.list_accounts(accounts));
  REQUIRE(accounts.size() == 1);
  CHECK(accounts[0].disabled);
  REQUIRE(db.save_session({.token_hash = "t1", .account_id = "f1", .created_at_ms = 1, .expires_at_ms = 2}));
  REQUIRE(db.save_session({.token_hash = "t2", .account_id = "f1", .created_at_ms = 1, .expires_at_ms = 2}));
  REQUIRE(db.delete_session("t1"));
  std::vector<accounts::Session> sessions;
  REQUIRE(db.list_sessions(sessions));
  CHECK(sessions.size() == 1);
  REQUIRE(db.delete_sessions_of("f1"));
  REQUIRE(db.list_sessions(sessions));
  CHECK(sessions.empty());
  REQUIRE(db.save_invite(
      {.code_hash = "c1", .name = "李", .created_at_ms = 1, .expires_at_ms = 2, .used = true}));
  std::vector<accounts::Invite> invites;
  REQUIRE(db.list_invites(invites));
  REQUIRE(invites.size() == 1);
  CHECK(invites[0].used);

  commerce::Product mine = pear;
  mine.origin.farm = "王家梨园";
  mine.origin.certificates = {"绿色食品"};
  REQUIRE(db.save_farmer_catalog("f1", {mine}));
  std::vector<commerce::Product> catalog;
  REQUIRE(db.list_farmer_catalog("f1", catalog));
  REQUIRE(catalog.size() == 1);
  CHECK(catalog[0].origin.farm == "王家梨园");
  CHECK(catalog[0].origin.certificates == std::vector<std::string>{"绿色食品"});
  // A trace code is found in shows first, then in farmers' catalogs.
  std::vector<store::TracedProduct> traced;
  REQUIRE(db.find_traced_products("XJ-2026-001", traced));
  REQUIRE(traced.size() == 2);
  CHECK(traced[0].stream_id == "s1");
  CHECK(traced[0].product.origin.place.county == "隰县");
  CHECK(traced[1].stream_id.empty());
  // Whose each one is (a trace code stays one account's: api/products.cpp).
  CHECK(traced[1].owner == "f1");
  REQUIRE(db.find_traced_products("nope", traced));
  CHECK(traced.empty());

  // Trace code claims (issue 21): the first owner wins and keeps it; another is refused.
  std::string taken = "stale";
  REQUIRE(db.claim_trace_codes("f1", {"LI-2026-001"}, taken));
  CHECK(taken.empty());
  REQUIRE(db.claim_trace_codes("f1", {"LI-2026-001", ""}, taken));  // the same owner again
  CHECK(taken.empty());
  REQUIRE(db.claim_trace_codes("f2", {"LI-2026-001"}, taken));
  CHECK(taken == "LI-2026-001");
  // The operator's shows ("") are one more account.
  REQUIRE(db.claim_trace_codes("", {"LI-2026-001"}, taken));
  CHECK(taken == "LI-2026-001");
  REQUIRE(db.claim_trace_codes("", {"OP-2026-001"}, taken));
  CHECK(taken.empty());
  REQUIRE(db.claim_trace_codes("f1", {"OP-2026-001"}, taken));
  CHECK(taken == "OP-2026-001");
  // Several codes are one claim: with one of them taken, none of the free ones is kept...
  REQUIRE(db.claim_trace_codes("f2", {"ZH-2026-001", "LI-2026-001", "ZH-2026-002"}, taken));
  CHECK(taken == "LI-2026-001");
  REQUIRE(db.claim_trace_codes("f1", {"ZH-2026-001", "ZH-2026-002"}, taken));
  CHECK(taken.empty());  // ...so another owner may claim them afterwards
  REQUIRE(db.claim_trace_codes("f2", {"ZH-2026-002"}, taken));
  CHECK(taken == "ZH-2026-002");
  // Duplicates in one call are one code; nothing to claim is no error.
  REQUIRE(db.claim_trace_codes("f2", {"ZH-2026-003", "ZH-2026-003"}, taken));
  CHECK(taken.empty());
  REQUIRE(db.claim_trace_codes("f2", {}, taken));
  CHECK(taken.empty());
  // A quote in a code or an owner is data, not SQL.
  REQUIRE(db.claim_trace_codes("f3'; DROP TABLE trace_codes;--", {"Q-2026-001"}, taken));
  CHECK(taken.empty());
  REQUIRE(db.claim_trace_codes("f2", {"Q-2026-001"}, taken));
  CHECK(taken == "Q-2026-001");
}

}  // namespace

TEST_CASE("store contract: SQLite") {
  test::TempDir dir;
  store::SqliteStore db((std::filesystem::path(dir.path()) / "harvest.db").string());
  REQUIRE(db.error().empty());
  check_contract(db);
}

TEST_CASE("store contract: PostgreSQL") {
  test::PostgresServer pg;
  REQUIRE(pg.error().empty());
  store::PgStore db(pg.url());
  REQUIRE(db.error().empty());
  check_contract(db);
  // The reader's handle reads what the writer wrote and refuses to write.
  store::PgStore reader(pg.url(), store::PgStore::Access::read_only);
  REQUIRE(reader.error().empty());
  CHECK(test::orders_of(reader, "s1").size() == 2);
  CHECK_FALSE(reader.save_restream("s1", "rtmp://x/y"));
}

// PostgreSQL's own promises (issue 19), with two stores on one real server standing for two
// nodes: stock is decided in the database (never oversold, whatever each node's memory
// thought), a group that does not fit is decided buy by buy, a key stored by one node is a
// duplicate on the other, an expiry is made once, order ids never collide, and migrations are
// applied once.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "../commerce/unit/store_reads.h"
#include "store/pg_connection.h"
#include "store/pg_store.h"
#include "support/postgres_server.h"

using namespace harvest;

namespace {

commerce::Order buy(int64_t id, const std::string& viewer, int64_t qty = 1, const std::string& sale = "") {
  commerce::Order o;
  o.id = id;
  o.stream_id = "s1";
  o.viewer_id = viewer;
  o.idempotency_key = "k-" + viewer;
  o.product_id = "pear";
  o.qty = qty;
  o.unit_price = 100;
  o.total = 100 * qty;
  o.sale_id = sale;
  o.status = commerce::OrderStatus::reserved;
  return o;
}

void catalog(store::Store& db, int64_t ceiling) {
  commerce::Product p;
  p.id = "pear";
  p.title = "pear";
  p.price = 100;
  p.stock = ceiling;
  REQUIRE(db.save_products("s1", {p}));
}

size_t count(const std::vector<commerce::Committed>& results, commerce::Verdict v) {
  size_t n = 0;
  for (const auto& r : results) n += r.verdict == v ? 1 : 0;
  return n;
}

// Two nodes' stores on one real PostgreSQL.
struct TwoNodes {
  test::PostgresServer pg;
  store::PgStore a{pg.url()};
  store::PgStore b{pg.url()};
  TwoNodes() {
    REQUIRE(pg.error().empty());
    REQUIRE(a.error().empty());
    REQUIRE(b.error().empty());
  }
};

}  // namespace

TEST_CASE("pg store: two nodes selling one product never oversell") {
  TwoNodes nodes;
  store::PgStore& a = nodes.a;
  store::PgStore& b = nodes.b;
  catalog(a, 50);
  const int64_t a_base = a.max_order_id();
  const int64_t b_base = b.max_order_id();
  CHECK(a_base != b_base);  // each node's ids come from its own block
  std::atomic<int> stored{0}, refused{0};
  auto sell = [&](store::PgStore& db, int64_t base, const std::string& node) {
    for (int g = 0; g < 15; ++g) {
      std::vector<commerce::Order> group;
      for (int i = 0; i < 10; ++i)
        group.push_back(buy(base + g * 10 + i + 1, node + std::to_string(g * 10 + i)));
      std::vector<commerce::Committed> results;
      REQUIRE(db.commit_orders(group, results));
      REQUIRE(results.size() == group.size());
      stored += static_cast<int>(count(results, commerce::Verdict::stored));
      refused += static_cast<int>(count(results, commerce::Verdict::sold_out));
    }
  };
  std::thread ta([&] { sell(a, a_base, "a"); });
  std::thread tb([&] { sell(b, b_base, "b"); });
  ta.join();
  tb.join();
  CHECK(stored.load() == 50);
  CHECK(refused.load() == 250);
  CHECK(test::orders_of(a, "s1").size() == 50);
  // A new ceiling from a node that saw none of it keeps what was sold: 5 more units, no more.
  catalog(b, 55);
  std::vector<commerce::Committed> results;
  REQUIRE(b.commit_orders({buy(b_base + 1000, "late", 6)}, results));
  CHECK(results[0].verdict == commerce::Verdict::sold_out);
  CHECK(results[0].stock_left == 5);
}

TEST_CASE("pg store: two nodes claiming the same trace codes at once, one wins each") {
  TwoNodes nodes;
  store::PgStore& a = nodes.a;
  store::PgStore& b = nodes.b;
  // Each round both nodes claim two new codes, in opposite orders (the store sorts them, or the
  // two transactions could deadlock on each other's rows).
  constexpr int kRounds = 40;
  std::vector<std::string> taken_a(kRounds), taken_b(kRounds);
  std::atomic<int> failures{0};
  auto claim = [&](store::PgStore& db, const std::string& owner, bool reversed,
                   std::vector<std::string>& taken) {
    for (int i = 0; i < kRounds; ++i) {
      const std::string round = "RACE-" + std::to_string(i);
      std::vector<std::string> codes = {round + "-A", round + "-B"};
      if (reversed) std::swap(codes[0], codes[1]);
      if (!db.claim_trace_codes(owner, codes, taken[static_cast<size_t>(i)])) ++failures;
    }
  };
  std::thread ta([&] { claim(a, "farm-a", false, taken_a); });
  std::thread tb([&] { claim(b, "farm-b", true, taken_b); });
  ta.join();
  tb.join();
  CHECK(failures.load() == 0);
  store::PgConnection c;
  REQUIRE(c.open(nodes.pg.url()));
  for (int i = 0; i < kRounds; ++i) {
    const auto n = static_cast<size_t>(i);
    // Exactly one of the two was refused, naming the first code (sorted) the other holds.
    CHECK((taken_a[n].empty() != taken_b[n].empty()));
    const std::string winner = taken_a[n].empty() ? "farm-a" : "farm-b";
    CHECK((taken_a[n] + taken_b[n]) == "RACE-" + std::to_string(i) + "-A");
    store::PgResult r = c.run("owners", "SELECT owner FROM trace_codes WHERE code LIKE $1 ORDER BY code",
                              store::PgParams().text("RACE-" + std::to_string(i) + "-%"));
    REQUIRE(r.ok());
    REQUIRE(r.rows() == 2);  // both codes claimed, both by the winner: no half claim
    CHECK(r.text(0, 0) == winner);
    CHECK(r.text(1, 0) == winner);
  }
}

TEST_CASE("pg store: a group that does not fit is decided buy by buy, and sales are limited too") {
  test::PostgresServer pg;
  REQUIRE(pg.error().empty());
  store::PgStore db(pg.url());
  REQUIRE(db.error().empty());
  catalog(db, 5);
  const int64_t base = db.max_order_id();
  std::vector<commerce::Committed> results;
  REQUIRE(
      db.commit_orders({buy(base + 1, "v1", 3), buy(base + 2, "v2", 3), buy(base + 3, "v3", 2)}, results));
  REQUIRE(results.size() == 3);
  CHECK(results[0].verdict == commerce::Verdict::stored);
  CHECK(results[1].verdict == commerce::Verdict::sold_out);
  CHECK(results[2].verdict == commerce::Verdict::stored);
  CHECK(results[2].stock_left == 0);

  catalog(db, 105);  // 100 more units; a sale of 4 of them
  commerce::FlashSale sale;
  sale.id = "sale1";
  sale.product_id = "pear";
  sale.quantity = 4;
  sale.ends_at_ms = 1'000'000;
  REQUIRE(db.save_sale("s1", sale));
  std::vector<commerce::Order> group;
  for (int i = 0; i < 6; ++i) group.push_back(buy(base + 10 + i, "s" + std::to_string(i), 1, "sale1"));
  REQUIRE(db.commit_orders(group, results));
  CHECK(count(results, commerce::Verdict::stored) == 4);
  CHECK(count(results, commerce::Verdict::sold_out) == 2);
  CHECK(results.back().stock_left == 96);
}

TEST_CASE("pg store: a key stored by one node is a duplicate on the other") {
  TwoNodes nodes;
  store::PgStore& a = nodes.a;
  store::PgStore& b = nodes.b;
  catalog(a, 10);
  std::vector<commerce::Committed> results;
  REQUIRE(a.commit_orders({buy(a.max_order_id() + 1, "v1")}, results));
  CHECK(results[0].verdict == commerce::Verdict::stored);
  const int64_t b_id = b.max_order_id() + 1;
  REQUIRE(b.commit_orders({buy(b_id, "v1"), buy(b_id + 1, "v2")}, results));
  CHECK(results[0].verdict == commerce::Verdict::duplicate);
  CHECK(results[1].verdict == commerce::Verdict::stored);
  CHECK(results[1].stock_left == 8);  // the duplicate took nothing
  CHECK(test::orders_of(a, "s1").size() == 2);
}

TEST_CASE("pg store: an expiry seen by two nodes is made once and gives the stock back once") {
  TwoNodes nodes;
  store::PgStore& a = nodes.a;
  store::PgStore& b = nodes.b;
  catalog(a, 3);
  const int64_t id = a.max_order_id() + 1;
  std::vector<commerce::Committed> results;
  REQUIRE(a.commit_orders({buy(id, "v1", 3)}, results));
  REQUIRE(results[0].verdict == commerce::Verdict::stored);
  commerce::Order expired = buy(id, "v1", 3);
  expired.status = commerce::OrderStatus::expired;
  expired.updated_at_ms = 10;
  std::vector<commerce::Committed> ra, rb;
  std::thread ta([&] { CHECK(a.commit_order_changes({expired}, {}, ra)); });
  std::thread tb([&] { CHECK(b.commit_order_changes({expired}, {}, rb)); });
  ta.join();
  tb.join();
  REQUIRE(ra.size() == 1);
  REQUIRE(rb.size() == 1);
  CHECK(count(ra, commerce::Verdict::stored) + count(rb, commerce::Verdict::stored) == 1);
  CHECK(count(ra, commerce::Verdict::stale) + count(rb, commerce::Verdict::stale) == 1);
  CHECK(test::orders_of(b, "s1")[0].status == commerce::OrderStatus::expired);
  // Exactly 3 units are back: 4 do not fit, 3 do.
  const int64_t next = b.max_order_id();
  REQUIRE(b.commit_orders({buy(next + 1, "v2", 4), buy(next + 2, "v3", 3)}, results));
  CHECK(results[0].verdict == commerce::Verdict::sold_out);
  CHECK(results[1].verdict == commerce::Verdict::stored);
  CHECK(results[1].stock_left == 0);
}

TEST_CASE("pg store: migrations are recorded and applied once") {
  test::PostgresServer pg;
  REQUIRE(pg.error().empty());
  {
    store::PgStore first(pg.url());
    REQUIRE(first.error().empty());
    catalog(first, 7);
  }
  store::PgStore second(pg.url());  // a restart (or a second node) finds the schema made
  REQUIRE(second.error().empty());
  CHECK(test::products_of(second, "s1").at(0).stock == 7);
  store::PgConnection c;
  REQUIRE(c.open(pg.url()));
  store::PgResult r =
      c.run("versions", "SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY 1",
            store::PgParams());
  REQUIRE(r.ok());
  REQUIRE(r.rows() >= 1);
  for (int i = 0; i < r.rows(); ++i) CHECK(r.integer(i, 1) == 1);
  CHECK(r.integer(0, 0) == 1);
}

TEST_CASE("pg store: an unreachable database is a clear error") {
  store::PgStore db("postgresql://postgres@127.0.0.1:1/harvest?connect_timeout=2");
  CHECK(db.error().find("cannot connect to PostgreSQL") != std::string::npos);
}

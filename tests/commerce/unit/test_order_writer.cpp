// Group commit through the real SQLite store: callbacks come back on the loop after the commit,
// many orders share one transaction, and the rows are there after reopening.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

#include "core/metrics.h"
#include "store/order_writer.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"
#include "support/wait.h"
#include "store_reads.h"

using namespace harvest;

namespace {
commerce::Order order(int64_t id, const std::string& key) {
  commerce::Order o;
  o.id = id;
  o.stream_id = "s1";
  o.viewer_id = "viewer-1";
  o.idempotency_key = key;
  o.product_id = "pear";
  o.qty = 1;
  o.unit_price = 100;
  o.total = 100;
  o.server_time_ms = 5;
  if (id % 2 == 0) o.media_time = 1.25;
  return o;
}
}  // namespace

TEST_CASE("order writer: commits in groups and acknowledges on the loop") {
  test::TempDir dir;
  const std::string path = (std::filesystem::path(dir.path()) / "harvest.db").string();
  const uint64_t groups_before = metrics().store_group_size.count();
  {
    store::SqliteStore db(path);
    REQUIRE(db.error().empty());
    EventLoop loop;
    std::atomic<int> acked{0};
    {
      store::OrderWriter writer(db, loop);
      for (int i = 1; i <= 500; ++i) {
        writer.submit(order(i, "k" + std::to_string(i)), [&acked, &loop](const Status& st, const commerce::Committed&) {
          CHECK(st.is_ok());
          CHECK(loop.in_loop_thread());
          ++acked;
        });
      }
      REQUIRE(test::wait_until([&] {
        loop.run_pending();
        return acked.load() == 500;
      }));
      // A duplicate (viewer, key) fails its whole group, nothing of it is written.
      std::atomic<int> failed{0};
      writer.submit(order(1000, "k1"), [&failed](const Status& st, const commerce::Committed&) {
        CHECK_FALSE(st.is_ok());
        ++failed;
      });
      REQUIRE(test::wait_until([&] {
        loop.run_pending();
        return failed.load() == 1;
      }));
    }
    CHECK(metrics().store_group_size.count() - groups_before < 500);  // grouped
    CHECK(db.max_order_id() == 500);
  }
  store::SqliteStore reopened(path);
  auto orders = test::orders_of(reopened, "s1");
  REQUIRE(orders.size() == 500);
  CHECK(orders[1].media_time == Approx(1.25));
  CHECK_FALSE(orders[0].media_time);
}

TEST_CASE("store: products, sales round-trip") {
  test::TempDir dir;
  store::SqliteStore db((std::filesystem::path(dir.path()) / "harvest.db").string());
  commerce::Product p;
  p.id = "pear";
  p.title = "隰县玉露香梨";
  p.price = 3990;
  p.stock = 120;
  p.image = "/x.png";
  REQUIRE(db.save_products("s1", {p}));
  auto products = test::products_of(db, "s1");
  REQUIRE(products.size() == 1);
  CHECK(products[0].title == p.title);
  CHECK(products[0].stock == 120);
  commerce::FlashSale s;
  s.id = "sale1";
  s.product_id = "pear";
  s.quantity = 10;
  s.ends_at_ms = 99;
  REQUIRE(db.save_sale("s1", s));
  s.ended = true;
  s.end_reason = "stopped";
  REQUIRE(db.save_sale("s1", s));
  auto sales = test::sales_of(db, "s1");
  REQUIRE(sales.size() == 1);
  CHECK(sales[0].ended);
  CHECK(sales[0].end_reason == "stopped");
}

TEST_CASE("order writer: final rejections are written as idempotency records and survive a reopen") {
  test::TempDir dir;
  const std::string path = (std::filesystem::path(dir.path()) / "harvest.db").string();
  {
    store::SqliteStore db(path);
    REQUIRE(db.error().empty());
    EventLoop loop;
    store::OrderWriter writer(db, loop);
    writer.record_rejection({"s1", "v1", "k1", commerce::Rejection::sold_out, 10});
    writer.record_rejection({"s1", "v2", "k9", commerce::Rejection::limit_reached, 11});
    writer.record_rejection({"s2", "v1", "k1", commerce::Rejection::sale_ended, 12});
    REQUIRE(test::wait_until([&] { return test::rejections_of(db, "s1").size() == 2; }));
    // The first answer stays: a second record for the same key is ignored.
    writer.record_rejection({"s1", "v1", "k1", commerce::Rejection::invalid, 13});
  }  // the writer drains its queue before it stops
  store::SqliteStore reopened(path);
  auto s1 = test::rejections_of(reopened, "s1");
  REQUIRE(s1.size() == 2);
  CHECK(s1[0].viewer_id == "v1");
  CHECK(s1[0].idempotency_key == "k1");
  CHECK(s1[0].reason == commerce::Rejection::sold_out);
  CHECK(s1[1].reason == commerce::Rejection::limit_reached);
  auto s2 = test::rejections_of(reopened, "s2");
  REQUIRE(s2.size() == 1);
  CHECK(s2[0].reason == commerce::Rejection::sale_ended);
}

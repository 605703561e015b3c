// The commerce engine without sockets: decisions, limits, idempotency, recovery.
#include <catch2/catch.hpp>

#include "commerce/shop.h"

using namespace harvest::commerce;

namespace {

Shop shop_with(int64_t stock, Fen price = 3990) {
  Shop shop("s1");
  Product p;
  p.id = "pear";
  p.title = "pear";
  p.price = price;
  p.stock = stock;
  shop.replace_catalog({p}, 0);
  return shop;
}

BuyRequest buy(const std::string& viewer, const std::string& key, int64_t qty = 1, int64_t now = 1000) {
  BuyRequest r;
  r.viewer_id = viewer;
  r.idempotency_key = key;
  r.product_id = "pear";
  r.qty = qty;
  r.now_ms = now;
  return r;
}

SaleParams sale(int64_t quantity, int64_t limit, Fen price = 1990, int64_t duration_s = 60) {
  SaleParams s;
  s.product_id = "pear";
  s.price = price;
  s.quantity = quantity;
  s.per_buyer_limit = limit;
  s.duration_s = duration_s;
  return s;
}

}  // namespace

TEST_CASE("shop: accepts until stock runs out, never oversells") {
  Shop shop = shop_with(3);
  int64_t id = 1;
  int accepted = 0;
  for (int i = 0; i < 10; ++i) {
    auto o = shop.decide(buy("v" + std::to_string(i), "k"), id);
    if (o.kind == BuyOutcome::Kind::accepted) {
      ++accepted;
      shop.confirm(id++);
    } else {
      CHECK(o.reason == Rejection::sold_out);
    }
  }
  CHECK(accepted == 3);
  CHECK(shop.product("pear")->stock == 0);
  CHECK(shop.product("pear")->sold == 3);
}

TEST_CASE("shop: a repeated key answers with the first order, pending or durable") {
  Shop shop = shop_with(5);
  auto first = shop.decide(buy("v1", "k1"), 7);
  REQUIRE(first.kind == BuyOutcome::Kind::accepted);
  auto pending = shop.decide(buy("v1", "k1"), 8);
  CHECK(pending.kind == BuyOutcome::Kind::duplicate_pending);
  CHECK(pending.order.id == 7);
  shop.confirm(7);
  auto durable = shop.decide(buy("v1", "k1"), 9);
  CHECK(durable.kind == BuyOutcome::Kind::duplicate_confirmed);
  CHECK(durable.order.id == 7);
  CHECK(shop.product("pear")->stock == 4);
  // Same key, another viewer: a different order.
  CHECK(shop.decide(buy("v2", "k1"), 10).kind == BuyOutcome::Kind::accepted);
}

TEST_CASE("shop: rejections are remembered, rate limits are not") {
  Shop shop = shop_with(0);
  CHECK(shop.decide(buy("v1", "k"), 1).reason == Rejection::sold_out);
  auto again = shop.decide(buy("v1", "k"), 2);
  CHECK(again.kind == BuyOutcome::Kind::duplicate_rejected);
  CHECK(again.reason == Rejection::sold_out);
}

TEST_CASE("shop: quantities outside 1..max are invalid") {
  Shop shop = shop_with(1000);
  CHECK(shop.decide(buy("v", "a", 0), 1).reason == Rejection::invalid);
  CHECK(shop.decide(buy("v", "b", -3), 1).reason == Rejection::invalid);
  CHECK(shop.decide(buy("v", "c", kMaxQtyPerOrder + 1), 1).reason == Rejection::invalid);
  auto unknown = buy("v", "d");
  unknown.product_id = "nope";
  CHECK(shop.decide(unknown, 1).reason == Rejection::invalid);
}

TEST_CASE("shop: flash sale price, per-buyer limit, sold out ends the sale") {
  Shop shop = shop_with(100);
  std::string msg;
  auto s = shop.start_sale("s1", sale(3, 2), 0, msg);
  REQUIRE(s);
  CHECK(s->ends_at_ms == 60'000);
  auto a = shop.decide(buy("v1", "1"), 1);
  REQUIRE(a.kind == BuyOutcome::Kind::accepted);
  CHECK(a.order.unit_price == 1990);
  CHECK(a.order.sale_id == "s1");
  CHECK(shop.decide(buy("v1", "2"), 2).kind == BuyOutcome::Kind::accepted);
  CHECK(shop.decide(buy("v1", "3"), 3).reason == Rejection::limit_reached);
  CHECK(shop.decide(buy("v2", "1", 2), 4).reason == Rejection::sold_out);  // only 1 left in the sale
  auto last = shop.decide(buy("v2", "2"), 5);
  REQUIRE(last.kind == BuyOutcome::Kind::accepted);
  REQUIRE(last.sale_sold_out);
  CHECK(last.sale_sold_out->end_reason == "sold_out");
  CHECK(shop.running_sales().empty());
  // After the sale: list price from the rest of the stock.
  auto after = shop.decide(buy("v3", "1"), 6);
  CHECK(after.order.unit_price == 3990);
  CHECK(shop.product("pear")->stock == 96);
}

TEST_CASE("shop: a sale cannot exceed stock or run twice; its time and sale_id are checked") {
  Shop shop = shop_with(5);
  std::string msg;
  CHECK_FALSE(shop.start_sale("s0", sale(6, 1), 0, msg));
  REQUIRE(shop.start_sale("s1", sale(5, 1), 0, msg));
  CHECK_FALSE(shop.start_sale("s2", sale(1, 1), 0, msg));
  auto late = buy("v", "late", 1, 60'000);
  CHECK(shop.decide(late, 1).reason == Rejection::sale_ended);
  auto wrong = buy("v", "wrong");
  wrong.sale_id = "s-old";
  CHECK(shop.decide(wrong, 2).reason == Rejection::sale_ended);
  REQUIRE(shop.end_sale("s1", "stopped", 10));
  CHECK_FALSE(shop.end_sale("s1", "stopped", 11));
}

TEST_CASE("shop: release undoes a reservation and forgets the key") {
  Shop shop = shop_with(1);
  std::string msg;
  REQUIRE(shop.start_sale("s1", sale(1, 1), 0, msg));
  REQUIRE(shop.decide(buy("v1", "k"), 1).kind == BuyOutcome::Kind::accepted);
  shop.release(1);
  CHECK(shop.product("pear")->stock == 1);
  CHECK(shop.bought_in_sale("s1", "v1") == 0);
  // The sale sold out in memory when the reservation was made; the retry buys at list price.
  CHECK(shop.decide(buy("v1", "k"), 2).kind == BuyOutcome::Kind::accepted);
}

TEST_CASE("shop: restore rebuilds stock, sale counts, limits and idempotency from durable orders") {
  Product p;
  p.id = "pear";
  p.price = 3990;
  p.stock = 10;  // ceiling
  FlashSale s;
  s.id = "s1";
  s.product_id = "pear";
  s.price = 1990;
  s.quantity = 5;
  s.per_buyer_limit = 2;
  s.ends_at_ms = 100'000;
  Order o;
  o.id = 41;
  o.viewer_id = "v1";
  o.idempotency_key = "k1";
  o.product_id = "pear";
  o.qty = 2;
  o.unit_price = 1990;
  o.total = 3980;
  o.sale_id = "s1";
  Shop shop("s1");
  shop.restore({p}, {s}, {o});
  CHECK(shop.product("pear")->stock == 8);
  CHECK(shop.product("pear")->sold == 2);
  CHECK(shop.sale("s1")->sold == 2);
  CHECK(shop.bought_in_sale("s1", "v1") == 2);
  auto again = shop.decide(buy("v1", "k1"), 50);
  CHECK(again.kind == BuyOutcome::Kind::duplicate_confirmed);
  CHECK(again.order.id == 41);
  CHECK(shop.decide(buy("v1", "k2"), 51).reason == Rejection::limit_reached);
  CHECK(Shop::ceiling(*shop.product("pear")) == 10);
}

TEST_CASE("shop: replacing the catalog keeps sold counts and ends sales of removed products") {
  Shop shop = shop_with(10);
  std::string msg;
  REQUIRE(shop.start_sale("s1", sale(5, 5), 0, msg));
  REQUIRE(shop.decide(buy("v", "k", 2), 1).kind == BuyOutcome::Kind::accepted);
  Product crab;
  crab.id = "crab";
  crab.stock = 4;
  auto removed = shop.replace_catalog({crab}, 5);
  REQUIRE(removed == std::vector<std::string>{"pear"});
  auto ended = shop.take_ended_sales();
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].end_reason == "removed");
  CHECK(shop.product("pear") == nullptr);
}

TEST_CASE("shop: a stored rejection is the key's answer after a restore, even once stock is back") {
  Product p;
  p.id = "pear";
  p.price = 3990;
  p.stock = 10;  // restocked since the rejection
  Order o;
  o.id = 7;
  o.viewer_id = "v1";
  o.idempotency_key = "bought";
  o.product_id = "pear";
  o.qty = 1;
  Shop shop("s1");
  shop.restore({p}, {}, {o},
               {RejectedBuy{"s1", "v2", "late", Rejection::sold_out, 500},
                RejectedBuy{"s1", "v1", "bought", Rejection::invalid, 400}});  // the order wins
  auto again = shop.decide(buy("v2", "late"), 50);
  CHECK(again.kind == BuyOutcome::Kind::duplicate_rejected);
  CHECK(again.reason == Rejection::sold_out);
  CHECK(shop.decide(buy("v1", "bought"), 51).kind == BuyOutcome::Kind::duplicate_confirmed);
  CHECK(shop.decide(buy("v2", "fresh"), 52).kind == BuyOutcome::Kind::accepted);
}

TEST_CASE("rejection names round-trip; only final rejections are records") {
  for (Rejection r : {Rejection::sold_out, Rejection::limit_reached, Rejection::sale_ended, Rejection::invalid,
                      Rejection::rate_limited, Rejection::unavailable})
    CHECK(rejection_from_name(rejection_name(r)) == r);
  CHECK_FALSE(rejection_from_name("nope").has_value());
  CHECK(is_final(Rejection::sold_out));
  CHECK_FALSE(is_final(Rejection::rate_limited));
  CHECK_FALSE(is_final(Rejection::unavailable));
}

// --- several nodes on one database: the shop as a cache ---

TEST_CASE("shop cache: another node's order counts for the sale limit and takes the database's stock") {
  Shop shop = shop_with(10);
  std::string message;
  auto s = shop.start_sale("sale-1", sale(5, 1), 1000, message);
  REQUIRE(s);
  Order theirs;
  theirs.id = 900;
  theirs.stream_id = "s1";
  theirs.viewer_id = "v1";
  theirs.idempotency_key = "k-on-node-b";
  theirs.product_id = "pear";
  theirs.qty = 1;
  theirs.sale_id = "sale-1";
  theirs.status = OrderStatus::reserved;
  shop.apply_remote_order(theirs, /*stock_left=*/7);  // the database: 3 units went elsewhere
  CHECK(shop.product("pear")->stock == 7);
  CHECK(shop.order(900) != nullptr);
  CHECK(shop.bought_in_sale("sale-1", "v1") == 1);
  // The same buyer on this node is over the limit; their key from the other node is a duplicate.
  auto out = shop.decide(buy("v1", "k-here", 1, 2000), 1);
  CHECK(out.kind == BuyOutcome::Kind::rejected);
  CHECK(out.reason == Rejection::limit_reached);
  CHECK(shop.decide(buy("v1", "k-on-node-b", 1, 2000), 2).kind == BuyOutcome::Kind::duplicate_confirmed);
  // Heard twice (a resync): counted once.
  shop.apply_remote_order(theirs, 7);
  CHECK(shop.bought_in_sale("sale-1", "v1") == 1);
}

TEST_CASE("shop cache: the database's units left, less what this node has in flight") {
  Shop shop = shop_with(10);
  auto a = shop.decide(buy("v1", "a", 2), 1);
  REQUIRE(a.kind == BuyOutcome::Kind::accepted);
  shop.refresh_stock("pear", 4);  // another node sold 4 meanwhile; our 2 are not stored yet
  CHECK(shop.product("pear")->stock == 2);
  shop.confirm(1);
  shop.refresh_stock("pear", 4);  // ours are in the database's figure now
  CHECK(shop.product("pear")->stock == 4);
  shop.refresh_stock("pear", -1);  // unknown: unchanged
  CHECK(shop.product("pear")->stock == 4);
}

TEST_CASE("shop cache: a reload keeps the orders still being written") {
  Shop shop = shop_with(10);
  auto a = shop.decide(buy("v1", "a", 3), 1);
  REQUIRE(a.kind == BuyOutcome::Kind::accepted);
  // Another node changed the catalog: the store has 20 units as the ceiling, no stored orders.
  Product p = *shop.product("pear");
  p.stock = 20;
  shop.reload({p}, {}, {}, {});
  CHECK(shop.product("pear")->stock == 17);  // the 3 in flight still held
  CHECK(shop.decide(buy("v1", "a", 3), 2).kind == BuyOutcome::Kind::duplicate_pending);
  shop.confirm(1);
  CHECK(shop.order(1) != nullptr);
}

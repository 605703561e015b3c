// The order state machine (commerce/order_lifecycle.h), the shop's stock through it, payment
// notices and the phone check: pure functions and plain values.
#include <catch2/catch.hpp>

#include "commerce/order_lifecycle.h"
#include "commerce/payment_notice.h"
#include "commerce/phone_check.h"
#include "commerce/shop.h"
#include "core/tokens.h"

using namespace harvest::commerce;

namespace {

Order reserved_order() {
  Order o;
  o.id = 7;
  o.stream_id = "s";
  o.viewer_id = "buyer-a";
  o.product_id = "pear";
  o.qty = 2;
  o.unit_price = 3990;
  o.total = 7980;
  o.status = OrderStatus::reserved;
  o.pay_by_ms = 10'000;
  return o;
}

OrderChange change(OrderChange::Kind kind, Actor actor, int64_t now = 5'000) {
  OrderChange c;
  c.kind = kind;
  c.actor = actor;
  c.now_ms = now;
  return c;
}

OrderChange checkout(const std::string& payment) {
  OrderChange c = change(OrderChange::Kind::checkout, Actor::buyer);
  c.contact = {"李四", "13912345678", "山西省隰县龙泉镇 8 号"};
  c.payment = payment;
  return c;
}

}  // namespace

TEST_CASE("lifecycle: the happy path reserved → paid → shipped → delivered", "[lifecycle]") {
  Order o = reserved_order();
  auto t = apply_change(o, checkout("offline"));
  REQUIRE(t.ok);
  CHECK(t.after.pay_by_ms == 0);  // offline: the farmer confirms, no automatic expiry
  CHECK(t.after.contact.address == "山西省隰县龙泉镇 8 号");
  o = t.after;
  t = apply_change(o, change(OrderChange::Kind::paid, Actor::host));
  REQUIRE(t.ok);
  CHECK(t.after.status == OrderStatus::paid);
  CHECK_FALSE(t.stock_returned);
  o = t.after;
  OrderChange ship = change(OrderChange::Kind::ship, Actor::host);
  ship.carrier = "顺丰速运";
  ship.tracking = "SF1234567890";
  t = apply_change(o, ship);
  REQUIRE(t.ok);
  CHECK(t.after.tracking == "SF1234567890");
  o = t.after;
  t = apply_change(o, change(OrderChange::Kind::deliver, Actor::host));
  REQUIRE(t.ok);
  CHECK(t.after.status == OrderStatus::delivered);
  CHECK(holds_stock(t.after));
}

TEST_CASE("lifecycle: illegal transitions are 409 with the state unchanged; wrong actors 403", "[lifecycle]") {
  const Order o = reserved_order();
  auto t = apply_change(o, change(OrderChange::Kind::ship, Actor::host));
  CHECK_FALSE(t.ok);
  CHECK(t.http_status == 409);
  t = apply_change(o, change(OrderChange::Kind::refund, Actor::host));
  CHECK(t.http_status == 409);
  t = apply_change(o, change(OrderChange::Kind::paid, Actor::buyer));
  CHECK(t.http_status == 403);
  t = apply_change(o, change(OrderChange::Kind::paid, Actor::host));
  CHECK(t.http_status == 409);  // no address yet
  t = apply_change(o, change(OrderChange::Kind::expire, Actor::system, 9'999));
  CHECK(t.http_status == 409);  // not yet
  t = apply_change(o, change(OrderChange::Kind::expire, Actor::buyer, 10'000));
  CHECK(t.http_status == 403);

  Order paid = o;
  paid.status = OrderStatus::paid;
  CHECK(apply_change(paid, change(OrderChange::Kind::cancel, Actor::buyer)).http_status == 409);
  CHECK(apply_change(paid, checkout("offline")).http_status == 409);
  Order gone = o;
  gone.status = OrderStatus::expired;
  for (auto kind : {OrderChange::Kind::paid, OrderChange::Kind::cancel, OrderChange::Kind::ship, OrderChange::Kind::deliver})
    CHECK(apply_change(gone, change(kind, Actor::host)).http_status == 409);
}

TEST_CASE("lifecycle: stock comes back on cancel, expiry and refund before shipping only", "[lifecycle]") {
  const Order o = reserved_order();
  auto cancel = apply_change(o, change(OrderChange::Kind::cancel, Actor::buyer));
  REQUIRE(cancel.ok);
  CHECK(cancel.stock_returned);
  CHECK_FALSE(holds_stock(cancel.after));
  auto expire = apply_change(o, change(OrderChange::Kind::expire, Actor::system, 10'000));
  REQUIRE(expire.ok);
  CHECK(expire.stock_returned);

  Order paid = o;
  paid.status = OrderStatus::paid;
  OrderChange refund = change(OrderChange::Kind::refund, Actor::host);
  refund.reason = "缺货";
  auto r = apply_change(paid, refund);
  REQUIRE(r.ok);
  CHECK(r.stock_returned);
  CHECK_FALSE(holds_stock(r.after));
  Order shipped = paid;
  shipped.status = OrderStatus::shipped;
  shipped.shipped_at_ms = 4'000;
  r = apply_change(shipped, refund);
  REQUIRE(r.ok);
  CHECK_FALSE(r.stock_returned);
  CHECK(holds_stock(r.after));  // the goods left the farm
}

TEST_CASE("lifecycle: checkout checks the contact and keeps the payment method once chosen", "[lifecycle]") {
  const Order o = reserved_order();
  OrderChange bad = checkout("offline");
  bad.contact.address = "x";
  CHECK(apply_change(o, bad).http_status == 400);
  bad = checkout("offline");
  bad.contact.name = "李\n四";
  CHECK(apply_change(o, bad).http_status == 400);
  CHECK(apply_change(o, checkout("bitcoin")).http_status == 400);
  auto first = apply_change(o, checkout("gateway"));
  REQUIRE(first.ok);
  CHECK(first.after.pay_by_ms == 10'000);  // the gateway pays within the window
  CHECK(apply_change(first.after, checkout("offline")).http_status == 409);
  CHECK(apply_change(first.after, checkout("gateway")).ok);  // a new address is fine
}

TEST_CASE("shop: a returned unit is sellable again at once, and a restore counts only holding orders", "[lifecycle]") {
  Shop shop("s");
  Product p;
  p.id = "pear";
  p.title = "梨";
  p.price = 100;
  p.stock = 1;
  shop.replace_catalog({p}, 0);
  BuyRequest req;
  req.viewer_id = "a";
  req.idempotency_key = "k1";
  req.product_id = "pear";
  req.qty = 1;
  req.now_ms = 1;
  req.pay_by_ms = 1000;
  auto out = shop.decide(req, 1);
  REQUIRE(out.kind == BuyOutcome::Kind::accepted);
  CHECK(out.order.status == OrderStatus::reserved);
  CHECK(out.order.pay_by_ms == 1000);
  shop.confirm(1);
  req.viewer_id = "b";
  req.idempotency_key = "k2";
  CHECK(shop.decide(req, 2).reason == Rejection::sold_out);

  Order expired = *shop.order(1);
  expired.status = OrderStatus::expired;
  shop.order_changed(expired, /*stock_returned=*/true);
  CHECK(shop.product("pear")->stock == 1);
  req.idempotency_key = "k3";
  CHECK(shop.decide(req, 3).kind == BuyOutcome::Kind::accepted);
  shop.confirm(3);

  // After a restart: the ceiling is 1; order 1 expired, order 3 holds the unit.
  Shop again("s");
  Product ceiling = p;
  ceiling.stock = 1;
  again.restore({ceiling}, {}, {expired, *shop.order(3)});
  CHECK(again.product("pear")->stock == 0);
  CHECK(again.product("pear")->sold == 1);
  // A repeated key still answers with its first order, in its current state.
  req.viewer_id = "a";
  req.idempotency_key = "k1";
  auto dup = again.decide(req, 9);
  REQUIRE(dup.kind == BuyOutcome::Kind::duplicate_confirmed);
  CHECK(dup.order.status == OrderStatus::expired);
}

TEST_CASE("payment notices: parse, bounds and the signature", "[payments]") {
  const std::string body = R"({"order_id":12,"payment_id":"wx-4200001","amount":3990,"currency":"CNY","status":"paid"})";
  auto parsed = parse_payment_notice(body);
  REQUIRE(parsed.notice);
  CHECK(parsed.notice->order_id == 12);
  CHECK(parsed.notice->amount == 3990);
  for (const char* bad : {"", "[]", "{", R"({"order_id":0,"payment_id":"p","amount":1,"currency":"CNY","status":"paid"})",
                          R"({"order_id":1,"payment_id":"","amount":1,"currency":"CNY","status":"paid"})",
                          R"({"order_id":1,"payment_id":"p","amount":1.5,"currency":"CNY","status":"paid"})",
                          R"({"order_id":1,"payment_id":"p","amount":-1,"currency":"CNY","status":"paid"})",
                          R"({"order_id":1,"payment_id":"p","amount":1,"currency":"RMB1","status":"paid"})",
                          R"({"order_id":1,"payment_id":"p q","amount":1,"currency":"CNY","status":"paid"})"}) {
    auto p = parse_payment_notice(bad);
    CHECK_FALSE(p.notice);
    CHECK_FALSE(p.error.empty());
  }
  const std::string secret = "a-secret-of-sixteen+";
  const std::string sig = harvest::tokens::hmac_sha256_hex(secret, body);
  CHECK(signature_matches(secret, body, sig));
  std::string upper = sig;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(signature_matches(secret, body, upper));
  CHECK_FALSE(signature_matches(secret, body + " ", sig));
  CHECK_FALSE(signature_matches("another-secret-0000", body, sig));
  CHECK_FALSE(signature_matches("", body, harvest::tokens::hmac_sha256_hex("", body)));
}

TEST_CASE("phone check: mainland mobile numbers, normalised", "[payments]") {
  CHECK(normalise_phone("+86 139-1234-5678") == "13912345678");
  CHECK(normalise_phone("0086 13912345678") == "13912345678");
  CHECK(is_mainland_mobile("13912345678"));
  CHECK_FALSE(is_mainland_mobile("12912345678"));
  CHECK_FALSE(is_mainland_mobile("1391234567"));
  CHECK_FALSE(is_mainland_mobile("1391234567a"));
  MobileNumberFormat check;
  CHECK_FALSE(check.problem("b", "13912345678"));
  CHECK(check.problem("b", "110"));
}

TEST_CASE("buyer tokens: only the server's signature names a buyer", "[tokens]") {
  const std::string secret = "buyer-token-secret-0123456789";
  const std::string token = harvest::tokens::new_buyer_token(secret);
  auto id = harvest::tokens::verify_buyer_token(secret, token);
  REQUIRE(id);
  CHECK(token.rfind("b1.", 0) == 0);
  CHECK(harvest::tokens::verify_buyer_token(secret, harvest::tokens::new_buyer_token(secret)) != id);
  CHECK_FALSE(harvest::tokens::verify_buyer_token("another-secret-000000000", token));
  std::string forged = token;
  forged[4] = forged[4] == 'a' ? 'b' : 'a';  // another buyer id, same MAC
  CHECK_FALSE(harvest::tokens::verify_buyer_token(secret, forged));
  CHECK_FALSE(harvest::tokens::verify_buyer_token(secret, "b1.someone"));
  CHECK_FALSE(harvest::tokens::verify_buyer_token(secret, ""));
}

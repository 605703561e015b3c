// The PostgreSQL store's group commits: stock is decided here, in the database, so nodes that
// share it never sell a unit twice.
//
// A group of buys is one transaction of a fixed number of round trips, whatever its size:
//   1. lock the group's product rows, then its sale rows (SELECT ... FOR UPDATE, in key order
//      so two nodes never deadlock): one row lock per product per group, not per buy;
//   2. keep the buys that fit, in the order they came (the rest: Verdict::sold_out);
//   3. insert them in one statement (unnest); a (viewer, key) another node stored already is
//      left out by ON CONFLICT (Verdict::duplicate);
//   4. add the inserted units to products.sold and sales.sold; COMMIT.
// A product or sale that has no row is not limited here (the node's memory decided it, as
// with SQLite): every row the engine writes has one.
#include <algorithm>
#include <map>
#include <set>

#include "store/pg_store.h"

namespace harvest::store {
namespace {

using Key = std::pair<std::string, std::string>;  // (stream_id, product_id or sale_id)

Status failed(const PgResult& r) { return Status::error(r.error()); }

// Locks the rows of `keys` in `table` and returns units left per key (rows that exist only).
bool lock_left(PgConnection& c, const char* name, const char* sql, const std::set<Key>& keys,
               std::map<Key, int64_t>& left, Status& st) {
  if (keys.empty()) return true;
  std::vector<std::string> streams, ids;
  for (const auto& [s, id] : keys) {
    streams.push_back(s);
    ids.push_back(id);
  }
  PgResult r = c.run(name, sql, PgParams().text(pg_text_array(streams)).text(pg_text_array(ids)));
  if (!r.ok()) {
    st = failed(r);
    return false;
  }
  for (int i = 0; i < r.rows(); ++i) left[{r.text(i, 0), r.text(i, 1)}] = r.integer(i, 2);
  return true;
}

// Adds `units` to the `sold` column of each key's row.
bool add_sold(PgConnection& c, const char* name, const char* sql, const std::map<Key, int64_t>& units,
              Status& st) {
  std::vector<std::string> streams, ids;
  std::vector<int64_t> n;
  for (const auto& [k, u] : units) {
    if (u == 0) continue;
    streams.push_back(k.first);
    ids.push_back(k.second);
    n.push_back(u);
  }
  if (n.empty()) return true;
  PgResult r = c.run(name, sql,
                     PgParams().text(pg_text_array(streams)).text(pg_text_array(ids)).text(pg_int_array(n)));
  if (!r.ok()) st = failed(r);
  return r.ok();
}

const char* const kLockProducts =
    "SELECT p.stream_id, p.id, p.stock_ceiling - p.sold FROM products p"
    " JOIN unnest($1::text[], $2::text[]) AS k(stream_id, id) ON p.stream_id = k.stream_id AND p.id = k.id"
    " ORDER BY p.stream_id, p.id FOR UPDATE OF p";
const char* const kLockSales =
    "SELECT s.stream_id, s.id, s.quantity - s.sold FROM sales s"
    " JOIN unnest($1::text[], $2::text[]) AS k(stream_id, id) ON s.stream_id = k.stream_id AND s.id = k.id"
    " ORDER BY s.stream_id, s.id FOR UPDATE OF s";
const char* const kAddProductSold =
    "UPDATE products p SET sold = p.sold + d.n FROM unnest($1::text[], $2::text[], $3::bigint[]) AS "
    "d(stream_id, id, n)"
    " WHERE p.stream_id = d.stream_id AND p.id = d.id";
const char* const kAddSaleSold =
    "UPDATE sales s SET sold = s.sold + d.n FROM unnest($1::text[], $2::text[], $3::bigint[]) AS "
    "d(stream_id, id, n)"
    " WHERE s.stream_id = d.stream_id AND s.id = d.id";
const char* const kInsertOrders =
    "INSERT INTO orders (id, stream_id, viewer_id, idempotency_key, product_id, qty, unit_price, total, "
    "currency,"
    " media_time, card_product_id, media_card_product_id, sale_id, server_time_ms, replay_session, "
    "media_exposure_id,"
    " status, pay_by_ms, updated_at_ms)"
    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], "
    "$7::bigint[],"
    " $8::bigint[], $9::text[], $10::float8[], $11::text[], $12::text[], $13::text[], $14::bigint[], "
    "$15::text[],"
    " $16::bigint[], $17::text[], $18::bigint[], $19::bigint[])"
    " ON CONFLICT (stream_id, viewer_id, idempotency_key) DO NOTHING RETURNING id";

}  // namespace

int64_t PgStore::max_order_id() {
  std::lock_guard lock(mutex_);
  PgResult r = db_.run("order_id_block", "SELECT nextval('order_id_blocks')", PgParams());
  // No block, no ids: 0 would collide with another node's, so the store is unusable.
  if (!r.ok() || r.rows() != 1) return -1;
  return r.integer(0, 0) << 24;
}

Status PgStore::commit_orders(const std::vector<commerce::Order>& orders,
                              std::vector<commerce::Committed>& results) {
  std::lock_guard lock(writer_mutex_);
  results.assign(orders.size(), commerce::Committed{});
  std::set<Key> products, sales;
  for (const auto& o : orders) {
    products.insert({o.stream_id, o.product_id});
    if (!o.sale_id.empty()) sales.insert({o.stream_id, o.sale_id});
  }
  if (auto st = writer_.exec("BEGIN"); !st) return st;
  Status st;
  std::map<Key, int64_t> product_left, sale_left;
  if (!lock_left(writer_, "lock_products", kLockProducts, products, product_left, st) ||
      !lock_left(writer_, "lock_sales", kLockSales, sales, sale_left, st))
    return writer_.abort(st);

  // Decide, in arrival order: a buy fits if its product (and its sale) has the units left.
  std::vector<size_t> kept;
  for (size_t i = 0; i < orders.size(); ++i) {
    const auto& o = orders[i];
    auto p = product_left.find({o.stream_id, o.product_id});
    auto s = o.sale_id.empty() ? sale_left.end() : sale_left.find({o.stream_id, o.sale_id});
    const bool fits =
        (p == product_left.end() || p->second >= o.qty) && (s == sale_left.end() || s->second >= o.qty);
    if (!fits) {
      results[i].verdict = commerce::Verdict::sold_out;
      continue;
    }
    if (p != product_left.end()) p->second -= o.qty;
    if (s != sale_left.end()) s->second -= o.qty;
    kept.push_back(i);
  }

  if (!kept.empty()) {
    std::vector<int64_t> id, qty, unit_price, total, server_time, exposure, pay_by, updated;
    std::vector<std::string> stream, viewer, key, product, currency, card, media_card, sale, replay, status;
    std::vector<std::optional<double>> media_time;
    for (size_t i : kept) {
      const auto& o = orders[i];
      id.push_back(o.id);
      stream.push_back(o.stream_id);
      viewer.push_back(o.viewer_id);
      key.push_back(o.idempotency_key);
      product.push_back(o.product_id);
      qty.push_back(o.qty);
      unit_price.push_back(o.unit_price);
      total.push_back(o.total);
      currency.push_back(o.currency);
      media_time.push_back(o.media_time);
      card.push_back(o.card_product_id);
      media_card.push_back(o.media_card_product_id);
      sale.push_back(o.sale_id);
      server_time.push_back(o.server_time_ms);
      replay.push_back(o.replay_session);
      exposure.push_back(o.media_exposure_id);
      status.push_back(commerce::status_name(o.status));
      pay_by.push_back(o.pay_by_ms);
      updated.push_back(o.updated_at_ms);
    }
    PgParams p;
    p.text(pg_int_array(id)).text(pg_text_array(stream)).text(pg_text_array(viewer)).text(pg_text_array(key));
    p.text(pg_text_array(product))
        .text(pg_int_array(qty))
        .text(pg_int_array(unit_price))
        .text(pg_int_array(total));
    p.text(pg_text_array(currency)).text(pg_real_array(media_time)).text(pg_text_array(card));
    p.text(pg_text_array(media_card)).text(pg_text_array(sale)).text(pg_int_array(server_time));
    p.text(pg_text_array(replay)).text(pg_int_array(exposure)).text(pg_text_array(status));
    p.text(pg_int_array(pay_by)).text(pg_int_array(updated));
    PgResult r = writer_.run("insert_orders", kInsertOrders, p);
    if (!r.ok()) return writer_.abort(failed(r));
    std::set<int64_t> inserted;
    for (int row = 0; row < r.rows(); ++row) inserted.insert(r.integer(row, 0));

    std::map<Key, int64_t> product_units, sale_units;
    for (size_t i : kept) {
      const auto& o = orders[i];
      if (inserted.count(o.id) == 0) {
        // Its units were counted as taken above: give them back to the figures reported.
        results[i].verdict = commerce::Verdict::duplicate;
        if (auto pl = product_left.find({o.stream_id, o.product_id}); pl != product_left.end())
          pl->second += o.qty;
        continue;
      }
      product_units[{o.stream_id, o.product_id}] += o.qty;
      if (!o.sale_id.empty()) sale_units[{o.stream_id, o.sale_id}] += o.qty;
    }
    if (!add_sold(writer_, "add_product_sold", kAddProductSold, product_units, st) ||
        !add_sold(writer_, "add_sale_sold", kAddSaleSold, sale_units, st))
      return writer_.abort(st);
  }
  if (auto commit = writer_.exec("COMMIT"); !commit) return writer_.abort(commit);
  for (size_t i = 0; i < orders.size(); ++i) {
    auto p = product_left.find({orders[i].stream_id, orders[i].product_id});
    if (p != product_left.end()) results[i].stock_left = p->second;
  }
  return Status::ok();
}

Status PgStore::commit_order_changes(const std::vector<commerce::Order>& changed,
                                     const std::vector<commerce::PaymentRecord>& payments,
                                     std::vector<commerce::Committed>& results) {
  std::lock_guard lock(writer_mutex_);
  results.assign(changed.size(), commerce::Committed{});
  if (auto st = writer_.exec("BEGIN"); !st) return st;
  for (size_t i = 0; i < changed.size(); ++i) {
    const auto& o = changed[i];
    // An expiry is made only while the order is still reserved: when two nodes both see the
    // deadline pass, one update finds the row and gives the units back; the other is stale.
    const bool expiry = o.status == commerce::OrderStatus::expired;
    PgResult r = writer_.run(
        "change_order",
        "WITH before AS (SELECT id, status, shipped_at_ms, stream_id, product_id, sale_id, qty FROM orders"
        " WHERE id = $16 FOR UPDATE)"
        " UPDATE orders o SET status = $1, pay_by_ms = $2, payment = $3, contact_name = $4, contact_phone = "
        "$5,"
        " contact_address = $6, carrier = $7, tracking = $8, reason = $9, payment_id = $10, flag = $11,"
        " updated_at_ms = $12, paid_at_ms = $13, shipped_at_ms = $14, delivered_at_ms = $15 FROM before"
        " WHERE o.id = before.id AND (NOT $17::boolean OR before.status = 'reserved')"
        " RETURNING before.status, before.shipped_at_ms, before.stream_id, before.product_id, before.sale_id,"
        " before.qty",
        PgParams()
            .text(commerce::status_name(o.status))
            .integer(o.pay_by_ms)
            .text(o.payment)
            .text(o.contact.name)
            .text(o.contact.phone)
            .text(o.contact.address)
            .text(o.carrier)
            .text(o.tracking)
            .text(o.reason)
            .text(o.payment_id)
            .text(o.flag)
            .integer(o.updated_at_ms)
            .integer(o.paid_at_ms)
            .integer(o.shipped_at_ms)
            .integer(o.delivered_at_ms)
            .integer(o.id)
            .boolean(expiry));
    if (!r.ok()) return writer_.abort(failed(r));
    if (r.rows() == 0) {
      if (!expiry) return writer_.abort(Status::error("update of an order that is not stored"));
      results[i].verdict = commerce::Verdict::stale;
      continue;
    }
    commerce::Order before;
    before.status = commerce::status_from_name(r.text(0, 0)).value_or(commerce::OrderStatus::reserved);
    before.shipped_at_ms = r.integer(0, 1);
    const int64_t delta = (commerce::holds_stock(before) ? 1 : 0) - (commerce::holds_stock(o) ? 1 : 0);
    if (delta == 0) continue;
    // Units back on the shelf (or taken again): the database's count moves with the order.
    const int64_t units = -delta * r.integer(0, 5);
    std::map<Key, int64_t> product_units{{{r.text(0, 2), r.text(0, 3)}, units}};
    Status st;
    if (!add_sold(writer_, "add_product_sold", kAddProductSold, product_units, st)) return writer_.abort(st);
    if (!r.text(0, 4).empty()) {
      std::map<Key, int64_t> sale_units{{{r.text(0, 2), r.text(0, 4)}, units}};
      if (!add_sold(writer_, "add_sale_sold", kAddSaleSold, sale_units, st)) return writer_.abort(st);
    }
  }
  for (const auto& p : payments) {
    PgResult r = writer_.run("insert_payment",
                             "INSERT INTO payments (payment_id, order_id, amount, currency, outcome, at_ms)"
                             " VALUES ($1,$2,$3,$4,$5,$6)",
                             PgParams()
                                 .text(p.payment_id)
                                 .integer(p.order_id)
                                 .integer(p.amount)
                                 .text(p.currency)
                                 .text(p.outcome)
                                 .integer(p.at_ms));
    if (!r.ok()) return writer_.abort(failed(r));
  }
  if (auto commit = writer_.exec("COMMIT"); !commit) return writer_.abort(commit);
  return Status::ok();
}

Status PgStore::commit_rejections(const std::vector<commerce::RejectedBuy>& rejections) {
  std::lock_guard lock(writer_mutex_);
  std::vector<std::string> stream, viewer, key, reason;
  std::vector<int64_t> at;
  for (const auto& r : rejections) {
    stream.push_back(r.stream_id);
    viewer.push_back(r.viewer_id);
    key.push_back(r.idempotency_key);
    reason.push_back(commerce::rejection_name(r.reason));
    at.push_back(r.at_ms);
  }
  // One statement, so one transaction: a key already recorded is left as it is.
  PgResult r =
      writer_.run("insert_rejections",
                  "INSERT INTO rejections (stream_id, viewer_id, idempotency_key, reason, at_ms)"
                  " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])"
                  " ON CONFLICT DO NOTHING",
                  PgParams()
                      .text(pg_text_array(stream))
                      .text(pg_text_array(viewer))
                      .text(pg_text_array(key))
                      .text(pg_text_array(reason))
                      .text(pg_int_array(at)));
  return r.ok() ? Status::ok() : failed(r);
}

}  // namespace harvest::store

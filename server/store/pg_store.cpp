// The PostgreSQL store: connections, streams, catalogs, sales, exposures, restreams and the
// reads of orders. The group commits are in pg_orders.cpp, accounts in pg_accounts.cpp.
#include "store/pg_store.h"

#include "core/clock.h"
#include "store/order_columns.h"

#include <nlohmann/json.hpp>

#include <set>

#include "commerce/origin_json.h"

namespace harvest::store {
namespace {

const char* const kStreamColumns =
    "SELECT id, stream_key, title, farmer, created_at_ms, owner, scheduled_at_ms, cover, ended_at_ms FROM "
    "streams";

StreamRecord read_stream(const PgResult& r, int row) {
  StreamRecord s;
  s.id = r.text(row, 0);
  s.stream_key = r.text(row, 1);
  s.title = r.text(row, 2);
  s.farmer = r.text(row, 3);
  s.created_at_ms = r.integer(row, 4);
  s.owner = r.text(row, 5);
  s.scheduled_at_ms = r.integer(row, 6);
  s.cover = r.text(row, 7);
  s.ended_at_ms = r.integer(row, 8);
  return s;
}

Status result(const PgResult& r) { return r.ok() ? Status::ok() : Status::error(r.error()); }

}  // namespace

// The origin column: origin_json() text, '' for a product without one (as in SQLite).
std::string pg_origin_text(const commerce::Origin& o) {
  return o.empty() ? std::string()
                   : commerce::origin_json(o).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

commerce::Origin pg_origin(const std::string& text) {
  commerce::Origin o;
  // Written by pg_origin_text from a checked record; a damaged cell reads as no origin.
  if (!text.empty()) commerce::origin_from_json(nlohmann::json::parse(text, nullptr, false), o);
  return o;
}

namespace {

// Columns from `first`: id, title, price, currency, image, stock_ceiling, origin.
commerce::Product read_product(const PgResult& r, int row) {
  commerce::Product p;
  p.id = r.text(row, 0);
  p.title = r.text(row, 1);
  p.price = r.integer(row, 2);
  p.currency = r.text(row, 3);
  p.image = r.text(row, 4);
  p.stock = r.integer(row, 5);
  p.origin = pg_origin(r.text(row, 6));
  return p;
}

}  // namespace

PgStore::PgStore(const std::string& url, Access access) {
  for (PgConnection* c : {&db_, &writer_}) {
    if (access == Access::read_only && c == &writer_) break;  // the reader never writes orders
    if (auto st = c->open(url); !st) {
      error_ = "cannot connect to PostgreSQL: " + st.message();
      return;
    }
  }
  if (access == Access::read_only) {
    if (auto st = db_.exec("SET default_transaction_read_only = on"); !st)
      error_ = "cannot configure the PostgreSQL reader: " + st.message();
    return;
  }
  if (auto st = migrate(); !st) error_ = "cannot migrate the PostgreSQL schema: " + st.message();
}

Status PgStore::write(const char* name, const char* sql, const PgParams& params) {
  return result(db_.run(name, sql, params));
}

Status PgStore::create_stream(const StreamRecord& s) {
  std::lock_guard lock(mutex_);
  return write(
      "create_stream",
      "INSERT INTO streams (id, stream_key, title, farmer, created_at_ms, owner, scheduled_at_ms, cover,"
      " ended_at_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
      PgParams()
          .text(s.id)
          .text(s.stream_key)
          .text(s.title)
          .text(s.farmer)
          .integer(s.created_at_ms)
          .text(s.owner)
          .integer(s.scheduled_at_ms)
          .text(s.cover)
          .integer(s.ended_at_ms));
}

std::optional<StreamRecord> PgStore::find_stream_where(const char* name, const char* sql,
                                                       const std::string& value) {
  std::lock_guard lock(mutex_);
  PgResult r = db_.run(name, sql, PgParams().text(value));
  if (!r.ok() || r.rows() == 0) return std::nullopt;
  return read_stream(r, 0);
}

std::optional<StreamRecord> PgStore::find_stream(const std::string& id) {
  static const std::string sql = std::string(kStreamColumns) + " WHERE id = $1";
  return find_stream_where("find_stream", sql.c_str(), id);
}

std::optional<StreamRecord> PgStore::find_stream_by_key(const std::string& stream_key) {
  static const std::string sql = std::string(kStreamColumns) + " WHERE stream_key = $1";
  return find_stream_where("find_stream_by_key", sql.c_str(), stream_key);
}

Status PgStore::list_streams(std::vector<StreamRecord>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  static const std::string sql = std::string(kStreamColumns) + " ORDER BY created_at_ms, id";
  PgResult r = db_.run("list_streams", sql.c_str(), PgParams());
  if (!r.ok()) return Status::error(r.error());
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_stream(r, i));
  return Status::ok();
}

Status PgStore::update_stream(const StreamRecord& s) {
  std::lock_guard lock(mutex_);
  return write(
      "update_stream",
      "UPDATE streams SET stream_key = $1, title = $2, farmer = $3, owner = $4, scheduled_at_ms = $5,"
      " cover = $6, ended_at_ms = $7 WHERE id = $8",
      PgParams()
          .text(s.stream_key)
          .text(s.title)
          .text(s.farmer)
          .text(s.owner)
          .integer(s.scheduled_at_ms)
          .text(s.cover)
          .integer(s.ended_at_ms)
          .text(s.id));
}

Status PgStore::save_products(const std::string& stream_id, const std::vector<commerce::Product>& products) {
  std::lock_guard lock(mutex_);
  if (auto st = db_.exec("BEGIN"); !st) return st;
  std::vector<std::string> kept;
  int64_t position = 0;
  for (const auto& p : products) {
    kept.push_back(p.id);
    // `sold` is the database's (every node's orders): a product that stays keeps it.
    PgResult r = db_.run(
        "save_product",
        "INSERT INTO products (stream_id, id, position, title, price, currency, image, stock_ceiling,"
        " origin, trace_code) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (stream_id, id)"
        " DO UPDATE SET position = EXCLUDED.position, title = EXCLUDED.title, price = EXCLUDED.price,"
        " currency = EXCLUDED.currency, image = EXCLUDED.image, stock_ceiling = EXCLUDED.stock_ceiling,"
        " origin = EXCLUDED.origin, trace_code = EXCLUDED.trace_code",
        PgParams()
            .text(stream_id)
            .text(p.id)
            .integer(position++)
            .text(p.title)
            .integer(p.price)
            .text(p.currency)
            .text(p.image)
            .integer(p.stock)
            .text(pg_origin_text(p.origin))
            .text(p.origin.trace_code));
    if (!r.ok()) return db_.abort(Status::error(r.error()));
  }
  PgResult del =
      db_.run("delete_products", "DELETE FROM products WHERE stream_id = $1 AND NOT (id = ANY($2::text[]))",
              PgParams().text(stream_id).text(pg_text_array(kept)));
  if (!del.ok()) return db_.abort(Status::error(del.error()));
  return db_.exec("COMMIT");
}

Status PgStore::list_products(const std::string& stream_id, std::vector<commerce::Product>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  PgResult r = db_.run("list_products",
                       "SELECT id, title, price, currency, image, stock_ceiling, origin FROM products"
                       " WHERE stream_id = $1 ORDER BY position",
                       PgParams().text(stream_id));
  if (!r.ok()) return Status::error(r.error());
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_product(r, i));
  return Status::ok();
}

Status PgStore::find_traced_products(const std::string& trace_code, std::vector<TracedProduct>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  // Newest show first (a catalog whose stream record is gone still answers: LEFT JOIN), then
  // farmers' catalogs (a product not yet in any show; no stream to link to).
  PgResult shows =
      db_.run("traced_in_shows",
              "SELECT p.id, p.title, p.price, p.currency, p.image, p.stock_ceiling, p.origin, p.stream_id,"
              " COALESCE(st.owner, '') FROM products p LEFT JOIN streams st ON st.id = p.stream_id"
              " WHERE p.trace_code = $1"
              " ORDER BY COALESCE(st.created_at_ms, 0) DESC, p.stream_id DESC, p.position",
              PgParams().text(trace_code));
  if (!shows.ok()) return Status::error(shows.error());
  for (int i = 0; i < shows.rows(); ++i)
    out.push_back({shows.text(i, 7), shows.text(i, 8), read_product(shows, i)});
  PgResult farms = db_.run("traced_in_catalogs",
                           "SELECT id, title, price, currency, image, 0, origin, owner FROM farmer_products"
                           " WHERE trace_code = $1 ORDER BY owner, position",
                           PgParams().text(trace_code));
  if (!farms.ok()) return Status::error(farms.error());
  for (int i = 0; i < farms.rows(); ++i) out.push_back({"", farms.text(i, 7), read_product(farms, i)});
  return Status::ok();
}

Status PgStore::claim_trace_codes(const std::string& owner, const std::vector<std::string>& codes,
                                  std::string& taken) {
  std::lock_guard lock(mutex_);
  taken.clear();
  // Sorted: two claims of the same codes lock their rows in one order (no deadlock).
  const std::set<std::string> sorted(codes.begin(), codes.end());
  const int64_t claimed_at = now_ms();
  if (auto st = db_.exec("BEGIN"); !st) return st;
  for (const std::string& code : sorted) {
    if (code.empty()) continue;
    // Another node's uncommitted claim of the code makes this INSERT wait for its end: then it
    // is either there (DO NOTHING, and the SELECT below, a new snapshot under READ COMMITTED,
    // sees it) or gone (this one inserts).
    PgResult ins = db_.run("claim_trace_code",
                           "INSERT INTO trace_codes (code, owner, claimed_at_ms) VALUES ($1,$2,$3)"
                           " ON CONFLICT (code) DO NOTHING",
                           PgParams().text(code).text(owner).integer(claimed_at));
    if (!ins.ok()) return db_.abort(Status::error(ins.error()));
    PgResult holder = db_.run("trace_code_owner", "SELECT owner FROM trace_codes WHERE code = $1",
                              PgParams().text(code));
    if (!holder.ok()) return db_.abort(Status::error(holder.error()));
    if (holder.rows() != 1)
      return db_.abort(Status::error("trace code '" + code + "' has no claim after its insert"));
    if (holder.text(0, 0) != owner) {
      // Nothing of this call is kept: a catalog is claimed whole or not at all.
      if (auto st = db_.exec("ROLLBACK"); !st) return st;
      taken = code;
      return Status::ok();
    }
  }
  return db_.exec("COMMIT");
}

Status PgStore::save_sale(const std::string& stream_id, const commerce::FlashSale& sale) {
  std::lock_guard lock(mutex_);
  // `sold` is the database's, counted by the group commits.
  return write(
      "save_sale",
      "INSERT INTO sales (stream_id, id, product_id, price, quantity, per_buyer_limit, started_at_ms,"
      " ends_at_ms, ended, ended_at_ms, end_reason) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"
      " ON CONFLICT (stream_id, id) DO UPDATE SET product_id = EXCLUDED.product_id, price = EXCLUDED.price,"
      " quantity = EXCLUDED.quantity, per_buyer_limit = EXCLUDED.per_buyer_limit,"
      " started_at_ms = EXCLUDED.started_at_ms, ends_at_ms = EXCLUDED.ends_at_ms, ended = EXCLUDED.ended,"
      " ended_at_ms = EXCLUDED.ended_at_ms, end_reason = EXCLUDED.end_reason",
      PgParams()
          .text(stream_id)
          .text(sale.id)
          .text(sale.product_id)
          .integer(sale.price)
          .integer(sale.quantity)
          .integer(sale.per_buyer_limit)
          .integer(sale.started_at_ms)
          .integer(sale.ends_at_ms)
          .boolean(sale.ended)
          .integer(sale.ended_at_ms)
          .text(sale.end_reason));
}

Status PgStore::list_sales(const std::string& stream_id, std::vector<commerce::FlashSale>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  PgResult r =
      db_.run("list_sales",
              "SELECT id, product_id, price, quantity, per_buyer_limit, started_at_ms, ends_at_ms, ended,"
              " ended_at_ms, end_reason FROM sales WHERE stream_id = $1 ORDER BY started_at_ms, id",
              PgParams().text(stream_id));
  if (!r.ok()) return Status::error(r.error());
  for (int i = 0; i < r.rows(); ++i) {
    commerce::FlashSale f;
    f.id = r.text(i, 0);
    f.product_id = r.text(i, 1);
    f.price = r.integer(i, 2);
    f.quantity = r.integer(i, 3);
    f.per_buyer_limit = r.integer(i, 4);
    f.started_at_ms = r.integer(i, 5);
    f.ends_at_ms = r.integer(i, 6);
    f.ended = r.text(i, 7) == "t";
    f.ended_at_ms = r.integer(i, 8);
    f.end_reason = r.text(i, 9);
    out.push_back(std::move(f));
  }
  return Status::ok();
}


static void read_order_rows(const PgResult& r, std::vector<commerce::Order>& out) {
  for (int i = 0; i < r.rows(); ++i) {
    commerce::Order o;
    o.id = r.integer(i, 0);
    o.viewer_id = r.text(i, 1);
    o.idempotency_key = r.text(i, 2);
    o.product_id = r.text(i, 3);
    o.qty = r.integer(i, 4);
    o.unit_price = r.integer(i, 5);
    o.total = r.integer(i, 6);
    o.currency = r.text(i, 7);
    if (!r.is_null(i, 8)) o.media_time = r.real(i, 8);
    o.card_product_id = r.text(i, 9);
    o.media_card_product_id = r.text(i, 10);
    o.sale_id = r.text(i, 11);
    o.server_time_ms = r.integer(i, 12);
    o.replay_session = r.text(i, 13);
    o.media_exposure_id = r.integer(i, 14);
    o.status = commerce::status_from_name(r.text(i, 15)).value_or(commerce::OrderStatus::reserved);
    o.pay_by_ms = r.integer(i, 16);
    o.payment = r.text(i, 17);
    o.contact = {r.text(i, 18), r.text(i, 19), r.text(i, 20)};
    o.carrier = r.text(i, 21);
    o.tracking = r.text(i, 22);
    o.reason = r.text(i, 23);
    o.payment_id = r.text(i, 24);
    o.flag = r.text(i, 25);
    o.updated_at_ms = r.integer(i, 26);
    o.paid_at_ms = r.integer(i, 27);
    o.shipped_at_ms = r.integer(i, 28);
    o.delivered_at_ms = r.integer(i, 29);
    o.stream_id = r.text(i, 30);
    out.push_back(std::move(o));
  }
}

Status PgStore::list_orders(const std::string& stream_id, std::vector<commerce::Order>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  static const std::string sql = std::string(kSelectOrders) + "WHERE stream_id = $1 ORDER BY id";
  PgResult r = db_.run("list_orders", sql.c_str(), PgParams().text(stream_id));
  if (!r.ok()) return Status::error(r.error());
  read_order_rows(r, out);
  return Status::ok();
}

Status PgStore::find_order(int64_t order_id, std::optional<commerce::Order>& out) {
  std::lock_guard lock(mutex_);
  out.reset();
  static const std::string sql = std::string(kSelectOrders) + "WHERE id = $1";
  PgResult r = db_.run("find_order", sql.c_str(), PgParams().integer(order_id));
  if (!r.ok()) return Status::error(r.error());
  std::vector<commerce::Order> rows;
  read_order_rows(r, rows);
  if (!rows.empty()) out = std::move(rows.front());
  return Status::ok();
}

Status PgStore::list_streams_with_due_orders(int64_t now_ms, std::vector<std::string>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  PgResult r = db_.run("due_order_streams",
                       "SELECT DISTINCT stream_id FROM orders WHERE status = 'reserved' AND pay_by_ms > 0"
                       " AND pay_by_ms <= $1",
                       PgParams().integer(now_ms));
  if (!r.ok()) return Status::error(r.error());
  for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
  return Status::ok();
}

Status PgStore::list_payments(std::vector<commerce::PaymentRecord>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  PgResult r =
      db_.run("list_payments",
              "SELECT payment_id, order_id, amount, currency, outcome, at_ms FROM payments ORDER BY at_ms",
              PgParams());
  if (!r.ok()) return Status::error(r.error());
  for (int i = 0; i < r.rows(); ++i)
    out.push_back(
        {r.text(i, 0), r.integer(i, 1), r.integer(i, 2), r.text(i, 3), r.text(i, 4), r.integer(i, 5)});
  return Status::ok();
}

Status PgStore::list_rejections(const std::string& stream_id, std::vector<commerce::RejectedBuy>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  PgResult r = db_.run("list_rejections",
                       "SELECT viewer_id, idempotency_key, reason, at_ms FROM rejections WHERE stream_id = $1"
                       " ORDER BY at_ms",
                       PgParams().text(stream_id));
  if (!r.ok()) return Status::error(r.error());
  for (int i = 0; i < r.rows(); ++i) {
    const auto reason = commerce::rejection_from_name(r.text(i, 2));
    if (!reason) continue;  // written by a newer version: decided again
    out.push_back(commerce::RejectedBuy{stream_id, r.text(i, 0), r.text(i, 1), *reason, r.integer(i, 3)});
  }
  return Status::ok();
}

Status PgStore::save_exposure(const show::CardExposure& e) {
  std::lock_guard lock(mutex_);
  PgParams p;
  p.text(e.stream_id)
      .integer(e.id)
      .text(e.session_id)
      .text(e.product_id)
      .integer(static_cast<int64_t>(e.change_id));
  p.real(e.shown_pts).integer(e.shown_pdt_ms).real(e.hidden_pts);
  if (e.hidden_pdt_ms)
    p.integer(*e.hidden_pdt_ms);
  else
    p.null();
  return write(
      "save_exposure",
      "INSERT INTO card_exposures (stream_id, id, session_id, product_id, change_id, shown_pts, shown_pdt_ms,"
      " hidden_pts, hidden_pdt_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (stream_id, id) DO UPDATE"
      " SET session_id = EXCLUDED.session_id, product_id = EXCLUDED.product_id,"
      " change_id = EXCLUDED.change_id, shown_pts = EXCLUDED.shown_pts, shown_pdt_ms = EXCLUDED.shown_pdt_ms,"
      " hidden_pts = EXCLUDED.hidden_pts, hidden_pdt_ms = EXCLUDED.hidden_pdt_ms",
      p);
}

Status PgStore::list_exposures(std::vector<show::CardExposure>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  PgResult r =
      db_.run("list_exposures",
              "SELECT stream_id, id, session_id, product_id, change_id, shown_pts, shown_pdt_ms, hidden_pts,"
              " hidden_pdt_ms FROM card_exposures ORDER BY id",
              PgParams());
  if (!r.ok()) return Status::error(r.error());
  for (int i = 0; i < r.rows(); ++i) {
    show::CardExposure e;
    e.stream_id = r.text(i, 0);
    e.id = r.integer(i, 1);
    e.session_id = r.text(i, 2);
    e.product_id = r.text(i, 3);
    e.change_id = static_cast<uint64_t>(r.integer(i, 4));
    e.shown_pts = r.real(i, 5);
    e.shown_pdt_ms = r.integer(i, 6);
    if (!r.is_null(i, 7)) e.hidden_pts = r.real(i, 7);
    if (!r.is_null(i, 8)) e.hidden_pdt_ms = r.integer(i, 8);
    out.push_back(std::move(e));
  }
  return Status::ok();
}

Status PgStore::save_restream(const std::string& stream_id, const std::string& url) {
  std::lock_guard lock(mutex_);
  if (url.empty())
    return write("delete_restream", "DELETE FROM restreams WHERE stream_id = $1", PgParams().text(stream_id));
  const int64_t updated_at = now_ms();
  return write(
      "save_restream",
      "INSERT INTO restreams (stream_id, url, updated_at_ms) VALUES ($1,$2,$3) ON CONFLICT (stream_id)"
      " DO UPDATE SET url = EXCLUDED.url, updated_at_ms = EXCLUDED.updated_at_ms",
      PgParams().text(stream_id).text(url).integer(updated_at));
}

Status PgStore::list_restreams(std::vector<std::pair<std::string, std::string>>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  PgResult r =
      db_.run("list_restreams", "SELECT stream_id, url FROM restreams ORDER BY stream_id", PgParams());
  if (!r.ok()) return Status::error(r.error());
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0), r.text(i, 1));
  return Status::ok();
}

}  // namespace harvest::store

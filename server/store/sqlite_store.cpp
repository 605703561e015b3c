#include "store/sqlite_store.h"

#include "core/clock.h"
#include "store/order_columns.h"
#include "store/sqlite_statement.h"

#include <set>
#include <nlohmann/json.hpp>

#include "commerce/origin_json.h"

namespace harvest::store {
namespace {

StreamRecord read_stream(const Statement& s) {
  StreamRecord r;
  r.id = s.text(0);
  r.stream_key = s.text(1);
  r.title = s.text(2);
  r.farmer = s.text(3);
  r.created_at_ms = sqlite3_column_int64(s.get(), 4);
  r.owner = s.text(5);
  r.scheduled_at_ms = sqlite3_column_int64(s.get(), 6);
  r.cover = s.text(7);
  r.ended_at_ms = sqlite3_column_int64(s.get(), 8);
  return r;
}

// Products keep `stock` as the stock ceiling (units left + units sold); see store.h.
const char* const kCommerceSchema =
    "CREATE TABLE IF NOT EXISTS products ("
    " stream_id TEXT NOT NULL, id TEXT NOT NULL, position INTEGER NOT NULL, title TEXT NOT NULL,"
    " price INTEGER NOT NULL, currency TEXT NOT NULL, image TEXT NOT NULL, stock_ceiling INTEGER NOT NULL,"
    " PRIMARY KEY (stream_id, id));"
    "CREATE TABLE IF NOT EXISTS sales ("
    " stream_id TEXT NOT NULL, id TEXT NOT NULL, product_id TEXT NOT NULL, price INTEGER NOT NULL,"
    " quantity INTEGER NOT NULL, per_buyer_limit INTEGER NOT NULL, started_at_ms INTEGER NOT NULL,"
    " ends_at_ms INTEGER NOT NULL, ended INTEGER NOT NULL, ended_at_ms INTEGER NOT NULL,"
    " end_reason TEXT NOT NULL, PRIMARY KEY (stream_id, id));"
    "CREATE TABLE IF NOT EXISTS orders ("
    " id INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, viewer_id TEXT NOT NULL,"
    " idempotency_key TEXT NOT NULL, product_id TEXT NOT NULL, qty INTEGER NOT NULL,"
    " unit_price INTEGER NOT NULL, total INTEGER NOT NULL, currency TEXT NOT NULL, media_time REAL,"
    " card_product_id TEXT NOT NULL, media_card_product_id TEXT NOT NULL, sale_id TEXT NOT NULL,"
    " server_time_ms INTEGER NOT NULL, UNIQUE (stream_id, viewer_id, idempotency_key));"
    "CREATE INDEX IF NOT EXISTS orders_by_stream ON orders (stream_id, id);"
    "CREATE TABLE IF NOT EXISTS card_exposures ("
    " stream_id TEXT NOT NULL, id INTEGER NOT NULL, session_id TEXT NOT NULL, product_id TEXT NOT NULL,"
    " change_id INTEGER NOT NULL, shown_pts REAL NOT NULL, shown_pdt_ms INTEGER NOT NULL, hidden_pts REAL,"
    " hidden_pdt_ms INTEGER, PRIMARY KEY (stream_id, id));"
    "CREATE TABLE IF NOT EXISTS rejections ("
    " stream_id TEXT NOT NULL, viewer_id TEXT NOT NULL, idempotency_key TEXT NOT NULL, reason TEXT NOT NULL,"
    " at_ms INTEGER NOT NULL, PRIMARY KEY (stream_id, viewer_id, idempotency_key));"
    // Added with the restream (issue 6): a new table, so CREATE IF NOT EXISTS migrates old files.
    "CREATE TABLE IF NOT EXISTS restreams ("
    " stream_id TEXT PRIMARY KEY, url TEXT NOT NULL, updated_at_ms INTEGER NOT NULL);"
    // Added with checkout (issue 17): payment notifications as handled, one per payment id.
    "CREATE TABLE IF NOT EXISTS payments ("
    " payment_id TEXT PRIMARY KEY, order_id INTEGER NOT NULL, amount INTEGER NOT NULL,"
    " currency TEXT NOT NULL, outcome TEXT NOT NULL, at_ms INTEGER NOT NULL);"
    // Added with the security review (issue 21): a trace code is the first account's that
    // claims it (Store::claim_trace_codes); the primary key decides between racing claims.
    "CREATE TABLE IF NOT EXISTS trace_codes ("
    " code TEXT PRIMARY KEY, owner TEXT NOT NULL, claimed_at_ms INTEGER NOT NULL);";

// Columns added after the first release: ALTER TABLE on databases created before them.
struct AddedColumn {
  const char* table;
  const char* column;
  const char* alter;
};
const AddedColumn kAddedColumns[] = {
    {"orders", "replay_session", "ALTER TABLE orders ADD COLUMN replay_session TEXT NOT NULL DEFAULT ''"},
    {"orders", "media_exposure_id",
     "ALTER TABLE orders ADD COLUMN media_exposure_id INTEGER NOT NULL DEFAULT 0"},
    // Checkout (issue 17). Orders from before it were plain confirmed buys: they come back
    // reserved with no payment deadline, for the farmer to mark paid or cancel.
    {"orders", "status", "ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'reserved'"},
    {"orders", "pay_by_ms", "ALTER TABLE orders ADD COLUMN pay_by_ms INTEGER NOT NULL DEFAULT 0"},
    {"orders", "payment", "ALTER TABLE orders ADD COLUMN payment TEXT NOT NULL DEFAULT ''"},
    {"orders", "contact_name", "ALTER TABLE orders ADD COLUMN contact_name TEXT NOT NULL DEFAULT ''"},
    {"orders", "contact_phone", "ALTER TABLE orders ADD COLUMN contact_phone TEXT NOT NULL DEFAULT ''"},
    {"orders", "contact_address", "ALTER TABLE orders ADD COLUMN contact_address TEXT NOT NULL DEFAULT ''"},
    {"orders", "carrier", "ALTER TABLE orders ADD COLUMN carrier TEXT NOT NULL DEFAULT ''"},
    {"orders", "tracking", "ALTER TABLE orders ADD COLUMN tracking TEXT NOT NULL DEFAULT ''"},
    {"orders", "reason", "ALTER TABLE orders ADD COLUMN reason TEXT NOT NULL DEFAULT ''"},
    {"orders", "payment_id", "ALTER TABLE orders ADD COLUMN payment_id TEXT NOT NULL DEFAULT ''"},
    {"orders", "flag", "ALTER TABLE orders ADD COLUMN flag TEXT NOT NULL DEFAULT ''"},
    {"orders", "updated_at_ms", "ALTER TABLE orders ADD COLUMN updated_at_ms INTEGER NOT NULL DEFAULT 0"},
    {"orders", "paid_at_ms", "ALTER TABLE orders ADD COLUMN paid_at_ms INTEGER NOT NULL DEFAULT 0"},
    {"orders", "shipped_at_ms", "ALTER TABLE orders ADD COLUMN shipped_at_ms INTEGER NOT NULL DEFAULT 0"},
    {"orders", "delivered_at_ms", "ALTER TABLE orders ADD COLUMN delivered_at_ms INTEGER NOT NULL DEFAULT 0"},
    // Traceability (issue 18): the product's origin record as origin_json() text ('' none), and
    // its trace code apart, indexed, for GET /api/trace/{code}.
    {"products", "origin", "ALTER TABLE products ADD COLUMN origin TEXT NOT NULL DEFAULT ''"},
    {"products", "trace_code", "ALTER TABLE products ADD COLUMN trace_code TEXT NOT NULL DEFAULT ''"},
};

// The origin column: origin_json() text, '' for a product without one.
std::string origin_text(const commerce::Origin& o) {
  return o.empty() ? std::string()
                   : commerce::origin_json(o).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Columns 0-6: id, title, price, currency, image, stock_ceiling, origin.
commerce::Product read_product(const Statement& s) {
  commerce::Product p;
  p.id = s.text(0);
  p.title = s.text(1);
  p.price = col_int(s, 2);
  p.currency = s.text(3);
  p.image = s.text(4);
  p.stock = col_int(s, 5);
  // Written by origin_text from a checked record; a damaged cell reads as no origin rather
  // than failing the whole catalog.
  if (const std::string text = s.text(6); !text.empty())
    commerce::origin_from_json(nlohmann::json::parse(text, nullptr, false), p.origin);
  return p;
}

}  // namespace

SqliteStore::SqliteStore(const std::string& path, Access access) {
  const int flags = access == Access::read_only ? SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX
                                                : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    error_ = "cannot open SQLite database '" + path + "': " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
    return;
  }
  sqlite3_busy_timeout(db_, 5000);
  // WAL lets this connection read beside the writer; the read-write handle made the schema.
  if (access == Access::read_only) return;
  // WAL: readers never block the writer; synchronous=FULL so a commit is on disk when it returns.
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
                          "CREATE TABLE IF NOT EXISTS streams ("
                          " id TEXT PRIMARY KEY, stream_key TEXT NOT NULL UNIQUE,"
                          " title TEXT NOT NULL, farmer TEXT NOT NULL, created_at_ms INTEGER NOT NULL)",
                          kCommerceSchema}) {
    if (auto st = exec(sql); !st) {
      error_ = "cannot initialise SQLite database '" + path + "': " + st.message();
      return;
    }
  }
  if (auto st = migrate_accounts(); !st) {
    error_ = "cannot upgrade SQLite database '" + path + "': " + st.message();
    return;
  }
  for (const auto& [table, column, alter] : kAddedColumns) {
    Statement has(db_, "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?");
    has.bind(1, std::string(table));
    has.bind(2, std::string(column));
    if (!has.valid() || sqlite3_step(has.get()) != SQLITE_ROW) {
      error_ = "cannot inspect SQLite database '" + path + "'";
      return;
    }
    if (sqlite3_column_int64(has.get(), 0) != 0) continue;
    if (auto st = exec(alter); !st) {
      error_ = "cannot upgrade SQLite database '" + path + "': " + st.message();
      return;
    }
  }
  // After the ALTERs: on an old database the column exists only now.
  if (auto st = exec("CREATE INDEX IF NOT EXISTS products_by_trace_code ON products (trace_code)"
                     " WHERE trace_code <> ''");
      !st) {
    error_ = "cannot upgrade SQLite database '" + path + "': " + st.message();
    return;
  }
  if (sqlite3_open_v2(path.c_str(), &writer_db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    error_ = "cannot open SQLite database '" + path + "' for the order writer";
    return;
  }
  sqlite3_busy_timeout(writer_db_, 10000);
  char* err = nullptr;
  if (sqlite3_exec(writer_db_, "PRAGMA synchronous=FULL", nullptr, nullptr, &err) != SQLITE_OK) {
    error_ = std::string("cannot configure the order writer: ") + (err ? err : "?");
    sqlite3_free(err);
  }
}

SqliteStore::~SqliteStore() {
  sqlite3_finalize(insert_order_);
  sqlite3_close_v2(writer_db_);
  sqlite3_close_v2(db_);
}

Status SqliteStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::error(message);
  }
  return Status::ok();
}

Status SqliteStore::create_stream(const StreamRecord& stream) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "INSERT INTO streams (id, stream_key, title, farmer, created_at_ms, owner, scheduled_at_ms, cover,"
              " ended_at_ms) VALUES (?,?,?,?,?,?,?,?,?)");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  s.bind(1, stream.id);
  s.bind(2, stream.stream_key);
  s.bind(3, stream.title);
  s.bind(4, stream.farmer);
  s.bind(5, stream.created_at_ms);
  s.bind(6, stream.owner);
  s.bind(7, stream.scheduled_at_ms);
  s.bind(8, stream.cover);
  s.bind(9, stream.ended_at_ms);
  if (sqlite3_step(s.get()) != SQLITE_DONE) return Status::error(sqlite3_errmsg(db_));
  return Status::ok();
}

std::optional<StreamRecord> SqliteStore::find_stream_where(const char* column, const std::string& value) {
  std::lock_guard lock(mutex_);
  const std::string sql =
      std::string("SELECT id, stream_key, title, farmer, created_at_ms, owner, scheduled_at_ms, cover, ended_at_ms FROM streams WHERE ") + column + " = ?";
  Statement s(db_, sql.c_str());
  if (!s.valid()) return std::nullopt;
  s.bind(1, value);
  if (sqlite3_step(s.get()) != SQLITE_ROW) return std::nullopt;
  return read_stream(s);
}

std::optional<StreamRecord> SqliteStore::find_stream(const std::string& id) { return find_stream_where("id", id); }

std::optional<StreamRecord> SqliteStore::find_stream_by_key(const std::string& stream_key) {
  return find_stream_where("stream_key", stream_key);
}

Status SqliteStore::list_streams(std::vector<StreamRecord>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  Statement s(db_, "SELECT id, stream_key, title, farmer, created_at_ms, owner, scheduled_at_ms, cover, ended_at_ms FROM streams ORDER BY created_at_ms, id");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  int rc = SQLITE_DONE;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(read_stream(s));
  return done(db_, rc);
}

Status SqliteStore::save_products(const std::string& stream_id, const std::vector<commerce::Product>& products) {
  std::lock_guard lock(mutex_);
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
  auto fail = [this](Status st) {
    exec("ROLLBACK");
    return st;
  };
  {
    Statement del(db_, "DELETE FROM products WHERE stream_id = ?");
    if (!del.valid()) return fail(Status::error(sqlite3_errmsg(db_)));
    del.bind(1, stream_id);
    if (sqlite3_step(del.get()) != SQLITE_DONE) return fail(Status::error(sqlite3_errmsg(db_)));
  }
  int64_t position = 0;
  for (const auto& p : products) {
    Statement ins(
        db_,
        "INSERT INTO products (stream_id, id, position, title, price, currency, image, stock_ceiling,"
        " origin, trace_code) VALUES (?,?,?,?,?,?,?,?,?,?)");
    if (!ins.valid()) return fail(Status::error(sqlite3_errmsg(db_)));
    ins.bind(1, stream_id);
    ins.bind(2, p.id);
    ins.bind(3, position++);
    ins.bind(4, p.title);
    ins.bind(5, p.price);
    ins.bind(6, p.currency);
    ins.bind(7, p.image);
    ins.bind(8, p.stock);
    ins.bind(9, origin_text(p.origin));
    ins.bind(10, p.origin.trace_code);
    if (sqlite3_step(ins.get()) != SQLITE_DONE) return fail(Status::error(sqlite3_errmsg(db_)));
  }
  return exec("COMMIT");
}

Status SqliteStore::list_products(const std::string& stream_id, std::vector<commerce::Product>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  Statement s(
      db_,
      "SELECT id, title, price, currency, image, stock_ceiling, origin FROM products WHERE stream_id = ?"
      " ORDER BY position");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  s.bind(1, stream_id);
  int rc = SQLITE_DONE;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(read_product(s));
  return done(db_, rc);
}

Status SqliteStore::find_traced_products(const std::string& trace_code, std::vector<TracedProduct>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  // Newest show first; a catalog whose stream record is gone still answers (LEFT JOIN).
  Statement s(db_,
              "SELECT p.id, p.title, p.price, p.currency, p.image, p.stock_ceiling, p.origin, p.stream_id,"
              " COALESCE(st.owner, '') FROM products p LEFT JOIN streams st ON st.id = p.stream_id"
              " WHERE p.trace_code = ?"
              " ORDER BY COALESCE(st.created_at_ms, 0) DESC, p.stream_id DESC, p.position");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  s.bind(1, trace_code);
  int rc = SQLITE_DONE;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back({s.text(7), s.text(8), read_product(s)});
  if (auto st = done(db_, rc); !st) return st;
  // Then farmers' catalogs (a product not yet in any show; no stream to link to).
  Statement c(db_,
              "SELECT id, title, price, currency, image, 0, origin, owner FROM farmer_products"
              " WHERE trace_code = ?"
              " ORDER BY owner, position");
  if (!c.valid()) return Status::error(sqlite3_errmsg(db_));
  c.bind(1, trace_code);
  while ((rc = sqlite3_step(c.get())) == SQLITE_ROW) out.push_back({"", c.text(7), read_product(c)});
  return done(db_, rc);
}

Status SqliteStore::claim_trace_codes(const std::string& owner, const std::vector<std::string>& codes,
                                      std::string& taken) {
  std::lock_guard lock(mutex_);
  taken.clear();
  const std::set<std::string> sorted(codes.begin(), codes.end());
  const int64_t claimed_at = now_ms();
  // IMMEDIATE: the write lock from the start, so another connection's claim waits for this one.
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
  auto fail = [this](Status st) {
    exec("ROLLBACK");
    return st;
  };
  for (const std::string& code : sorted) {
    if (code.empty()) continue;
    Statement ins(db_,
                  "INSERT INTO trace_codes (code, owner, claimed_at_ms) VALUES (?,?,?)"
                  " ON CONFLICT (code) DO NOTHING");
    if (!ins.valid()) return fail(Status::error(sqlite3_errmsg(db_)));
    ins.bind(1, code);
    ins.bind(2, owner);
    ins.bind(3, claimed_at);
    if (sqlite3_step(ins.get()) != SQLITE_DONE) return fail(Status::error(sqlite3_errmsg(db_)));
    Statement holder(db_, "SELECT owner FROM trace_codes WHERE code = ?");
    if (!holder.valid()) return fail(Status::error(sqlite3_errmsg(db_)));
    holder.bind(1, code);
    if (sqlite3_step(holder.get()) != SQLITE_ROW) return fail(Status::error(sqlite3_errmsg(db_)));
    if (holder.text(0) != owner) {
      // Nothing of this call is kept: a catalog is claimed whole or not at all.
      exec("ROLLBACK");
      taken = code;
      return Status::ok();
    }
  }
  return exec("COMMIT");
}

Status SqliteStore::save_sale(const std::string& stream_id, const commerce::FlashSale& sale) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "INSERT OR REPLACE INTO sales (stream_id, id, product_id, price, quantity, per_buyer_limit,"
              " started_at_ms, ends_at_ms, ended, ended_at_ms, end_reason) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  s.bind(1, stream_id);
  s.bind(2, sale.id);
  s.bind(3, sale.product_id);
  s.bind(4, sale.price);
  s.bind(5, sale.quantity);
  s.bind(6, sale.per_buyer_limit);
  s.bind(7, sale.started_at_ms);
  s.bind(8, sale.ends_at_ms);
  s.bind(9, int64_t{sale.ended ? 1 : 0});
  s.bind(10, sale.ended_at_ms);
  s.bind(11, sale.end_reason);
  if (sqlite3_step(s.get()) != SQLITE_DONE) return Status::error(sqlite3_errmsg(db_));
  return Status::ok();
}

Status SqliteStore::list_sales(const std::string& stream_id, std::vector<commerce::FlashSale>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  Statement s(db_,
              "SELECT id, product_id, price, quantity, per_buyer_limit, started_at_ms, ends_at_ms, ended,"
              " ended_at_ms, end_reason FROM sales WHERE stream_id = ? ORDER BY started_at_ms, id");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  s.bind(1, stream_id);
  int rc = SQLITE_DONE;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    commerce::FlashSale f;
    f.id = s.text(0);
    f.product_id = s.text(1);
    f.price = col_int(s, 2);
    f.quantity = col_int(s, 3);
    f.per_buyer_limit = col_int(s, 4);
    f.started_at_ms = col_int(s, 5);
    f.ends_at_ms = col_int(s, 6);
    f.ended = col_int(s, 7) != 0;
    f.ended_at_ms = col_int(s, 8);
    f.end_reason = s.text(9);
    out.push_back(std::move(f));
  }
  return done(db_, rc);
}


static int read_order_rows(Statement& s, std::vector<commerce::Order>& out) {
  int rc = SQLITE_DONE;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    commerce::Order o;
    o.id = col_int(s, 0);
    o.viewer_id = s.text(1);
    o.idempotency_key = s.text(2);
    o.product_id = s.text(3);
    o.qty = col_int(s, 4);
    o.unit_price = col_int(s, 5);
    o.total = col_int(s, 6);
    o.currency = s.text(7);
    if (sqlite3_column_type(s.get(), 8) != SQLITE_NULL) o.media_time = sqlite3_column_double(s.get(), 8);
    o.card_product_id = s.text(9);
    o.media_card_product_id = s.text(10);
    o.sale_id = s.text(11);
    o.server_time_ms = col_int(s, 12);
    o.replay_session = s.text(13);
    o.media_exposure_id = col_int(s, 14);
    o.status = commerce::status_from_name(s.text(15)).value_or(commerce::OrderStatus::reserved);
    o.pay_by_ms = col_int(s, 16);
    o.payment = s.text(17);
    o.contact = {s.text(18), s.text(19), s.text(20)};
    o.carrier = s.text(21);
    o.tracking = s.text(22);
    o.reason = s.text(23);
    o.payment_id = s.text(24);
    o.flag = s.text(25);
    o.updated_at_ms = col_int(s, 26);
    o.paid_at_ms = col_int(s, 27);
    o.shipped_at_ms = col_int(s, 28);
    o.delivered_at_ms = col_int(s, 29);
    o.stream_id = s.text(30);
    out.push_back(std::move(o));
  }
  return rc;
}

Status SqliteStore::list_orders(const std::string& stream_id, std::vector<commerce::Order>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  Statement s(db_, (std::string(kSelectOrders) + "WHERE stream_id = ? ORDER BY id").c_str());
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  s.bind(1, stream_id);
  return done(db_, read_order_rows(s, out));
}

Status SqliteStore::find_order(int64_t order_id, std::optional<commerce::Order>& out) {
  std::lock_guard lock(mutex_);
  out.reset();
  Statement s(db_, (std::string(kSelectOrders) + "WHERE id = ?").c_str());
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  s.bind(1, order_id);
  std::vector<commerce::Order> rows;
  const int rc = read_order_rows(s, rows);
  if (!rows.empty()) out = std::move(rows.front());
  return done(db_, rc);
}

Status SqliteStore::list_streams_with_due_orders(int64_t now_ms, std::vector<std::string>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  Statement s(db_,
              "SELECT DISTINCT stream_id FROM orders WHERE status = 'reserved' AND pay_by_ms > 0 AND pay_by_ms <= ?");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  s.bind(1, now_ms);
  int rc = SQLITE_DONE;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(s.text(0));
  return done(db_, rc);
}

int64_t SqliteStore::max_order_id() {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT COALESCE(MAX(id), 0) FROM orders");
  if (!s.valid() || sqlite3_step(s.get()) != SQLITE_ROW) return 0;
  return col_int(s, 0);
}

Status SqliteStore::commit_orders(const std::vector<commerce::Order>& orders, std::vector<commerce::Committed>& results) {
  results.clear();
  std::lock_guard lock(writer_mutex_);
  auto run = [this](const char* sql) -> Status {
    char* err = nullptr;
    if (sqlite3_exec(writer_db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = err ? err : "unknown error";
      sqlite3_free(err);
      return Status::error(message);
    }
    return Status::ok();
  };
  if (auto st = run("BEGIN IMMEDIATE"); !st) return st;
  // Prepared once for the writer's connection (the hot path: one row per order).
  if (insert_order_ == nullptr &&
      sqlite3_prepare_v3(writer_db_,
                         "INSERT INTO orders (id, stream_id, viewer_id, idempotency_key, product_id, qty, unit_price,"
                         " total, currency, media_time, card_product_id, media_card_product_id, sale_id, server_time_ms,"
                         " replay_session, media_exposure_id, status, pay_by_ms, updated_at_ms)"
                         " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         -1, SQLITE_PREPARE_PERSISTENT, &insert_order_, nullptr) != SQLITE_OK) {
    Status st = Status::error(sqlite3_errmsg(writer_db_));
    sqlite3_finalize(insert_order_);
    insert_order_ = nullptr;
    run("ROLLBACK");
    return st;
  }
  sqlite3_stmt* ins = insert_order_;
  // `orders` outlives every step: its strings are bound without copies.
  auto text = [ins](int index, const std::string& v) {
    sqlite3_bind_text(ins, index, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  };
  for (const auto& o : orders) {
    sqlite3_reset(ins);
    sqlite3_bind_int64(ins, 1, o.id);
    text(2, o.stream_id);
    text(3, o.viewer_id);
    text(4, o.idempotency_key);
    text(5, o.product_id);
    sqlite3_bind_int64(ins, 6, o.qty);
    sqlite3_bind_int64(ins, 7, o.unit_price);
    sqlite3_bind_int64(ins, 8, o.total);
    text(9, o.currency);
    if (o.media_time) sqlite3_bind_double(ins, 10, *o.media_time);
    else sqlite3_bind_null(ins, 10);
    text(11, o.card_product_id);
    text(12, o.media_card_product_id);
    text(13, o.sale_id);
    sqlite3_bind_int64(ins, 14, o.server_time_ms);
    text(15, o.replay_session);
    sqlite3_bind_int64(ins, 16, o.media_exposure_id);
    sqlite3_bind_text(ins, 17, commerce::status_name(o.status), -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 18, o.pay_by_ms);
    sqlite3_bind_int64(ins, 19, o.updated_at_ms);
    if (sqlite3_step(ins) != SQLITE_DONE) {
      Status st = Status::error(sqlite3_errmsg(writer_db_));
      sqlite3_reset(ins);
      sqlite3_clear_bindings(ins);
      run("ROLLBACK");
      return st;
    }
  }
  sqlite3_reset(ins);
  sqlite3_clear_bindings(ins);  // no pointers into `orders` outlive this call
  return run("COMMIT");
}

Status SqliteStore::commit_order_changes(const std::vector<commerce::Order>& changed,
                                        const std::vector<commerce::PaymentRecord>& payments,
                                        std::vector<commerce::Committed>& results) {
  results.clear();
  std::lock_guard lock(writer_mutex_);
  char* err = nullptr;
  auto fail = [&](const char* what) {
    Status st = Status::error(std::string(what) + ": " + (err ? err : sqlite3_errmsg(writer_db_)));
    sqlite3_free(err);
    sqlite3_exec(writer_db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  };
  if (sqlite3_exec(writer_db_, "BEGIN IMMEDIATE", nullptr, nullptr, &err) != SQLITE_OK) return fail("begin");
  {
    // Everything that changes after the buy; the buy's own columns never do.
    Statement up(writer_db_,
                 "UPDATE orders SET status = ?, pay_by_ms = ?, payment = ?, contact_name = ?, contact_phone = ?,"
                 " contact_address = ?, carrier = ?, tracking = ?, reason = ?, payment_id = ?, flag = ?,"
                 " updated_at_ms = ?, paid_at_ms = ?, shipped_at_ms = ?, delivered_at_ms = ? WHERE id = ?");
    if (!up.valid()) return fail("prepare");
    for (const auto& o : changed) {
      sqlite3_reset(up.get());
      up.bind(1, std::string(commerce::status_name(o.status)));
      up.bind(2, o.pay_by_ms);
      up.bind(3, o.payment);
      up.bind(4, o.contact.name);
      up.bind(5, o.contact.phone);
      up.bind(6, o.contact.address);
      up.bind(7, o.carrier);
      up.bind(8, o.tracking);
      up.bind(9, o.reason);
      up.bind(10, o.payment_id);
      up.bind(11, o.flag);
      up.bind(12, o.updated_at_ms);
      up.bind(13, o.paid_at_ms);
      up.bind(14, o.shipped_at_ms);
      up.bind(15, o.delivered_at_ms);
      up.bind(16, o.id);
      if (sqlite3_step(up.get()) != SQLITE_DONE) return fail("update");
      if (sqlite3_changes(writer_db_) != 1) return fail("update of an order that is not stored");
    }
    Statement pay(writer_db_,
                  "INSERT INTO payments (payment_id, order_id, amount, currency, outcome, at_ms) VALUES (?,?,?,?,?,?)");
    if (!pay.valid()) return fail("prepare");
    for (const auto& p : payments) {
      sqlite3_reset(pay.get());
      pay.bind(1, p.payment_id);
      pay.bind(2, p.order_id);
      pay.bind(3, p.amount);
      pay.bind(4, p.currency);
      pay.bind(5, p.outcome);
      pay.bind(6, p.at_ms);
      if (sqlite3_step(pay.get()) != SQLITE_DONE) return fail("insert payment");
    }
  }
  if (sqlite3_exec(writer_db_, "COMMIT", nullptr, nullptr, &err) != SQLITE_OK) return fail("commit");
  return Status::ok();
}

Status SqliteStore::list_payments(std::vector<commerce::PaymentRecord>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  Statement s(db_, "SELECT payment_id, order_id, amount, currency, outcome, at_ms FROM payments ORDER BY at_ms");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  int rc = SQLITE_DONE;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW)
    out.push_back({s.text(0), col_int(s, 1), col_int(s, 2), s.text(3), s.text(4), col_int(s, 5)});
  return done(db_, rc);
}

Status SqliteStore::commit_rejections(const std::vector<commerce::RejectedBuy>& rejections) {
  std::lock_guard lock(writer_mutex_);
  char* err = nullptr;
  auto fail = [&](const char* what) {
    Status st = Status::error(std::string(what) + ": " + (err ? err : sqlite3_errmsg(writer_db_)));
    sqlite3_free(err);
    sqlite3_exec(writer_db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  };
  if (sqlite3_exec(writer_db_, "BEGIN IMMEDIATE", nullptr, nullptr, &err) != SQLITE_OK) return fail("begin");
  {
    Statement s(writer_db_,
                "INSERT OR IGNORE INTO rejections (stream_id, viewer_id, idempotency_key, reason, at_ms)"
                " VALUES (?,?,?,?,?)");
    if (!s.valid()) return fail("prepare");
    for (const auto& r : rejections) {
      sqlite3_reset(s.get());
      s.bind(1, r.stream_id);
      s.bind(2, r.viewer_id);
      s.bind(3, r.idempotency_key);
      s.bind(4, std::string(commerce::rejection_name(r.reason)));
      s.bind(5, r.at_ms);
      if (sqlite3_step(s.get()) != SQLITE_DONE) return fail("insert");
    }
  }
  if (sqlite3_exec(writer_db_, "COMMIT", nullptr, nullptr, &err) != SQLITE_OK) return fail("commit");
  return Status::ok();
}

Status SqliteStore::list_rejections(const std::string& stream_id, std::vector<commerce::RejectedBuy>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  Statement s(db_,
              "SELECT viewer_id, idempotency_key, reason, at_ms FROM rejections WHERE stream_id = ? ORDER BY at_ms");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  s.bind(1, stream_id);
  int rc = SQLITE_DONE;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    const auto reason = commerce::rejection_from_name(s.text(2));
    if (!reason) continue;  // written by a newer version: decided again
    out.push_back(commerce::RejectedBuy{stream_id, s.text(0), s.text(1), *reason, col_int(s, 3)});
  }
  return done(db_, rc);
}

Status SqliteStore::save_exposure(const show::CardExposure& e) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "INSERT OR REPLACE INTO card_exposures (stream_id, id, session_id, product_id, change_id, shown_pts,"
              " shown_pdt_ms, hidden_pts, hidden_pdt_ms) VALUES (?,?,?,?,?,?,?,?,?)");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  s.bind(1, e.stream_id);
  s.bind(2, e.id);
  s.bind(3, e.session_id);
  s.bind(4, e.product_id);
  s.bind(5, static_cast<int64_t>(e.change_id));
  sqlite3_bind_double(s.get(), 6, e.shown_pts);
  s.bind(7, e.shown_pdt_ms);
  if (e.hidden_pts) sqlite3_bind_double(s.get(), 8, *e.hidden_pts);
  else sqlite3_bind_null(s.get(), 8);
  if (e.hidden_pdt_ms) s.bind(9, *e.hidden_pdt_ms);
  else sqlite3_bind_null(s.get(), 9);
  if (sqlite3_step(s.get()) != SQLITE_DONE) return Status::error(sqlite3_errmsg(db_));
  return Status::ok();
}

Status SqliteStore::list_exposures(std::vector<show::CardExposure>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  Statement s(db_,
              "SELECT stream_id, id, session_id, product_id, change_id, shown_pts, shown_pdt_ms, hidden_pts,"
              " hidden_pdt_ms FROM card_exposures ORDER BY id");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  int rc = SQLITE_DONE;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    show::CardExposure e;
    e.stream_id = s.text(0);
    e.id = col_int(s, 1);
    e.session_id = s.text(2);
    e.product_id = s.text(3);
    e.change_id = static_cast<uint64_t>(col_int(s, 4));
    e.shown_pts = sqlite3_column_double(s.get(), 5);
    e.shown_pdt_ms = col_int(s, 6);
    if (sqlite3_column_type(s.get(), 7) != SQLITE_NULL) e.hidden_pts = sqlite3_column_double(s.get(), 7);
    if (sqlite3_column_type(s.get(), 8) != SQLITE_NULL) e.hidden_pdt_ms = col_int(s, 8);
    out.push_back(std::move(e));
  }
  return done(db_, rc);
}

Status SqliteStore::save_restream(const std::string& stream_id, const std::string& url) {
  std::lock_guard lock(mutex_);
  Statement s(db_, url.empty() ? "DELETE FROM restreams WHERE stream_id = ?"
                               : "INSERT OR REPLACE INTO restreams (stream_id, url, updated_at_ms) VALUES (?,?,?)");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  s.bind(1, stream_id);
  if (!url.empty()) {
    s.bind(2, url);
    s.bind(3, now_ms());
  }
  if (sqlite3_step(s.get()) != SQLITE_DONE) return Status::error(sqlite3_errmsg(db_));
  return Status::ok();
}

Status SqliteStore::list_restreams(std::vector<std::pair<std::string, std::string>>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  Statement s(db_, "SELECT stream_id, url FROM restreams ORDER BY stream_id");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  int rc = SQLITE_DONE;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.emplace_back(s.text(0), s.text(1));
  return done(db_, rc);
}

}  // namespace harvest::store

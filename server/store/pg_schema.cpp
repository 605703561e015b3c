// The PostgreSQL store's schema, as numbered migrations. Each is applied once, at start, in
// its own transaction that also records its number in schema_migrations; an advisory lock
// makes nodes that start together take turns (the second finds the work done).
// Add a migration at the end; never edit one that has shipped.
#include "store/pg_store.h"

namespace harvest::store {
namespace {

struct Migration {
  int version;
  const char* sql;
};

const Migration kMigrations[] = {
    {1,
     "CREATE TABLE streams ("
     " id TEXT PRIMARY KEY, stream_key TEXT NOT NULL UNIQUE, title TEXT NOT NULL, farmer TEXT NOT NULL,"
     " created_at_ms BIGINT NOT NULL, owner TEXT NOT NULL DEFAULT '', scheduled_at_ms BIGINT NOT NULL "
     "DEFAULT 0,"
     " cover TEXT NOT NULL DEFAULT '', ended_at_ms BIGINT NOT NULL DEFAULT 0);"
     // `sold`: units held by stored orders; units left = stock_ceiling - sold, decided here.
     "CREATE TABLE products ("
     " stream_id TEXT NOT NULL, id TEXT NOT NULL, position INTEGER NOT NULL, title TEXT NOT NULL,"
     " price BIGINT NOT NULL, currency TEXT NOT NULL, image TEXT NOT NULL, stock_ceiling BIGINT NOT NULL,"
     " sold BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (stream_id, id));"
     "CREATE TABLE sales ("
     " stream_id TEXT NOT NULL, id TEXT NOT NULL, product_id TEXT NOT NULL, price BIGINT NOT NULL,"
     " quantity BIGINT NOT NULL, per_buyer_limit BIGINT NOT NULL, started_at_ms BIGINT NOT NULL,"
     " ends_at_ms BIGINT NOT NULL, ended BOOLEAN NOT NULL, ended_at_ms BIGINT NOT NULL,"
     " end_reason TEXT NOT NULL, sold BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (stream_id, id));"
     "CREATE TABLE orders ("
     " id BIGINT PRIMARY KEY, stream_id TEXT NOT NULL, viewer_id TEXT NOT NULL,"
     " idempotency_key TEXT NOT NULL, product_id TEXT NOT NULL, qty BIGINT NOT NULL,"
     " unit_price BIGINT NOT NULL, total BIGINT NOT NULL, currency TEXT NOT NULL, media_time DOUBLE "
     "PRECISION,"
     " card_product_id TEXT NOT NULL, media_card_product_id TEXT NOT NULL, sale_id TEXT NOT NULL,"
     " server_time_ms BIGINT NOT NULL, replay_session TEXT NOT NULL DEFAULT '',"
     " media_exposure_id BIGINT NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'reserved',"
     " pay_by_ms BIGINT NOT NULL DEFAULT 0, payment TEXT NOT NULL DEFAULT '', contact_name TEXT NOT NULL "
     "DEFAULT '',"
     " contact_phone TEXT NOT NULL DEFAULT '', contact_address TEXT NOT NULL DEFAULT '',"
     " carrier TEXT NOT NULL DEFAULT '', tracking TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '',"
     " payment_id TEXT NOT NULL DEFAULT '', flag TEXT NOT NULL DEFAULT '', updated_at_ms BIGINT NOT NULL "
     "DEFAULT 0,"
     " paid_at_ms BIGINT NOT NULL DEFAULT 0, shipped_at_ms BIGINT NOT NULL DEFAULT 0,"
     " delivered_at_ms BIGINT NOT NULL DEFAULT 0, UNIQUE (stream_id, viewer_id, idempotency_key));"
     "CREATE INDEX orders_by_stream ON orders (stream_id, id);"
     // Order ids are handed out in blocks, one block per node start (PgStore::max_order_id).
     "CREATE SEQUENCE order_id_blocks;"
     "CREATE TABLE card_exposures ("
     " stream_id TEXT NOT NULL, id BIGINT NOT NULL, session_id TEXT NOT NULL, product_id TEXT NOT NULL,"
     " change_id BIGINT NOT NULL, shown_pts DOUBLE PRECISION NOT NULL, shown_pdt_ms BIGINT NOT NULL,"
     " hidden_pts DOUBLE PRECISION, hidden_pdt_ms BIGINT, PRIMARY KEY (stream_id, id));"
     "CREATE TABLE rejections ("
     " stream_id TEXT NOT NULL, viewer_id TEXT NOT NULL, idempotency_key TEXT NOT NULL, reason TEXT NOT NULL,"
     " at_ms BIGINT NOT NULL, PRIMARY KEY (stream_id, viewer_id, idempotency_key));"
     "CREATE TABLE restreams (stream_id TEXT PRIMARY KEY, url TEXT NOT NULL, updated_at_ms BIGINT NOT NULL);"
     "CREATE TABLE payments ("
     " payment_id TEXT PRIMARY KEY, order_id BIGINT NOT NULL, amount BIGINT NOT NULL,"
     " currency TEXT NOT NULL, outcome TEXT NOT NULL, at_ms BIGINT NOT NULL);"
     "CREATE TABLE accounts ("
     " id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, name TEXT NOT NULL, password_hash TEXT NOT NULL,"
     " disabled BOOLEAN NOT NULL, created_at_ms BIGINT NOT NULL);"
     "CREATE TABLE sessions ("
     " token_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL, created_at_ms BIGINT NOT NULL,"
     " expires_at_ms BIGINT NOT NULL);"
     "CREATE INDEX sessions_by_account ON sessions (account_id);"
     "CREATE TABLE invites ("
     " code_hash TEXT PRIMARY KEY, name TEXT NOT NULL, created_at_ms BIGINT NOT NULL,"
     " expires_at_ms BIGINT NOT NULL, used BOOLEAN NOT NULL);"
     "CREATE TABLE farmer_products ("
     " owner TEXT NOT NULL, id TEXT NOT NULL, position INTEGER NOT NULL, title TEXT NOT NULL,"
     " price BIGINT NOT NULL, currency TEXT NOT NULL, image TEXT NOT NULL, origin TEXT NOT NULL,"
     " PRIMARY KEY (owner, id));"},
    // Traceability (issue 18): a product's origin record as origin_json() text ('' none), and
    // its trace code apart, indexed, for GET /api/trace/{code}; in shows and farmers' catalogs.
    {2,
     "ALTER TABLE products ADD COLUMN origin TEXT NOT NULL DEFAULT '',"
     " ADD COLUMN trace_code TEXT NOT NULL DEFAULT '';"
     "CREATE INDEX products_by_trace_code ON products (trace_code) WHERE trace_code <> '';"
     "ALTER TABLE farmer_products ADD COLUMN trace_code TEXT NOT NULL DEFAULT '';"
     "CREATE INDEX farmer_products_by_trace_code ON farmer_products (trace_code) WHERE trace_code <> '';"},
    // Security review (issue 21): a trace code is the first account's that claims it
    // (Store::claim_trace_codes); the primary key decides between nodes claiming it at once.
    {3,
     "CREATE TABLE trace_codes ("
     " code TEXT PRIMARY KEY, owner TEXT NOT NULL, claimed_at_ms BIGINT NOT NULL);"},
};

// Any constant: the lock that serialises migrations across nodes ("harvest" in ASCII).
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(6872737665737400)";

}  // namespace

Status PgStore::migrate() {
  // Under the lock too: two nodes creating it at once would collide in the catalog.
  if (auto st = db_.exec("BEGIN"); !st) return st;
  if (auto st = db_.exec(kMigrationLock); !st) return db_.abort(st);
  if (auto st = db_.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                         " version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
      !st)
    return db_.abort(st);
  if (auto st = db_.exec("COMMIT"); !st) return st;
  for (const auto& m : kMigrations) {
    if (auto st = db_.exec("BEGIN"); !st) return st;
    if (auto st = db_.exec(kMigrationLock); !st) return db_.abort(st);
    PgResult has = db_.run("migration_applied", "SELECT 1 FROM schema_migrations WHERE version = $1",
                           PgParams().integer(m.version));
    if (!has.ok()) return db_.abort(Status::error(has.error()));
    if (has.rows() != 0) {
      if (auto st = db_.exec("COMMIT"); !st) return st;
      continue;
    }
    if (auto st = db_.exec(m.sql); !st)
      return db_.abort(Status::error("migration " + std::to_string(m.version) + ": " + st.message()));
    PgResult done = db_.run("migration_done", "INSERT INTO schema_migrations (version) VALUES ($1)",
                            PgParams().integer(m.version));
    if (!done.ok()) return db_.abort(Status::error(done.error()));
    if (auto st = db_.exec("COMMIT"); !st) return st;
  }
  return Status::ok();
}

}  // namespace harvest::store

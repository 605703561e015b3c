// The SQLite store's accounts, sessions, invites, farmer catalogs and the columns issue 18
// added to streams.
#include <nlohmann/json.hpp>

#include "commerce/origin_json.h"

#include "store/sqlite_statement.h"
#include "store/sqlite_store.h"

namespace harvest::store {
namespace {

const char* const kAccountSchema =
    "CREATE TABLE IF NOT EXISTS accounts ("
    " id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, name TEXT NOT NULL, password_hash TEXT NOT NULL,"
    " disabled INTEGER NOT NULL, created_at_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sessions ("
    " token_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL, created_at_ms INTEGER NOT NULL,"
    " expires_at_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS sessions_by_account ON sessions (account_id);"
    "CREATE TABLE IF NOT EXISTS invites ("
    " code_hash TEXT PRIMARY KEY, name TEXT NOT NULL, created_at_ms INTEGER NOT NULL,"
    " expires_at_ms INTEGER NOT NULL, used INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS farmer_products ("
    " owner TEXT NOT NULL, id TEXT NOT NULL, position INTEGER NOT NULL, title TEXT NOT NULL,"
    " price INTEGER NOT NULL, currency TEXT NOT NULL, image TEXT NOT NULL, origin TEXT NOT NULL,"
    " trace_code TEXT NOT NULL, PRIMARY KEY (owner, id));"
    "CREATE INDEX IF NOT EXISTS farmer_products_by_trace_code ON farmer_products (trace_code);";

const char* const kStreamColumns[][2] = {
    {"owner", "ALTER TABLE streams ADD COLUMN owner TEXT NOT NULL DEFAULT ''"},
    {"scheduled_at_ms", "ALTER TABLE streams ADD COLUMN scheduled_at_ms INTEGER NOT NULL DEFAULT 0"},
    {"cover", "ALTER TABLE streams ADD COLUMN cover TEXT NOT NULL DEFAULT ''"},
    {"ended_at_ms", "ALTER TABLE streams ADD COLUMN ended_at_ms INTEGER NOT NULL DEFAULT 0"},
};

// The origin record as origin_json() text in one column ('' none): read and written whole,
// never queried.
std::string catalog_origin_text(const commerce::Origin& o) {
  return o.empty() ? std::string()
                   : commerce::origin_json(o).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

commerce::Origin catalog_origin(const std::string& text) {
  commerce::Origin o;
  if (!text.empty()) commerce::origin_from_json(nlohmann::json::parse(text, nullptr, false), o);
  return o;
}

}  // namespace

Status SqliteStore::run(sqlite3_stmt* s) {
  if (s == nullptr) return Status::error(sqlite3_errmsg(db_));
  return sqlite3_step(s) == SQLITE_DONE ? Status::ok() : Status::error(sqlite3_errmsg(db_));
}

Status SqliteStore::migrate_accounts() {
  if (auto st = exec(kAccountSchema); !st) return st;
  for (const auto& [column, alter] : kStreamColumns) {
    Statement has(db_, "SELECT COUNT(*) FROM pragma_table_info('streams') WHERE name = ?");
    has.bind(1, std::string(column));
    if (!has.valid() || sqlite3_step(has.get()) != SQLITE_ROW) return Status::error("cannot inspect the streams table");
    if (sqlite3_column_int64(has.get(), 0) != 0) continue;
    if (auto st = exec(alter); !st) return st;
  }
  return Status::ok();
}

Status SqliteStore::update_stream(const StreamRecord& stream) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "UPDATE streams SET stream_key = ?, title = ?, farmer = ?, owner = ?, scheduled_at_ms = ?, cover = ?,"
              " ended_at_ms = ? WHERE id = ?");
  s.bind(1, stream.stream_key);
  s.bind(2, stream.title);
  s.bind(3, stream.farmer);
  s.bind(4, stream.owner);
  s.bind(5, stream.scheduled_at_ms);
  s.bind(6, stream.cover);
  s.bind(7, stream.ended_at_ms);
  s.bind(8, stream.id);
  return run(s.get());
}

Status SqliteStore::save_account(const accounts::Account& a) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "INSERT OR REPLACE INTO accounts (id, username, name, password_hash, disabled, created_at_ms)"
              " VALUES (?,?,?,?,?,?)");
  s.bind(1, a.id);
  s.bind(2, a.username);
  s.bind(3, a.name);
  s.bind(4, a.password_hash);
  s.bind(5, int64_t{a.disabled ? 1 : 0});
  s.bind(6, a.created_at_ms);
  return run(s.get());
}

Status SqliteStore::list_accounts(std::vector<accounts::Account>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  Statement s(db_, "SELECT id, username, name, password_hash, disabled, created_at_ms FROM accounts ORDER BY created_at_ms");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  int rc = SQLITE_DONE;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW)
    out.push_back({.id = s.text(0), .username = s.text(1), .name = s.text(2), .password_hash = s.text(3),
                   .disabled = col_int(s, 4) != 0, .created_at_ms = col_int(s, 5)});
  return done(db_, rc);
}

Status SqliteStore::save_session(const accounts::Session& session) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "INSERT OR REPLACE INTO sessions (token_hash, account_id, created_at_ms, expires_at_ms) VALUES (?,?,?,?)");
  s.bind(1, session.token_hash);
  s.bind(2, session.account_id);
  s.bind(3, session.created_at_ms);
  s.bind(4, session.expires_at_ms);
  return run(s.get());
}

Status SqliteStore::delete_session(const std::string& token_hash) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "DELETE FROM sessions WHERE token_hash = ?");
  s.bind(1, token_hash);
  return run(s.get());
}

Status SqliteStore::delete_sessions_of(const std::string& account_id) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "DELETE FROM sessions WHERE account_id = ?");
  s.bind(1, account_id);
  return run(s.get());
}

Status SqliteStore::list_sessions(std::vector<accounts::Session>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  Statement s(db_, "SELECT token_hash, account_id, created_at_ms, expires_at_ms FROM sessions");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  int rc = SQLITE_DONE;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW)
    out.push_back({.token_hash = s.text(0), .account_id = s.text(1), .created_at_ms = col_int(s, 2),
                   .expires_at_ms = col_int(s, 3)});
  return done(db_, rc);
}

Status SqliteStore::save_invite(const accounts::Invite& invite) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "INSERT OR REPLACE INTO invites (code_hash, name, created_at_ms, expires_at_ms, used) VALUES (?,?,?,?,?)");
  s.bind(1, invite.code_hash);
  s.bind(2, invite.name);
  s.bind(3, invite.created_at_ms);
  s.bind(4, invite.expires_at_ms);
  s.bind(5, int64_t{invite.used ? 1 : 0});
  return run(s.get());
}

Status SqliteStore::list_invites(std::vector<accounts::Invite>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  Statement s(db_, "SELECT code_hash, name, created_at_ms, expires_at_ms, used FROM invites");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  int rc = SQLITE_DONE;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW)
    out.push_back({.code_hash = s.text(0), .name = s.text(1), .created_at_ms = col_int(s, 2),
                   .expires_at_ms = col_int(s, 3), .used = col_int(s, 4) != 0});
  return done(db_, rc);
}

Status SqliteStore::save_farmer_catalog(const std::string& owner, const std::vector<commerce::Product>& products) {
  std::lock_guard lock(mutex_);
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
  auto fail = [this](Status st) {
    exec("ROLLBACK");
    return st;
  };
  Statement del(db_, "DELETE FROM farmer_products WHERE owner = ?");
  del.bind(1, owner);
  if (auto st = run(del.get()); !st) return fail(st);
  int64_t position = 0;
  for (const auto& p : products) {
    Statement ins(db_,
                  "INSERT INTO farmer_products (owner, id, position, title, price, currency, image, origin, trace_code)"
                  " VALUES (?,?,?,?,?,?,?,?,?)");
    ins.bind(1, owner);
    ins.bind(2, p.id);
    ins.bind(3, position++);
    ins.bind(4, p.title);
    ins.bind(5, p.price);
    ins.bind(6, p.currency);
    ins.bind(7, p.image);
    ins.bind(8, catalog_origin_text(p.origin));
    ins.bind(9, p.origin.trace_code);
    if (auto st = run(ins.get()); !st) return fail(st);
  }
  return exec("COMMIT");
}

Status SqliteStore::list_farmer_catalog(const std::string& owner, std::vector<commerce::Product>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  Statement s(db_,
              "SELECT id, title, price, currency, image, origin FROM farmer_products WHERE owner = ? ORDER BY position");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  s.bind(1, owner);
  int rc = SQLITE_DONE;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    commerce::Product p;
    p.id = s.text(0);
    p.title = s.text(1);
    p.price = col_int(s, 2);
    p.currency = s.text(3);
    p.image = s.text(4);
    p.origin = catalog_origin(s.text(5));
    out.push_back(std::move(p));
  }
  return done(db_, rc);
}

}  // namespace harvest::store

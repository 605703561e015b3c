// The PostgreSQL store's accounts, sessions, invites and farmer catalogs (rare writes on the
// loop's connection).
#include "store/pg_store.h"

namespace harvest::store {

namespace {

Status result(const PgResult& r) { return r.ok() ? Status::ok() : Status::error(r.error()); }

}  // namespace

Status PgStore::save_account(const accounts::Account& a) {
  std::lock_guard lock(mutex_);
  return write("save_account",
               "INSERT INTO accounts (id, username, name, password_hash, disabled, created_at_ms)"
               " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username,"
               " name = EXCLUDED.name, password_hash = EXCLUDED.password_hash, disabled = EXCLUDED.disabled,"
               " created_at_ms = EXCLUDED.created_at_ms",
               PgParams()
                   .text(a.id)
                   .text(a.username)
                   .text(a.name)
                   .text(a.password_hash)
                   .boolean(a.disabled)
                   .integer(a.created_at_ms));
}

Status PgStore::list_accounts(std::vector<accounts::Account>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  PgResult r = db_.run("list_accounts",
                       "SELECT id, username, name, password_hash, disabled, created_at_ms FROM accounts"
                       " ORDER BY created_at_ms, id",
                       PgParams());
  if (!r.ok()) return result(r);
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({.id = r.text(i, 0),
                   .username = r.text(i, 1),
                   .name = r.text(i, 2),
                   .password_hash = r.text(i, 3),
                   .disabled = r.text(i, 4) == "t",
                   .created_at_ms = r.integer(i, 5)});
  return Status::ok();
}

Status PgStore::save_session(const accounts::Session& s) {
  std::lock_guard lock(mutex_);
  return write(
      "save_session",
      "INSERT INTO sessions (token_hash, account_id, created_at_ms, expires_at_ms) VALUES ($1,$2,$3,$4)"
      " ON CONFLICT (token_hash) DO UPDATE SET account_id = EXCLUDED.account_id,"
      " created_at_ms = EXCLUDED.created_at_ms, expires_at_ms = EXCLUDED.expires_at_ms",
      PgParams().text(s.token_hash).text(s.account_id).integer(s.created_at_ms).integer(s.expires_at_ms));
}

Status PgStore::delete_session(const std::string& token_hash) {
  std::lock_guard lock(mutex_);
  return write("delete_session", "DELETE FROM sessions WHERE token_hash = $1", PgParams().text(token_hash));
}

Status PgStore::delete_sessions_of(const std::string& account_id) {
  std::lock_guard lock(mutex_);
  return write("delete_sessions_of", "DELETE FROM sessions WHERE account_id = $1",
               PgParams().text(account_id));
}

Status PgStore::list_sessions(std::vector<accounts::Session>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  PgResult r =
      db_.run("list_sessions", "SELECT token_hash, account_id, created_at_ms, expires_at_ms FROM sessions",
              PgParams());
  if (!r.ok()) return result(r);
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({.token_hash = r.text(i, 0),
                   .account_id = r.text(i, 1),
                   .created_at_ms = r.integer(i, 2),
                   .expires_at_ms = r.integer(i, 3)});
  return Status::ok();
}

Status PgStore::save_invite(const accounts::Invite& invite) {
  std::lock_guard lock(mutex_);
  return write(
      "save_invite",
      "INSERT INTO invites (code_hash, name, created_at_ms, expires_at_ms, used) VALUES ($1,$2,$3,$4,$5)"
      " ON CONFLICT (code_hash) DO UPDATE SET name = EXCLUDED.name, created_at_ms = EXCLUDED.created_at_ms,"
      " expires_at_ms = EXCLUDED.expires_at_ms, used = EXCLUDED.used",
      PgParams()
          .text(invite.code_hash)
          .text(invite.name)
          .integer(invite.created_at_ms)
          .integer(invite.expires_at_ms)
          .boolean(invite.used));
}

Status PgStore::list_invites(std::vector<accounts::Invite>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  PgResult r = db_.run("list_invites",
                       "SELECT code_hash, name, created_at_ms, expires_at_ms, used FROM invites", PgParams());
  if (!r.ok()) return result(r);
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({.code_hash = r.text(i, 0),
                   .name = r.text(i, 1),
                   .created_at_ms = r.integer(i, 2),
                   .expires_at_ms = r.integer(i, 3),
                   .used = r.text(i, 4) == "t"});
  return Status::ok();
}

Status PgStore::save_farmer_catalog(const std::string& owner,
                                    const std::vector<commerce::Product>& products) {
  std::lock_guard lock(mutex_);
  if (auto st = db_.exec("BEGIN"); !st) return st;
  PgResult del = db_.run("delete_farmer_products", "DELETE FROM farmer_products WHERE owner = $1",
                         PgParams().text(owner));
  if (!del.ok()) return db_.abort(result(del));
  int64_t position = 0;
  for (const auto& p : products) {
    PgResult ins =
        db_.run("insert_farmer_product",
                "INSERT INTO farmer_products (owner, id, position, title, price, currency, image, origin,"
                " trace_code) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
                PgParams()
                    .text(owner)
                    .text(p.id)
                    .integer(position++)
                    .text(p.title)
                    .integer(p.price)
                    .text(p.currency)
                    .text(p.image)
                    .text(pg_origin_text(p.origin))
                    .text(p.origin.trace_code));
    if (!ins.ok()) return db_.abort(result(ins));
  }
  return db_.exec("COMMIT");
}

Status PgStore::list_farmer_catalog(const std::string& owner, std::vector<commerce::Product>& out) {
  std::lock_guard lock(mutex_);
  out.clear();
  PgResult r =
      db_.run("list_farmer_catalog",
              "SELECT id, title, price, currency, image, origin FROM farmer_products WHERE owner = $1"
              " ORDER BY position",
              PgParams().text(owner));
  if (!r.ok()) return result(r);
  for (int i = 0; i < r.rows(); ++i) {
    commerce::Product p;
    p.id = r.text(i, 0);
    p.title = r.text(i, 1);
    p.price = r.integer(i, 2);
    p.currency = r.text(i, 3);
    p.image = r.text(i, 4);
    p.origin = pg_origin(r.text(i, 5));
    out.push_back(std::move(p));
  }
  return Status::ok();
}

}  // namespace harvest::store

#pragma once
// PostgreSQL backend (issue 19): several server nodes share one database. Unlike SQLite (one
// node, whose memory decides stock), the database decides: each group commit of buys locks
// the group's product and sale rows once (one lock per product per group, not per buy), keeps
// the buys that fit, inserts them (the idempotency key is a unique constraint) and refuses the
// rest (Verdict::sold_out / duplicate). An expiry is a conditional update: only the node whose
// update finds the order still reserved gives its units back.
//
// Connections: the loop's (reads, rare writes) and the order writer's, each with its own
// statements prepared on first use; the read-only handle (store::ReadWorker) is a third.
#include <mutex>
#include <string>

#include "store/pg_connection.h"
#include "store/store.h"

namespace harvest::store {

class PgStore final : public Store {
 public:
  enum class Access { read_write, read_only };
  // Connects to `url` (postgres://user@host:port/db) and applies the migrations not yet
  // applied (read_write; pg_schema.cpp). Check error() afterwards.
  explicit PgStore(const std::string& url, Access access = Access::read_write);
  const std::string& error() const { return error_; }

  Status create_stream(const StreamRecord& stream) override;
  std::optional<StreamRecord> find_stream(const std::string& id) override;
  std::optional<StreamRecord> find_stream_by_key(const std::string& stream_key) override;
  Status list_streams(std::vector<StreamRecord>& out) override;
  Status update_stream(const StreamRecord& stream) override;

  // --- accounts (pg_accounts.cpp) ---
  Status save_account(const accounts::Account& account) override;
  Status list_accounts(std::vector<accounts::Account>& out) override;
  Status save_session(const accounts::Session& session) override;
  Status delete_session(const std::string& token_hash) override;
  Status delete_sessions_of(const std::string& account_id) override;
  Status list_sessions(std::vector<accounts::Session>& out) override;
  Status save_invite(const accounts::Invite& invite) override;
  Status list_invites(std::vector<accounts::Invite>& out) override;
  Status save_farmer_catalog(const std::string& owner,
                             const std::vector<commerce::Product>& products) override;
  Status list_farmer_catalog(const std::string& owner, std::vector<commerce::Product>& out) override;

  // Products keep their `sold` units in the database (pg_orders.cpp keeps it in step with the
  // orders): a new ceiling never forgets what other nodes sold.
  Status save_products(const std::string& stream_id, const std::vector<commerce::Product>& products) override;
  Status list_products(const std::string& stream_id, std::vector<commerce::Product>& out) override;
  Status save_sale(const std::string& stream_id, const commerce::FlashSale& sale) override;
  Status list_sales(const std::string& stream_id, std::vector<commerce::FlashSale>& out) override;
  Status list_orders(const std::string& stream_id, std::vector<commerce::Order>& out) override;
  // Each call claims a fresh block of 2^24 ids from a sequence: nodes never hand out the same id.
  int64_t max_order_id() override;
  Status find_order(int64_t order_id, std::optional<commerce::Order>& out) override;
  Status list_streams_with_due_orders(int64_t now_ms, std::vector<std::string>& out) override;
  using Store::commit_order_changes;
  using Store::commit_orders;
  // pg_orders.cpp: stock decided here, see the top of this file.
  Status commit_orders(const std::vector<commerce::Order>& orders,
                       std::vector<commerce::Committed>& results) override;
  Status commit_order_changes(const std::vector<commerce::Order>& changed,
                              const std::vector<commerce::PaymentRecord>& payments,
                              std::vector<commerce::Committed>& results) override;
  Status list_payments(std::vector<commerce::PaymentRecord>& out) override;
  Status commit_rejections(const std::vector<commerce::RejectedBuy>& rejections) override;
  Status list_rejections(const std::string& stream_id, std::vector<commerce::RejectedBuy>& out) override;
  Status save_exposure(const show::CardExposure& exposure) override;
  Status list_exposures(std::vector<show::CardExposure>& out) override;
  Status find_traced_products(const std::string& trace_code, std::vector<TracedProduct>& out) override;
  Status claim_trace_codes(const std::string& owner, const std::vector<std::string>& codes,
                           std::string& taken) override;
  Status save_restream(const std::string& stream_id, const std::string& url) override;
  Status list_restreams(std::vector<std::pair<std::string, std::string>>& out) override;

 private:
  Status migrate();  // pg_schema.cpp
  std::optional<StreamRecord> find_stream_where(const char* name, const char* sql, const std::string& value);
  // A statement on the loop's connection that returns no rows.
  Status write(const char* name, const char* sql, const PgParams& params);

  std::string error_;
  std::mutex mutex_;  // db_ is shared by the loop thread and store threads
  PgConnection db_;
  std::mutex writer_mutex_;
  PgConnection writer_;  // the order writer's: its transactions never hold up db_'s readers
};

// The origin columns (pg_store.cpp): origin_json() text, '' for none, as SQLite keeps them.
std::string pg_origin_text(const commerce::Origin& o);
commerce::Origin pg_origin(const std::string& text);

}  // namespace harvest::store

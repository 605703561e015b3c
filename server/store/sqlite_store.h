#pragma once
// SQLite backend: one database file in the data directory, WAL mode.
#include <sqlite3.h>

#include <mutex>
#include <string>

#include "store/store.h"

namespace harvest::store {

class SqliteStore final : public Store {
public:
  enum class Access { read_write, read_only };
  // Opens (creating if needed) `path` and migrates the schema; read_only opens an existing
  // database for reading only (no schema, no order writer). Check error() afterwards.
  explicit SqliteStore(const std::string& path, Access access = Access::read_write);
  ~SqliteStore() override;
  const std::string& error() const { return error_; }

  Status create_stream(const StreamRecord& stream) override;
  std::optional<StreamRecord> find_stream(const std::string& id) override;
  std::optional<StreamRecord> find_stream_by_key(const std::string& stream_key) override;
  Status list_streams(std::vector<StreamRecord>& out) override;
  Status update_stream(const StreamRecord& stream) override;

  // --- accounts (sqlite_accounts.cpp) ---
  Status save_account(const accounts::Account& account) override;
  Status list_accounts(std::vector<accounts::Account>& out) override;
  Status save_session(const accounts::Session& session) override;
  Status delete_session(const std::string& token_hash) override;
  Status delete_sessions_of(const std::string& account_id) override;
  Status list_sessions(std::vector<accounts::Session>& out) override;
  Status save_invite(const accounts::Invite& invite) override;
  Status list_invites(std::vector<accounts::Invite>& out) override;
  Status save_farmer_catalog(const std::string& owner, const std::vector<commerce::Product>& products) override;
  Status list_farmer_catalog(const std::string& owner, std::vector<commerce::Product>& out) override;

  Status save_products(const std::string& stream_id, const std::vector<commerce::Product>& products) override;
  Status list_products(const std::string& stream_id, std::vector<commerce::Product>& out) override;
  Status save_sale(const std::string& stream_id, const commerce::FlashSale& sale) override;
  Status list_sales(const std::string& stream_id, std::vector<commerce::FlashSale>& out) override;
  Status list_orders(const std::string& stream_id, std::vector<commerce::Order>& out) override;
  int64_t max_order_id() override;
  Status find_order(int64_t order_id, std::optional<commerce::Order>& out) override;
  Status list_streams_with_due_orders(int64_t now_ms, std::vector<std::string>& out) override;
  using Store::commit_orders;
  using Store::commit_order_changes;
  // One node: every order is stored as given (`results` stays empty).
  Status commit_orders(const std::vector<commerce::Order>& orders, std::vector<commerce::Committed>& results) override;
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

  sqlite3* handle() { return db_; }

private:
  Status exec(const char* sql);
  // Tables and columns added with accounts and self-service shows (issue 18).
  Status migrate_accounts();
  // Runs `s` (an INSERT/UPDATE/DELETE) to completion.
  Status run(sqlite3_stmt* s);
  std::optional<StreamRecord> find_stream_where(const char* column, const std::string& value);

  sqlite3* db_ = nullptr;
  std::string error_;
  std::mutex mutex_;  // the connection is shared by the loop thread and store threads
  // The order writer's own connection: its transactions and fsyncs never hold up readers on
  // db_ (WAL lets readers run beside one writer).
  sqlite3* writer_db_ = nullptr;
  sqlite3_stmt* insert_order_ = nullptr;  // on writer_db_, under writer_mutex_
  std::mutex writer_mutex_;
};

}  // namespace harvest::store

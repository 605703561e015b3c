#pragma once
// SQLite backend: one database file in the data directory, WAL mode.
#include <sqlite3.h>

#include <mutex>
#include <string>

#include "store/store.h"

namespace harvest::store {

class SqliteStore final : public Store {
public:
  // Opens (creating if needed) `path` and migrates the schema. Check error() afterwards.
  explicit SqliteStore(const std::string& path);
  ~SqliteStore() override;
  const std::string& error() const { return error_; }

  Status create_stream(const StreamRecord& stream) override;
  std::optional<StreamRecord> find_stream(const std::string& id) override;
  std::optional<StreamRecord> find_stream_by_key(const std::string& stream_key) override;
  std::vector<StreamRecord> list_streams() override;

  Status save_products(const std::string& stream_id, const std::vector<commerce::Product>& products) override;
  std::vector<commerce::Product> list_products(const std::string& stream_id) override;
  Status save_sale(const std::string& stream_id, const commerce::FlashSale& sale) override;
  std::vector<commerce::FlashSale> list_sales(const std::string& stream_id) override;
  std::vector<commerce::Order> list_orders(const std::string& stream_id) override;
  int64_t max_order_id() override;
  Status commit_orders(const std::vector<commerce::Order>& orders) override;
  Status commit_rejections(const std::vector<commerce::RejectedBuy>& rejections) override;
  std::vector<commerce::RejectedBuy> list_rejections(const std::string& stream_id) override;
  Status save_exposure(const commerce::CardExposure& exposure) override;
  std::vector<commerce::CardExposure> list_exposures() override;

  sqlite3* handle() { return db_; }

private:
  Status exec(const char* sql);
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

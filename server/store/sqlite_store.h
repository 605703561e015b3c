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

  sqlite3* handle() { return db_; }

private:
  Status exec(const char* sql);
  std::optional<StreamRecord> find_stream_where(const char* column, const std::string& value);

  sqlite3* db_ = nullptr;
  std::string error_;
  std::mutex mutex_;  // the connection is shared by the loop thread and store threads
};

}  // namespace harvest::store

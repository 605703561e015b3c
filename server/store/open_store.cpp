// The factory: the one place that knows every backend. A new backend adds its files and a
// branch here, and edits no other backend.
#include <filesystem>

#include "store/pg_store.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace harvest::store {

std::unique_ptr<Store> open_store(const StoreOptions& options, std::string& error) {
  if (options.backend.rfind("postgres://", 0) == 0 || options.backend.rfind("postgresql://", 0) == 0) {
    auto store = std::make_unique<PgStore>(
        options.backend, options.read_only ? PgStore::Access::read_only : PgStore::Access::read_write);
    if (!store->error().empty()) {
      error = store->error();
      return nullptr;
    }
    return store;
  }
  if (options.backend != "sqlite") {
    error = "store '" + options.backend + "' is not available in this build ('sqlite' or a postgres:// URL)";
    return nullptr;
  }
  const std::string path = (std::filesystem::path(options.data_dir) / "harvest.db").string();
  auto store = std::make_unique<SqliteStore>(
      path, options.read_only ? SqliteStore::Access::read_only : SqliteStore::Access::read_write);
  if (!store->error().empty()) {
    error = store->error();
    return nullptr;
  }
  return store;
}

}  // namespace harvest::store

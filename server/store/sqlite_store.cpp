#include "store/sqlite_store.h"

#include <filesystem>

namespace harvest::store {
namespace {

// Each statement is finalized when the guard leaves scope, whatever path is taken.
class Statement {
public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return stmt_; }
  bool valid() const { return stmt_ != nullptr; }
  void bind(int index, const std::string& text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void bind(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  std::string text(int column) const {
    const auto* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
  }

private:
  sqlite3_stmt* stmt_ = nullptr;
};

StreamRecord read_stream(const Statement& s) {
  StreamRecord r;
  r.id = s.text(0);
  r.stream_key = s.text(1);
  r.title = s.text(2);
  r.farmer = s.text(3);
  r.created_at_ms = sqlite3_column_int64(s.get(), 4);
  return r;
}

}  // namespace

SqliteStore::SqliteStore(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    error_ = "cannot open SQLite database '" + path + "': " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
    return;
  }
  sqlite3_busy_timeout(db_, 5000);
  // WAL: readers never block the writer; synchronous=FULL so a commit is on disk when it returns.
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
                          "CREATE TABLE IF NOT EXISTS streams ("
                          " id TEXT PRIMARY KEY, stream_key TEXT NOT NULL UNIQUE,"
                          " title TEXT NOT NULL, farmer TEXT NOT NULL, created_at_ms INTEGER NOT NULL)"}) {
    if (auto st = exec(sql); !st) {
      error_ = "cannot initialise SQLite database '" + path + "': " + st.message();
      return;
    }
  }
}

SqliteStore::~SqliteStore() { sqlite3_close_v2(db_); }

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
  Statement s(db_, "INSERT INTO streams (id, stream_key, title, farmer, created_at_ms) VALUES (?,?,?,?,?)");
  if (!s.valid()) return Status::error(sqlite3_errmsg(db_));
  s.bind(1, stream.id);
  s.bind(2, stream.stream_key);
  s.bind(3, stream.title);
  s.bind(4, stream.farmer);
  s.bind(5, stream.created_at_ms);
  if (sqlite3_step(s.get()) != SQLITE_DONE) return Status::error(sqlite3_errmsg(db_));
  return Status::ok();
}

std::optional<StreamRecord> SqliteStore::find_stream_where(const char* column, const std::string& value) {
  std::lock_guard lock(mutex_);
  const std::string sql =
      std::string("SELECT id, stream_key, title, farmer, created_at_ms FROM streams WHERE ") + column + " = ?";
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

std::vector<StreamRecord> SqliteStore::list_streams() {
  std::lock_guard lock(mutex_);
  std::vector<StreamRecord> out;
  Statement s(db_, "SELECT id, stream_key, title, farmer, created_at_ms FROM streams ORDER BY created_at_ms, id");
  while (s.valid() && sqlite3_step(s.get()) == SQLITE_ROW) out.push_back(read_stream(s));
  return out;
}

std::unique_ptr<Store> open_store(const ServerConfig& config, std::string& error) {
  if (config.store != "sqlite") {
    error = "store '" + config.store + "' is not available in this build (only 'sqlite')";
    return nullptr;
  }
  const std::string path = (std::filesystem::path(config.data_dir) / "harvest.db").string();
  auto store = std::make_unique<SqliteStore>(path);
  if (!store->error().empty()) {
    error = store->error();
    return nullptr;
  }
  return store;
}

}  // namespace harvest::store

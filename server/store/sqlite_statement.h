#pragma once
// The small SQLite helpers every sqlite_*.cpp of the store shares.
#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "core/status.h"

namespace harvest::store {

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

inline int64_t col_int(const Statement& s, int c) { return sqlite3_column_int64(s.get(), c); }

// The end of a read: every row was stepped through (SQLITE_DONE), or the error that stopped it.
inline Status done(sqlite3* db, int rc) {
  return rc == SQLITE_DONE ? Status::ok() : Status::error(sqlite3_errmsg(db));
}

}  // namespace harvest::store

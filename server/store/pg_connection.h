#pragma once
// One libpq connection of the PostgreSQL store, and the small helpers every pg_*.cpp shares:
// statements prepared once per connection (by name, on first use), text parameters, results
// freed by their guard, and array literals for the statements that take a whole group at once.
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace harvest::store {

// Parameters in libpq's text format; an empty optional is SQL NULL.
class PgParams {
 public:
  PgParams& text(std::string v) {
    values_.emplace_back(std::move(v));
    return *this;
  }
  PgParams& integer(int64_t v) { return text(std::to_string(v)); }
  PgParams& real(std::optional<double> v);
  PgParams& boolean(bool v) { return text(v ? "t" : "f"); }
  PgParams& null() {
    values_.emplace_back(std::nullopt);
    return *this;
  }
  int size() const { return static_cast<int>(values_.size()); }
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::optional<std::string>> values_;
};

class PgResult {
 public:
  explicit PgResult(PGresult* r = nullptr) : r_(r, &PQclear) {}
  bool ok() const;
  // The server's message (or libpq's) when !ok().
  std::string error() const;
  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  std::string text(int row, int col) const { return PQgetvalue(r_.get(), row, col); }
  int64_t integer(int row, int col) const;
  double real(int row, int col) const;
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  // Rows changed by an INSERT/UPDATE/DELETE.
  int64_t affected() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

class PgConnection {
 public:
  PgConnection() = default;
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Status open(const std::string& url);
  // A statement without parameters (BEGIN, COMMIT, DDL).
  Status exec(const char* sql);
  // Runs `sql`, prepared on this connection under `name` the first time it is used. A lost
  // connection is reset once (its prepared statements go with it) before the statement runs.
  PgResult run(const char* name, const char* sql, const PgParams& params);
  // Rolls back the open transaction and returns `st` (the failure that caused it).
  Status abort(Status st);

 private:
  bool ensure_connected();
  PGconn* conn_ = nullptr;
  std::set<std::string> prepared_;
};

// Array literals ({"a","b"}, {1,2}) for `unnest($n::text[])` and `= ANY($n::bigint[])`.
std::string pg_text_array(const std::vector<std::string>& values);
std::string pg_int_array(const std::vector<int64_t>& values);
std::string pg_real_array(const std::vector<std::optional<double>>& values);

}  // namespace harvest::store

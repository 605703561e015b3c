#pragma once
// A real PostgreSQL server for one test: initdb in a fresh temp dir (owned by the `postgres`
// user: the server refuses to run as root), `postgres` on a free port with fsync on, a
// database made, and everything stopped and removed on destruction, whatever the outcome.
// error() says why it could not start; tests REQUIRE it empty (they fail, never skip).
#include <memory>
#include <string>

#include "support/child_process.h"
#include "support/temp_dir.h"

namespace harvest::test {

class PostgresServer {
 public:
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  const std::string& error() const { return error_; }
  // postgresql://postgres@127.0.0.1:PORT/harvest
  const std::string& url() const { return url_; }
  int port() const { return port_; }

 private:
  TempDir dir_;
  std::unique_ptr<ChildProcess> server_;
  std::string error_;
  std::string url_;
  int port_ = 0;
};

// The directory of PostgreSQL 15's programs (initdb, postgres).
inline const char* postgres_bin_dir() { return "/usr/lib/postgresql/15/bin"; }

}  // namespace harvest::test

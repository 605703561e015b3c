#include "support/postgres_server.h"

#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "support/wait.h"

namespace harvest::test {
namespace {

// A port nobody listens on now (the kernel's pick for port 0).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

// Runs `args` as the postgres user (setpriv execs in place: no process is left between the
// test and the program, so killing the child kills the program).
std::vector<std::string> as_postgres(std::vector<std::string> args) {
  std::vector<std::string> out{"setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"};
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

}  // namespace

PostgresServer::PostgresServer() {
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    error_ = "no 'postgres' user: install postgresql (scripts/install-deps.sh)";
    return;
  }
  const std::string data = dir_.path() + "/data";
  const std::string log = dir_.path() + "/postgres.log";
  if (::chown(dir_.path().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    error_ = "cannot give " + dir_.path() + " to the postgres user";
    return;
  }
  const std::string bin = postgres_bin_dir();
  {
    ChildProcess initdb(as_postgres({bin + "/initdb", "-D", data, "-A", "trust", "-U", "postgres",
                                     "--no-sync", "-E", "UTF8", "--locale=C"}),
                        log);
    if (initdb.wait(std::chrono::seconds(60)) != 0) {
      error_ = "initdb failed:\n" + read_file(log);
      return;
    }
  }
  port_ = free_port();
  server_ = std::make_unique<ChildProcess>(
      as_postgres({bin + "/postgres", "-D", data, "-p", std::to_string(port_), "-k", dir_.path(), "-c",
                   "listen_addresses=127.0.0.1", "-c", "fsync=on", "-c", "synchronous_commit=on", "-c",
                   "max_connections=50"}),
      log);
  const std::string admin = "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
  if (!wait_until([&] { return PQping(admin.c_str()) == PQPING_OK || !server_->running(); },
                  std::chrono::seconds(30), std::chrono::milliseconds(20)) ||
      !server_->running()) {
    error_ = "postgres did not start:\n" + read_file(log);
    return;
  }
  PGconn* c = PQconnectdb(admin.c_str());
  PGresult* r = PQexec(c, "CREATE DATABASE harvest");
  if (PQresultStatus(r) != PGRES_COMMAND_OK)
    error_ = std::string("CREATE DATABASE failed: ") + PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  url_ = "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/harvest";
}

PostgresServer::~PostgresServer() {
  if (!server_) return;
  // A fast shutdown (SIGINT) so the temp dir is not removed under a running server; SIGKILL
  // if it does not stop in time.
  server_->signal(SIGINT);
  if (server_->wait(std::chrono::seconds(15)) == -1) server_->kill();
}

}  // namespace harvest::test

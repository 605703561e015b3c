// The real harvest-server binary on free ports: health, pages, flags, signals.
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

using harvest::test::ServerProcess;
using harvest::test::TempDir;

TEST_CASE("GET /api/health answers ok over real HTTP", "[server]") {
  TempDir dir;
  ServerProcess server({.data_dir = dir.path()});
  REQUIRE(server.http_port() > 0);
  auto r = harvest::test::http_get(server.http_port(), "/api/health");
  REQUIRE(r.status == 200);
  CHECK(r.headers["content-type"].find("application/json") == 0);
  CHECK(nlohmann::json::parse(r.body) == nlohmann::json{{"status", "ok"}});
}

TEST_CASE("unknown routes get 404 JSON and the wrong method 405", "[server]") {
  TempDir dir;
  ServerProcess server({.data_dir = dir.path()});
  auto r = harvest::test::http_get(server.http_port(), "/api/no-such-thing");
  CHECK(r.status == 404);
  CHECK(nlohmann::json::parse(r.body)["error"] == "not_found");
  auto m = harvest::test::http_request(server.http_port(), "POST", "/api/health", "{}");
  CHECK(m.status == 405);
  auto escape = harvest::test::http_get(server.http_port(), "/static/../../etc/passwd");
  CHECK(escape.status != 200);
}

TEST_CASE("garbage on the HTTP port does not stop the server", "[server]") {
  TempDir dir;
  ServerProcess server({.data_dir = dir.path()});
  using namespace std::string_literals;
  const std::string tls_hello_then_garbage = "\x16\x03\x01\x00\xff garbage\r\n\r\n"s;
  harvest::test::raw_exchange(server.http_port(), tls_hello_then_garbage, std::chrono::seconds(3));
  harvest::test::raw_exchange(server.http_port(), "GET /api/health HTTP/1.1\r\nHost: x", std::chrono::milliseconds(200));
  auto r = harvest::test::http_get(server.http_port(), "/api/health");
  CHECK(r.status == 200);
}

TEST_CASE("SIGTERM and SIGINT shut down cleanly with exit 0", "[server]") {
  for (int sig : {SIGTERM, SIGINT}) {
    TempDir dir;
    ServerProcess server({.data_dir = dir.path()});
    REQUIRE(harvest::test::http_get(server.http_port(), "/api/health").status == 200);
    CHECK(server.stop(sig) == 0);
    CHECK(server.log().find("event=stopped") != std::string::npos);
  }
}

TEST_CASE("a bad flag exits 2 with a clear message", "[server]") {
  TempDir dir;
  ServerProcess server({.data_dir = dir.path(), .extra_args = {"--http-port", "nope"}, .wait_ready = false});
  CHECK(server.wait_exit(std::chrono::seconds(10)) == 2);
  CHECK(server.log().find("--http-port needs a port number") != std::string::npos);
}

TEST_CASE("a bus or store the server does not have refuses to start with a clear message", "[server]") {
  TempDir dir;
  ServerProcess bus({.data_dir = dir.path(), .extra_args = {"--bus", "amqp://127.0.0.1:5672"}, .wait_ready = false});
  CHECK(bus.wait_exit(std::chrono::seconds(10)) == 2);
  CHECK(bus.log().find("--bus must be 'local' or a redis:// URL") != std::string::npos);
  ServerProcess store({.data_dir = dir.path(), .extra_args = {"--store", "mysql://db/h"}, .wait_ready = false});
  CHECK(store.wait_exit(std::chrono::seconds(10)) == 2);
  CHECK(store.log().find("--store must be 'sqlite' or a postgres:// URL") != std::string::npos);
}

TEST_CASE("a port already in use exits 2 with a clear message", "[server]") {
  // Hold a port ourselves, then ask the server for it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int busy = ntohs(addr.sin_port);

  TempDir dir;
  ServerProcess server({.data_dir = dir.path(), .extra_args = {"--http-port", std::to_string(busy)}, .wait_ready = false});
  CHECK(server.wait_exit(std::chrono::seconds(10)) == 2);
  CHECK(server.log().find("cannot listen") != std::string::npos);
  ::close(fd);
}

TEST_CASE("--help prints usage and exits 0", "[server]") {
  TempDir dir;
  ServerProcess server({.data_dir = dir.path(), .extra_args = {"--help"}, .wait_ready = false});
  CHECK(server.wait_exit(std::chrono::seconds(10)) == 0);
  CHECK(server.log().find("Usage: harvest-server") != std::string::npos);
}

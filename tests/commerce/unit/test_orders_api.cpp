// REST routes answered later (HttpResponse::later): the orders list read on the API's reader
// thread, and a client that leaves before its answer comes. A real HttpServer on a loop thread,
// in-process, over a SQLite store in a temp directory.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/orders.h"
#include "api/reader.h"
#include "core/event_loop.h"
#include "core/stream_registry.h"
#include "realtime/http_server.h"
#include "store/sqlite_store.h"
#include "support/http_client.h"
#include "support/temp_dir.h"
#include "support/wait.h"

using namespace harvest;
using nlohmann::json;
using realtime::HttpReply;
using realtime::HttpRequest;
using realtime::HttpResponse;

namespace {

constexpr const char* kAdmin = "orders-api-admin";

// A store with one stream and `n` durable orders, an HttpServer whose loop runs on a thread of
// its own, and the API's reader with its read-only handle.
struct Api {
  explicit Api(int n) : dir(), path((std::filesystem::path(dir.path()) / "harvest.db").string()), db(path) {
    REQUIRE(db.error().empty());
    streams = std::make_unique<StreamRegistry>(db);
    REQUIRE(streams->load());
    StreamState* s = nullptr;
    REQUIRE(streams->create("orders", "farmer", s));
    stream_id = s->record.id;
    std::vector<commerce::Order> orders;
    for (int i = 1; i <= n; ++i) {
      commerce::Order o;
      o.id = i;
      o.stream_id = stream_id;
      o.viewer_id = "viewer-" + std::to_string(i);
      o.idempotency_key = "k" + std::to_string(i);
      o.product_id = "pear";
      o.qty = 1;
      o.unit_price = 3990;
      o.total = 3990;
      o.currency = "CNY";
      o.server_time_ms = 1000 + i;
      orders.push_back(o);
    }
    REQUIRE(db.commit_orders(orders));
    std::string error;
    auto reader_store =
        store::open_store({.backend = "sqlite", .data_dir = dir.path(), .read_only = true}, error);
    REQUIRE(reader_store);
    reader = std::make_unique<api::Reader>(loop, std::move(reader_store));
    access.admin_token = kAdmin;
    access.token_secret = "orders-api-secret";
    realtime::HttpServerOptions options;
    options.bind_address = "127.0.0.1";
    options.port = 0;
    options.fanout_threads = 0;
    server = std::make_unique<realtime::HttpServer>(loop, options);
  }
  void run() {
    REQUIRE(server->start().empty());
    thread = std::thread([this] {
      loop_thread = std::this_thread::get_id();
      server->run();
    });
  }
  ~Api() {
    loop.request_stop();
    if (thread.joinable()) thread.join();
    reader.reset();
  }

  test::TempDir dir;
  std::string path;
  store::SqliteStore db;
  std::unique_ptr<StreamRegistry> streams;
  std::string stream_id;
  EventLoop loop;
  std::unique_ptr<api::Reader> reader;
  realtime::AccessConfig access;
  std::unique_ptr<realtime::HttpServer> server;
  std::thread thread;
  std::atomic<std::thread::id> loop_thread{};
};

std::map<std::string, std::string> admin() { return {{"authorization", std::string("Bearer ") + kAdmin}}; }

}  // namespace

TEST_CASE("orders api: the list and the CSV are read on the reader thread and answered through the loop") {
  Api api(300);
  api::register_order_routes(api.server->router(), *api.streams, api.access, *api.reader);
  // The same path a route takes, observed: where did the read run?
  std::atomic<std::thread::id> read_on{};
  api.server->router().add("GET", "/probe", [&](const HttpRequest&) {
    return api::answer_from_reader(*api.reader, [&](store::Store&) {
      read_on = std::this_thread::get_id();
      return HttpResponse::json(200, "{}");
    });
  });
  api.run();
  const int port = api.server->port();

  auto r = test::http_get(port, "/api/streams/" + api.stream_id + "/orders", admin());
  REQUIRE(r.status == 200);
  const json body = json::parse(r.body);
  CHECK(body["count"] == 300);
  CHECK(body["orders"].size() == 300);
  CHECK(body["orders"][0]["order_id"] == 1);
  CHECK(body["orders"][299]["viewer_id"] == "viewer-300");

  auto csv = test::http_get(port, "/api/streams/" + api.stream_id + "/orders?format=csv", admin());
  REQUIRE(csv.status == 200);
  CHECK(csv.headers["content-type"].rfind("text/csv", 0) == 0);
  CHECK(std::count(csv.body.begin(), csv.body.end(), '\n') == 301);  // header + one line per order

  // Refusals are decided at once, on the loop, as before.
  CHECK(test::http_get(port, "/api/streams/" + api.stream_id + "/orders").status == 401);
  CHECK(test::http_get(port, "/api/streams/nosuch/orders", admin()).status == 404);

  REQUIRE(test::http_get(port, "/probe").status == 200);
  CHECK(read_on.load() != std::thread::id{});
  CHECK(read_on.load() != api.loop_thread.load());
}

TEST_CASE("deferred http: a client that leaves before its answer, and answers after the server is gone") {
  Api api(0);
  std::atomic<int> started{0};
  HttpReply held;  // loop thread only
  api.server->router().add("GET", "/slow", [&](const HttpRequest&) {
    return HttpResponse::later([&](HttpReply reply) {
      held = std::move(reply);
      ++started;
    });
  });
  api.server->router().add("GET", "/later", [&](const HttpRequest&) {
    return HttpResponse::later([&](HttpReply reply) {
      // Answered from the loop after a wait on another thread, like a read.
      std::thread([&api, reply] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        api.loop.post([reply] { reply(HttpResponse::json(200, R"({"later":true})")); });
      }).detach();
    });
  });
  api.run();
  const int port = api.server->port();

  // The client asks and leaves; the answer comes after the connection is gone.
  const int fd = test::connect_loopback(port);
  REQUIRE(fd >= 0);
  const std::string request = "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n";
  REQUIRE(::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  REQUIRE(test::wait_until([&] { return started.load() == 1; }));
  ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the server sees the close
  std::atomic<bool> answered{false};
  api.loop.post([&] {
    held(HttpResponse::json(200, "{}"));  // to nobody: dropped
    held(HttpResponse::json(200, "{}"));  // a second call is dropped too
    answered = true;
  });
  REQUIRE(test::wait_until([&] { return answered.load(); }));

  // The server goes on answering, deferred or not.
  auto later = test::http_get(port, "/later");
  CHECK(later.status == 200);
  CHECK(later.body == R"({"later":true})");

  // A reply that outlives the server is dropped as well.
  const int fd2 = test::connect_loopback(port);
  REQUIRE(fd2 >= 0);
  REQUIRE(::write(fd2, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  REQUIRE(test::wait_until([&] { return started.load() == 2; }));
  api.loop.request_stop();
  api.thread.join();
  api.server.reset();
  api.loop.bind_to_current_thread();
  held(HttpResponse::json(200, "{}"));
  ::close(fd2);
}

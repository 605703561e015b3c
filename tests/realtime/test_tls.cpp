// HTTPS on the HTTP port: --tls-self-signed (a local CA and a certificate for this machine,
// kept in the data dir), --tls-cert/--tls-key, websockets over TLS, plain http:// served to
// this machine and sent on to https for others. The client verifies the server the way a phone that installed the CA does.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <memory>
#include <sstream>
#include <vector>

#include "core/local_tls.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "realtime/tls_connection.h"

using namespace harvest::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kAdmin = "tls-admin-token";

ServerProcess::Options tls_server(const TempDir& dir, std::vector<std::string> args) {
  return {.data_dir = dir.path(), .extra_args = std::move(args), .env = {{"HARVEST_ADMIN_TOKEN", kAdmin}}};
}

// One request over TLS; the whole answer (the server closes after it).
std::string https_exchange(int port, const std::string& ca, const std::string& host, const std::string& request) {
  TlsConnection tls(port, ca, host);
  if (!tls.connected()) return "no connection: " + tls.error();
  tls.send(request);
  tls.closed_within(std::chrono::seconds(10));
  return tls.buffer();
}

std::string get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + extra + "\r\n";
}

std::string body_of(const std::string& response) { return response.substr(response.find("\r\n\r\n") + 4); }

// An IPv4 address of this machine that is not loopback (a connection to it comes from it, as
// a phone's on the LAN would come from the phone's).
std::string lan_address() {
  for (const auto& name : harvest::local_tls::this_machine_names())
    if (name.find_first_not_of("0123456789.") == std::string::npos && name.rfind("127.", 0) != 0) return name;
  return {};
}

// Connects to address:port, sends `bytes`, returns what came back until the peer closed.
std::string exchange_with(const std::string& address, int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &to.sin_addr);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 &&
      ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size())) {
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// POST /api/streams over TLS; the whole answer.
std::string create_stream(int port, const std::string& ca) {
  const std::string body = R"({"title":"tls"})";
  return https_exchange(port, ca, "localhost",
                        "POST /api/streams HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer " +
                            kAdmin + "\r\nContent-Type: application/json\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body);
}

}  // namespace

TEST_CASE("self-signed HTTPS (--tls-self-signed) from a local CA kept in the data dir", "[tls]") {
  TempDir dir;
  const std::string ca = dir.path() + "/tls/ca.pem";
  std::string ca_fingerprint;
  std::string server_cert;
  {
    // On every address (not only loopback, as other tests): a LAN client is part of the test.
    ServerProcess server(tls_server(dir, {"--tls-self-signed", "--fanout-threads", "1", "--bind", "0.0.0.0"}));
    const int port = server.http_port();
    for (const char* host : {"localhost", "127.0.0.1"}) {
      const std::string health = https_exchange(port, ca, host, get("/api/health"));
      INFO(health);
      CHECK(health.rfind("HTTP/1.1 200", 0) == 0);
    }
    const json info = json::parse(body_of(https_exchange(port, ca, "localhost", get("/api/tls"))));
    CHECK(info["https"] == true);
    CHECK(info["self_signed"] == true);
    CHECK(info["ca_url"] == "/tls/ca.pem");
    ca_fingerprint = info["ca_fingerprint_sha256"];
    CHECK(ca_fingerprint.size() == 95);  // 32 bytes as AB:CD:...
    // The CA a phone installs is the one that verified this connection.
    CHECK(body_of(https_exchange(port, ca, "localhost", get("/tls/ca.pem"))) == read_file(ca));
    // Ingest URLs handed out say https, and a stream's WHIP URL is reachable over it.
    const json stream = json::parse(body_of(create_stream(port, ca)));
    CHECK(stream["whip_url"].get<std::string>().rfind("https://localhost:" + std::to_string(port) + "/whip/", 0) == 0);
    const std::string whip = https_exchange(
        port, ca, "localhost",
        "POST /whip/" + stream["id"].get<std::string>() +
            " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer wrong\r\n"
            "Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n");
    CHECK(whip.rfind("HTTP/1.1 401", 0) == 0);
    // From this machine plain http is served (http://localhost is a secure origin already)...
    CHECK(http_get(port, "/api/health").status == 200);
    // ...and someone on the LAN who typed http:// is sent on to the same URL over https.
    const std::string lan = lan_address();
    REQUIRE_FALSE(lan.empty());
    const std::string host = lan + ":" + std::to_string(port);
    const std::string plain = exchange_with(lan, port, "GET /watch/abc?x=1 HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    CHECK(plain.rfind("HTTP/1.1 308", 0) == 0);
    CHECK(plain.find("Location: https://" + host + "/watch/abc?x=1\r\n") != std::string::npos);
    server_cert = read_file(dir.path() + "/tls/server.pem");
  }
  // A restart keeps both: a phone that trusted the CA keeps trusting the server.
  ServerProcess again(tls_server(dir, {"--tls-self-signed"}));
  CHECK(read_file(dir.path() + "/tls/server.pem") == server_cert);
  const json info = json::parse(body_of(https_exchange(again.http_port(), ca, "localhost", get("/api/tls"))));
  CHECK(info["ca_fingerprint_sha256"] == ca_fingerprint);
}

TEST_CASE("websockets over TLS: welcome, and an unmasked frame closes the connection", "[tls][websocket]") {
  TempDir dir;
  ServerProcess server(tls_server(dir, {"--tls-self-signed"}));
  const std::string ca = dir.path() + "/tls/ca.pem";
  const std::string created = create_stream(server.http_port(), ca);
  REQUIRE(created.rfind("HTTP/1.1 201", 0) == 0);
  const std::string id = json::parse(body_of(created))["id"];
  TlsConnection ws(server.http_port(), ca, "localhost");
  REQUIRE(ws.connected());
  ws.send("GET /ws?stream=" + id + " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  const std::string head = ws.read_until("\r\n\r\n");
  REQUIRE(head.rfind("HTTP/1.1 101", 0) == 0);
  // The first frame after the handshake is the welcome (a text frame).
  CHECK(ws.read_until("welcome").find("welcome") != std::string::npos);
  ws.send(std::string("\x81\x04ping", 6));  // no mask bit
  CHECK(ws.closed_within(std::chrono::seconds(10)));
  const std::string metrics = https_exchange(server.http_port(), ca, "localhost", get("/metrics"));
  CHECK(metrics.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(metrics.find("reason=\"ws_unmasked_frame\"} 1") != std::string::npos);
}

TEST_CASE("a given certificate (--tls-cert, --tls-key) is served", "[tls]") {
  TempDir made;
  {
    ServerProcess maker(tls_server(made, {"--tls-self-signed"}));  // only to make a certificate
  }
  TempDir dir;
  ServerProcess server(tls_server(dir, {"--tls-cert", made.path() + "/tls/server.pem", "--tls-key",
                                        made.path() + "/tls/server.key"}));
  const std::string health = https_exchange(server.http_port(), made.path() + "/tls/ca.pem", "localhost", get("/api/health"));
  CHECK(health.rfind("HTTP/1.1 200", 0) == 0);
  const json info = json::parse(body_of(https_exchange(server.http_port(), made.path() + "/tls/ca.pem", "localhost", get("/api/tls"))));
  CHECK(info["https"] == true);
  CHECK(info["self_signed"] == false);
  // No local CA to hand out: that route exists only with --tls-self-signed.
  const std::string ca_route = https_exchange(server.http_port(), made.path() + "/tls/ca.pem", "localhost", get("/tls/ca.pem"));
  CHECK(ca_route.rfind("HTTP/1.1 404", 0) == 0);
}

TEST_CASE("a certificate that cannot be read refuses to start with a sentence", "[tls]") {
  TempDir dir;
  ServerProcess server({.data_dir = dir.path(),
                        .extra_args = {"--tls-cert", dir.path() + "/missing.pem", "--tls-key", dir.path() + "/missing.key"},
                        .wait_ready = false});
  CHECK(server.wait_exit(std::chrono::seconds(20)) != 0);
  CHECK(server.log().find("cannot serve TLS: cannot read a certificate from " + dir.path() + "/missing.pem") !=
        std::string::npos);
}

TEST_CASE("with TLS, fan-out shards serve websockets and hand HTTP to the loop", "[tls][websocket]") {
  // The acceptor cannot read a TLS head, so TLS connections go round-robin over the loop shard
  // and both fan-out shards: of every three connections in a row, two land on a shard whose
  // HTTP requests are screened and handled on the loop (http_remote.cpp).
  TempDir dir;
  ServerProcess server(tls_server(dir, {"--tls-self-signed", "--fanout-threads", "2"}));
  const int port = server.http_port();
  const std::string ca = dir.path() + "/tls/ca.pem";
  const std::string created = create_stream(port, ca);
  REQUIRE(created.rfind("HTTP/1.1 201", 0) == 0);
  const json stream = json::parse(body_of(created));
  const std::string id = stream["id"];
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    // A route, a static file, a route refused from its head, a body over the limit, a body
    // accepted and handled, and a deferred answer (the orders list runs on the reader thread).
    CHECK(https_exchange(port, ca, "localhost", get("/api/health")).rfind("HTTP/1.1 200", 0) == 0);
    const std::string page = https_exchange(port, ca, "localhost", get("/"));
    CHECK(page.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(page.find("<html") != std::string::npos);
    CHECK(https_exchange(port, ca, "localhost", get("/api/streams/" + id + "/orders")).rfind("HTTP/1.1 401", 0) == 0);
    const std::string big(70 * 1024, 'x');
    CHECK(https_exchange(port, ca, "localhost",
                         "POST /api/streams HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + kAdmin +
                             "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(big.size()) +
                             "\r\n\r\n" + big)
              .rfind("HTTP/1.1 413", 0) == 0);
    CHECK(create_stream(port, ca).rfind("HTTP/1.1 201", 0) == 0);
    const std::string orders =
        https_exchange(port, ca, "localhost", get("/api/streams/" + id + "/orders", "Authorization: Bearer " + kAdmin + "\r\n"));
    CHECK(orders.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(body_of(orders).find("\"orders\"") != std::string::npos);
  }
  // Websockets on every shard: each is welcomed, and a chat line from one reaches the others.
  std::vector<std::unique_ptr<TlsConnection>> sockets;
  for (int i = 0; i < 6; ++i) {
    auto ws = std::make_unique<TlsConnection>(port, ca, "localhost");
    REQUIRE(ws->connected());
    ws->send("GET /ws?stream=" + id +
             " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    REQUIRE(ws->read_until("welcome").find("welcome") != std::string::npos);
    sockets.push_back(std::move(ws));
  }
  const std::string chat = R"({"type":"chat.send","text":"hello from shard land"})";
  std::string frame{"\x81"};
  frame += static_cast<char>(0x80 | chat.size());
  frame += std::string(4, '\0');  // a zero mask key: the payload goes as it is
  frame += chat;
  sockets[0]->send(frame);
  for (auto& ws : sockets) CHECK(ws->read_until("hello from shard land").find("hello from shard land") != std::string::npos);
}

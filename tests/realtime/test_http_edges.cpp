// The HTTP and websocket edge of the real server, probed from outside with raw sockets:
// pipelining, request bodies (checked before they are read, capped, given a deadline),
// over-long heads, running out of file descriptors, websocket frame types, money metrics.
// See docs/reliability.md "HTTP and websockets".
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/wait.h"

using harvest::test::connect_loopback;
using harvest::test::bearer;
using harvest::test::http_get;
using harvest::test::http_request;
using harvest::test::ServerProcess;
using harvest::test::TempDir;
using harvest::test::wait_until;
using nlohmann::json;

namespace {

const std::string kAdmin = "edge-admin-token";


// A client socket closed with the test.
class Conn {
public:
  explicit Conn(int port) : fd_(connect_loopback(port)) {}
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  Conn(Conn&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  int fd() const { return fd_; }
  bool send_all(const std::string& bytes) const {
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Whether something (data or EOF) can be read within `timeout`.
  bool readable(std::chrono::milliseconds timeout) const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
  }
  // Everything until the peer closes (or `timeout` passes).
  std::string read_to_eof(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[16384];
    while (std::chrono::steady_clock::now() < deadline) {
      if (!readable(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())))
        break;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

private:
  int fd_;
};

// The status codes of every response in `raw`, in order.
std::vector<int> statuses(const std::string& raw) {
  std::vector<int> out;
  static const std::regex status_line("HTTP/1\\.1 (\\d{3})");
  for (auto it = std::sregex_iterator(raw.begin(), raw.end(), status_line); it != std::sregex_iterator(); ++it)
    out.push_back(std::stoi((*it)[1]));
  return out;
}

std::string post_stream(const std::string& title, const std::string& extra_headers = "") {
  const std::string body = json{{"title", title}, {"farmer", "f"}}.dump();
  return "POST /api/streams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kAdmin +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra_headers + "\r\n" + body;
}

std::vector<std::string> stream_titles(int port) {
  std::vector<std::string> titles;
  const json list = json::parse(http_get(port, "/api/streams").body);
  for (const auto& s : list["streams"]) titles.push_back(s["title"]);
  std::sort(titles.begin(), titles.end());
  return titles;
}

// /proc/PID/status VmRSS in KiB.
long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// utime + stime of a process, in seconds (/proc/PID/stat fields 14 and 15).
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  std::vector<std::string> fields;
  while (rest >> field) fields.push_back(field);
  return static_cast<double>(std::stoull(fields[11]) + std::stoull(fields[12])) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

size_t open_fds(pid_t pid) {
  size_t n = 0;
  if (DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

ServerProcess::Options with_admin(const TempDir& dir, std::vector<std::string> args = {}) {
  return {.data_dir = dir.path(), .extra_args = std::move(args), .env = {{"HARVEST_ADMIN_TOKEN", kAdmin}}};
}

}  // namespace

TEST_CASE("a POST followed by a stray byte runs once, and the byte starts the next request", "[http][pipelining]") {
  TempDir dir;
  ServerProcess server(with_admin(dir));
  Conn c(server.http_port());
  // The stray "G" arrives with the body; the rest of a GET follows once the POST is answered.
  REQUIRE(c.send_all(post_stream("once") + "G"));
  REQUIRE(c.readable(std::chrono::seconds(10)));
  REQUIRE(c.send_all("ET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string raw = c.read_to_eof();
  CHECK(statuses(raw) == std::vector<int>{201, 200});
  CHECK(stream_titles(server.http_port()) == std::vector<std::string>{"once"});
}

TEST_CASE("pipelined requests are each answered once, in order", "[http][pipelining]") {
  TempDir dir;
  ServerProcess server(with_admin(dir));
  Conn c(server.http_port());
  REQUIRE(c.send_all(post_stream("first") + "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n" +
                     "GET /api/streams HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string raw = c.read_to_eof();
  CHECK(statuses(raw) == std::vector<int>{201, 200, 200});
  // In order: the list, answered last, holds the stream the first request created.
  CHECK(raw.find("\"title\":\"first\"", raw.rfind("HTTP/1.1 200")) != std::string::npos);
  CHECK(stream_titles(server.http_port()) == std::vector<std::string>{"first"});
}

// lws 4.1.6 hands a pipelined request's body over from the wrong place (the buffered head) and
// then spins; the server refuses such a body instead of running a handler on it.
TEST_CASE("a body pipelined behind another request is refused, never misread", "[http][pipelining]") {
  TempDir dir;
  ServerProcess server(with_admin(dir));
  for (const std::string& first : {post_stream("first"), std::string("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")}) {
    Conn c(server.http_port());
    REQUIRE(c.send_all(first + post_stream("second", "Connection: close\r\n")));
    const auto answers = statuses(c.read_to_eof());
    REQUIRE(answers.size() == 2);
    CHECK(answers[1] == 400);
  }
  CHECK(stream_titles(server.http_port()) == std::vector<std::string>{"first"});
  CHECK(http_get(server.http_port(), "/api/health").status == 200);
}

TEST_CASE("a body is refused from the request head, without being read", "[http][bodies]") {
  TempDir dir;
  ServerProcess server(with_admin(dir));
  const int port = server.http_port();
  // Only the head is sent: each answer must come without the announced body.
  auto answer_to_head = [port](const std::string& head) {
    Conn c(port);
    c.send_all(head + "\r\n");
    return statuses(c.read_to_eof(std::chrono::seconds(10)));
  };
  CHECK(answer_to_head("POST /api/streams HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n") == std::vector<int>{401});
  CHECK(answer_to_head("POST /api/streams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n"
                       "Content-Length: 1000000\r\n") == std::vector<int>{401});
  CHECK(answer_to_head("PUT /api/streams/nope/products HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n") ==
        std::vector<int>{404});
  CHECK(answer_to_head("POST /api/no-such-route HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n") ==
        std::vector<int>{404});
  // The admin, but more than a JSON route takes.
  CHECK(answer_to_head("POST /api/streams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kAdmin +
                       "\r\nContent-Length: 1000000\r\n") == std::vector<int>{413});
  // A chunked body is not read as an empty one.
  CHECK(answer_to_head("POST /api/streams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kAdmin +
                       "\r\nTransfer-Encoding: chunked\r\n") == std::vector<int>{411});
  CHECK(stream_titles(port).empty());
  CHECK(http_get(port, "/api/health").status == 200);
}

TEST_CASE("a body trickled a byte at a time gets 408 at its deadline", "[http][bodies]") {
  TempDir dir;
  ServerProcess server(with_admin(dir));
  Conn c(server.http_port());
  constexpr size_t kLength = 100;
  REQUIRE(c.send_all("POST /api/streams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kAdmin +
                     "\r\nContent-Length: " + std::to_string(kLength) + "\r\n\r\n{"));
  // One byte every half second would take 50 s; each byte used to restart lws' 20 s timeout.
  size_t sent = 1;
  while (sent < kLength - 1 && !c.readable(std::chrono::milliseconds(500)) && c.send_all(" ")) ++sent;
  const std::string raw = c.read_to_eof(std::chrono::seconds(10));
  CHECK(statuses(raw) == std::vector<int>{408});
  CHECK(sent < kLength - 1);
  CHECK(stream_titles(server.http_port()).empty());
}

// 300 connections each announce a body and send most of it, then hold on: half of them
// anonymous (1 MB announced, 512 KiB sent), half with the admin token (60,000 bytes announced,
// all but one sent). Before: every byte was buffered (the anonymous half alone ~75 MiB).
// Now the anonymous ones are refused from their head, and the admin ones share an 8 MiB budget
// (the rest get 503). Bound: the server's RSS grows by less than 40 MiB.
TEST_CASE("300 connections trickling bodies keep the server's memory bounded", "[http][bodies]") {
  TempDir dir;
  ServerProcess server(with_admin(dir));
  const int port = server.http_port();
  REQUIRE(http_get(port, "/api/health").status == 200);
  const long rss_before = rss_kib(server.pid());
  REQUIRE(rss_before > 0);

  struct Upload {
    Conn conn;
    std::string bytes;  // head + the part of the body we send
    size_t sent = 0;
    bool done = false;
  };
  std::vector<Upload> uploads;
  for (int i = 0; i < 300; ++i) {
    const bool admin = i % 2 == 0;
    const size_t announced = admin ? 60000 : 1000000;
    const size_t body = admin ? announced - 1 : 512 * 1024;
    std::string head = "POST /api/streams HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(announced) + "\r\n";
    if (admin) head += "Authorization: Bearer " + kAdmin + "\r\n";
    uploads.push_back({Conn(port), head + "\r\n" + std::string(body, 'a')});
    REQUIRE(uploads.back().conn.fd() >= 0);
    ::fcntl(uploads.back().conn.fd(), F_SETFL, O_NONBLOCK);
  }
  // Push until every upload is sent, refused (the server closed it) or stuck (not read).
  auto push = [&] {
    bool progress = false;
    for (auto& u : uploads) {
      if (u.done) continue;
      const ssize_t n = ::send(u.conn.fd(), u.bytes.data() + u.sent, u.bytes.size() - u.sent, MSG_NOSIGNAL);
      if (n > 0) {
        u.sent += static_cast<size_t>(n);
        progress = true;
      }
      if (u.sent == u.bytes.size() || (n < 0 && errno != EAGAIN)) u.done = true;
    }
    return progress;
  };
  int idle_rounds = 0;
  wait_until([&] {
    idle_rounds = push() ? 0 : idle_rounds + 1;
    return idle_rounds > 100;  // nothing moved for 100 rounds of 5 ms
  }, std::chrono::seconds(60));

  const long rss_during = rss_kib(server.pid());
  const long grown_kib = rss_during - rss_before;
  INFO("RSS before " << rss_before << " KiB, with 300 uploads " << rss_during << " KiB");
  CHECK(grown_kib < 40 * 1024);
  CHECK(http_get(port, "/api/health").status == 200);

  std::map<int, int> answers;  // status -> count, of the uploads answered already
  for (auto& u : uploads) {
    if (!u.conn.readable(std::chrono::milliseconds(0))) continue;  // its body is being read
    for (int status : statuses(u.conn.read_to_eof(std::chrono::seconds(2)))) ++answers[status];
  }
  CHECK(answers[401] > 0);
  CHECK(answers[503] > 0);
}

TEST_CASE("an over-long request line gets 414 and over-long headers 431", "[http][heads]") {
  TempDir dir;
  ServerProcess server(with_admin(dir));
  const int port = server.http_port();
  const auto uri = harvest::test::raw_exchange(port, "GET /" + std::string(5000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(statuses(uri) == std::vector<int>{414});
  const auto head = harvest::test::raw_exchange(
      port, "GET /api/health HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(9000, 'b') + "\r\n\r\n");
  CHECK(statuses(head) == std::vector<int>{431});
  // Headers that fit (lws drops the ones it does not know, but their bytes count) still work.
  auto fine = http_get(port, "/api/health", {{"X-Padding", std::string(6000, 'c')}});
  CHECK(fine.status == 200);
}

// At the file-descriptor limit accept() fails with EMFILE and leaves the connection in the
// backlog: a level-triggered listener is then readable for ever, and retrying spun a core.
// Bound (generous, and CPU time, not wall time): under a quarter of a core over 2 s.
TEST_CASE("out of file descriptors the listener does not spin, and recovers", "[http][fds]") {
  for (const char* fanout : {"0", "1"}) {
    DYNAMIC_SECTION("--fanout-threads " << fanout) {
      TempDir dir;
      ServerProcess server(with_admin(dir, {"--fanout-threads", fanout}));
      const int port = server.http_port();
      REQUIRE(http_get(port, "/api/health").status == 200);
      const rlim_t limit = open_fds(server.pid()) + 16;
      const rlimit low{limit, limit};
      REQUIRE(::prlimit(server.pid(), RLIMIT_NOFILE, &low, nullptr) == 0);

      std::vector<Conn> clients;
      for (rlim_t i = 0; i < limit + 40; ++i) clients.emplace_back(port);
      // The server has taken every descriptor it may have (the rest wait in the backlog).
      REQUIRE(wait_until([&] { return open_fds(server.pid()) >= limit; }));

      // A window in which a spinning acceptor would retry accept() hundreds of thousands of
      // times (and burn a core). Its CPU share is reported; what is checked below is the count
      // of failed accepts, which does not depend on how loaded the machine is.
      const double cpu_before = cpu_seconds(server.pid());
      const auto window_start = std::chrono::steady_clock::now();
      wait_until([&] { return std::chrono::steady_clock::now() - window_start >= std::chrono::seconds(2); },
                 std::chrono::seconds(5), std::chrono::milliseconds(100));
      const double window_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
      UNSCOPED_INFO("server CPU at the fd limit: " << (cpu_seconds(server.pid()) - cpu_before) / window_s
                                                   << " of a core");

      clients.clear();
      CHECK(wait_until([&] { return http_get(port, "/api/health").status == 200; }, std::chrono::seconds(30),
                       std::chrono::milliseconds(100)));
      const auto metrics = http_get(port, "/metrics");
      std::smatch m;
      REQUIRE(std::regex_search(metrics.body, m, std::regex("harvest_http_accept_errors_total (\\d+)")));
      // Each waiting connection fails to be accepted about once (it is taken with the reserve
      // descriptor and closed), plus at most ten back-off retries a second: never a spin.
      const uint64_t failed_accepts = std::stoull(m[1]);
      CHECK(failed_accepts > 0);
      CHECK(failed_accepts < 2 * (limit + 40) + 200);
    }
  }
}

TEST_CASE("money metrics need the admin token, the rest of /metrics stays public", "[http][metrics]") {
  TempDir dir;
  ServerProcess server(with_admin(dir));
  const int port = server.http_port();
  const auto anonymous = http_get(port, "/metrics");
  REQUIRE(anonymous.status == 200);
  CHECK(anonymous.body.find("harvest_orders_confirmed_total") != std::string::npos);
  CHECK(anonymous.body.find("harvest_gmv") == std::string::npos);
  CHECK(http_get(port, "/metrics", bearer("wrong")).body.find("harvest_gmv") == std::string::npos);
  CHECK(http_get(port, "/metrics", bearer(kAdmin)).body.find("harvest_gmv_fen_total ") != std::string::npos);
}

namespace {

// A websocket client speaking raw frames (masked, as RFC 6455 requires of clients, unless told).
class RawWebSocket {
public:
  RawWebSocket(int port, const std::string& path) : conn_(port) {
    conn_.send_all("GET " + path + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    while (buf_.find("\r\n\r\n") == std::string::npos && read_more()) {
    }
    const auto end = buf_.find("\r\n\r\n");
    upgraded_ = buf_.rfind("HTTP/1.1 101", 0) == 0 && end != std::string::npos;
    if (end != std::string::npos) buf_.erase(0, end + 4);
  }
  bool upgraded() const { return upgraded_; }
  void send_frame(uint8_t opcode, const std::string& payload) {
    std::string f;
    f += static_cast<char>(0x80 | opcode);
    f += static_cast<char>(0x80 | payload.size());  // payloads here are < 126 bytes
    const char key[4] = {0x11, 0x22, 0x33, 0x44};
    f.append(key, 4);
    for (size_t i = 0; i < payload.size(); ++i) f += static_cast<char>(payload[i] ^ key[i % 4]);
    conn_.send_all(f);
  }
  void send_raw(const std::string& bytes) { conn_.send_all(bytes); }
  // Whether a frame (or the end) can be read within `timeout`.
  bool readable(std::chrono::milliseconds timeout) const {
    return (buf_.size() >= 2 && buf_.size() >= header_size() + payload_size()) || conn_.readable(timeout);
  }
  // The next frame from the server: opcode and payload; opcode -1 if none came.
  std::pair<int, std::string> next_frame() {
    while (!(buf_.size() >= 2 && buf_.size() >= header_size() + payload_size()))
      if (!read_more()) return {-1, {}};
    const size_t head = header_size();
    const size_t len = payload_size();
    std::pair<int, std::string> frame{static_cast<uint8_t>(buf_[0]) & 0x0f, buf_.substr(head, len)};
    buf_.erase(0, head + len);
    return frame;
  }

private:
  size_t header_size() const {
    const auto n = static_cast<uint8_t>(buf_[1]) & 0x7f;
    return n < 126 ? 2 : n == 126 ? 4 : 10;
  }
  size_t payload_size() const {
    const auto n = static_cast<uint8_t>(buf_[1]) & 0x7f;
    if (n < 126) return static_cast<size_t>(n);
    if (buf_.size() < header_size()) return SIZE_MAX / 2;
    size_t len = 0;
    for (size_t i = 2; i < header_size(); ++i) len = (len << 8) | static_cast<uint8_t>(buf_[i]);
    return len;
  }
  bool read_more() {
    if (!conn_.readable(std::chrono::seconds(10))) return false;
    char chunk[16384];
    const ssize_t n = ::recv(conn_.fd(), chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  Conn conn_;
  std::string buf_;
  bool upgraded_ = false;
};

}  // namespace

TEST_CASE("a binary websocket frame closes with 1003 instead of a JSON parse error", "[http][websocket]") {
  TempDir dir;
  ServerProcess server(with_admin(dir));
  const auto created = http_request(server.http_port(), "POST", "/api/streams", R"({"title":"ws"})", bearer(kAdmin));
  REQUIRE(created.status == 201);
  RawWebSocket ws(server.http_port(), "/ws?stream=" + json::parse(created.body)["id"].get<std::string>());
  REQUIRE(ws.upgraded());
  REQUIRE(ws.next_frame().first == 0x1);  // welcome
  ws.send_frame(0x2, std::string("\x00\x01binary", 8));
  std::pair<int, std::string> frame;
  do frame = ws.next_frame();
  while (frame.first == 0x1);  // viewer counts and the like may come first
  REQUIRE(frame.first == 0x8);  // close
  REQUIRE(frame.second.size() >= 2);
  CHECK((static_cast<uint8_t>(frame.second[0]) << 8 | static_cast<uint8_t>(frame.second[1])) == 1003);
  CHECK(http_get(server.http_port(), "/api/health").status == 200);
}

TEST_CASE("an unmasked client frame closes the websocket with 1002", "[http][websocket]") {
  for (const char* fanout : {"0", "1"}) {
    DYNAMIC_SECTION("--fanout-threads " << fanout) {
      TempDir dir;
      ServerProcess server(with_admin(dir, {"--fanout-threads", fanout}));
      const auto created = http_request(server.http_port(), "POST", "/api/streams", R"({"title":"ws"})", bearer(kAdmin));
      REQUIRE(created.status == 201);
      const std::string path = "/ws?stream=" + json::parse(created.body)["id"].get<std::string>();
      RawWebSocket ws(server.http_port(), path);
      REQUIRE(ws.upgraded());
      REQUIRE(ws.next_frame().first == 0x1);  // welcome
      ws.send_raw(std::string("\x81\x04ping", 6));  // a text frame without the mask bit
      std::pair<int, std::string> frame;
      do frame = ws.next_frame();
      while (frame.first == 0x1);
      REQUIRE(frame.first == 0x8);
      REQUIRE(frame.second.size() >= 2);
      CHECK((static_cast<uint8_t>(frame.second[0]) << 8 | static_cast<uint8_t>(frame.second[1])) == 1002);
      CHECK(ws.next_frame().first == -1);  // and the connection is gone
      // Everyone else is still served, and a well-behaved client still connects.
      RawWebSocket other(server.http_port(), path);
      REQUIRE(other.upgraded());
      CHECK(other.next_frame().first == 0x1);
      CHECK(http_get(server.http_port(), "/metrics").body.find("reason=\"ws_unmasked_frame\"} 1") != std::string::npos);
    }
  }
}

TEST_CASE("a websocket upgrade on a kept-alive HTTP connection is refused", "[http][websocket]") {
  // The acceptor watches a websocket's frames from the first byte after its upgrade request;
  // an upgrade later on a connection it handed over as plain HTTP is refused, not served
  // unwatched.
  TempDir dir;
  ServerProcess server(with_admin(dir));
  Conn conn(server.http_port());
  conn.send_all("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  const std::string got = conn.read_to_eof(std::chrono::seconds(5));
  REQUIRE(!statuses(got).empty());
  CHECK(statuses(got).front() == 200);
  CHECK(got.find("HTTP/1.1 101") == std::string::npos);
  CHECK(http_get(server.http_port(), "/api/health").status == 200);
}

TEST_CASE("websocket keepalive: a silent peer is pinged, one that answers stays, one that does not is dropped",
          "[http][websocket]") {
  // --ws-keepalive 1: a PING after 1 s of silence, dropped after 2 s. The server's own
  // keepalive (not lws'), on the loop's shard and on a fan-out thread's.
  for (const char* fanout : {"0", "1"}) {
    DYNAMIC_SECTION("--fanout-threads " << fanout) {
      TempDir dir;
      ServerProcess server(with_admin(dir, {"--fanout-threads", fanout, "--ws-keepalive", "1"}));
      const auto created = http_request(server.http_port(), "POST", "/api/streams", R"({"title":"ws"})", bearer(kAdmin));
      REQUIRE(created.status == 201);
      const std::string path = "/ws?stream=" + json::parse(created.body)["id"].get<std::string>();
      RawWebSocket mute(server.http_port(), path);
      RawWebSocket alive(server.http_port(), path);
      REQUIRE(mute.upgraded());
      REQUIRE(alive.upgraded());
      int mute_pings = 0;
      int alive_pings = 0;
      bool mute_gone = false;
      bool alive_gone = false;
      // Three hang-up times: the answering one must outlive them, the mute one must not.
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(6);
      while (std::chrono::steady_clock::now() < until && !alive_gone) {
        if (!mute_gone && mute.readable(std::chrono::milliseconds(20))) {
          const auto frame = mute.next_frame();
          if (frame.first == 0x9) ++mute_pings;
          if (frame.first == -1) mute_gone = true;
        }
        if (alive.readable(std::chrono::milliseconds(20))) {
          const auto frame = alive.next_frame();
          if (frame.first == 0x9) {
            ++alive_pings;
            alive.send_frame(0xA, frame.second);  // PONG with the PING's payload
          }
          if (frame.first == -1) alive_gone = true;
        }
      }
      CHECK(mute_pings >= 1);
      CHECK(mute_gone);
      CHECK(alive_pings >= 2);
      CHECK_FALSE(alive_gone);
      // The one that answered is still served.
      alive.send_frame(0x1, R"({"type":"chat","text":"still here"})");
      std::pair<int, std::string> frame;
      do frame = alive.next_frame();
      while (frame.first == 0x9 || (frame.first == 0x1 && frame.second.find("still here") == std::string::npos &&
                                    frame.second.find("error") == std::string::npos));
      CHECK(frame.first == 0x1);
      CHECK(http_get(server.http_port(), "/metrics").body.find("harvest_ws_keepalive_closes_total 1") != std::string::npos);
    }
  }
}

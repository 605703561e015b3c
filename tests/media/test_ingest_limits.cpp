// RTMP ingest under connection floods and pre-auth memory pressure (docs/reliability.md): one
// address holding hundreds of idle sockets must not lock a real publisher out, and connections
// that never present a stream key must not be able to make the server hold their data.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "media/media_helpers.h"
#include "media/rtmp/chunk.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/wait.h"

using namespace harvest::test;
using namespace harvest::media::rtmp;

namespace {

// Sum of harvest_ingest_refused_total{protocol="rtmp",...} over its reasons, or of one reason.
double rtmp_refusals(const ServerProcess& server, const std::string& reason = {}) {
  const HttpResult r = http_get(server.port("http_port"), "/metrics");
  const std::string prefix = "harvest_ingest_refused_total{protocol=\"rtmp\",reason=\"" + reason;
  double sum = 0;
  std::istringstream lines(r.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    if (!reason.empty() && line.compare(prefix.size(), 2, "\"}") != 0) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

// VmRSS or VmHWM (peak) of a process in KiB, from /proc/PID/status; -1 if unreadable.
long proc_status_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

// A non-blocking TCP connection from `source` (a loopback address) to 127.0.0.1:port.
int connect_from(const char* source, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Keeps `count` idle TCP connections open from one address, reopening each one the server
// closes (after `reopen_after`: the attacker's pace, as a client that reconnects when it is
// dropped), until stopped. Counts the connects it made.
class IdleFlood {
public:
  IdleFlood(const char* source, int port, size_t count, std::chrono::milliseconds reopen_after)
      : thread_([=, this] { run(source, port, count, reopen_after); }) {}
  ~IdleFlood() {
    stop_ = true;
    thread_.join();
  }
  uint64_t connects() const { return connects_.load(); }

private:
  void run(const char* source, int port, size_t count, std::chrono::milliseconds reopen_after) {
    using Clock = std::chrono::steady_clock;
    std::vector<int> fds(count, -1);
    std::vector<Clock::time_point> closed_at(count, Clock::now() - reopen_after);
    std::vector<pollfd> polls(count);
    while (!stop_) {
      const auto now = Clock::now();
      for (size_t i = 0; i < count; ++i) {
        if (fds[i] < 0 && now - closed_at[i] >= reopen_after) {
          fds[i] = connect_from(source, port);
          if (fds[i] >= 0) ++connects_;
          else closed_at[i] = now;
        }
        polls[i] = {fds[i], POLLIN, 0};
      }
      if (::poll(polls.data(), polls.size(), 20) <= 0) continue;
      for (size_t i = 0; i < count; ++i) {
        if (fds[i] < 0 || polls[i].revents == 0) continue;
        char buf[256];
        if (::recv(fds[i], buf, sizeof buf, MSG_DONTWAIT) > 0) continue;  // never sends, but
        ::close(fds[i]);  // EOF or reset: the server dropped it
        fds[i] = -1;
        closed_at[i] = Clock::now();
      }
    }
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }

  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> connects_{0};
  std::thread thread_;
};

}  // namespace

TEST_CASE("one address holding 600 idle RTMP sockets does not keep a real publisher out", "[media][rtmp][limits]") {
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const int port = server.port("rtmp_port");
  const TestStream stream = create_stream(server, "flooded");

  // 127.0.0.2 is loopback too: the flood comes from another address than ffmpeg (127.0.0.1).
  IdleFlood flood("127.0.0.2", port, 600, std::chrono::milliseconds(500));
  // The flood has filled what it may: the server refuses its connections (before the fix, all
  // 512 slots were taken; now the per-address limit is reached).
  REQUIRE(wait_until([&] { return rtmp_refusals(server) > 0; }, std::chrono::seconds(30), std::chrono::milliseconds(100)));
  CHECK(wait_until([&] { return flood.connects() >= 600; }));

  FfmpegInput in;
  in.seconds = 8;
  ChildProcess ffmpeg(ffmpeg_args(in, "flv", rtmp_url(server, stream.key)));
  const Playlist playlist = wait_for_playlist(server, stream.id, 1);
  CHECK(playlist.valid);
  CHECK(stream_info(server, stream.id)["state"] == "live");
  CHECK(rtmp_refusals(server, "too_many_from_address") > 0);
  CHECK(server.log().find("reason=too_many_from_address") != std::string::npos);
}

TEST_CASE("pre-auth RTMP connections sending huge partial messages cannot grow the server's memory",
          "[media][rtmp][limits]") {
  TempDir dir;
  // All 40 from one address: lift the per-address limit so that this is about memory only.
  ServerProcess server(media_server_options(dir, {"--rtmp-max-per-address", "64"}));
  const int port = server.port("rtmp_port");
  const pid_t pid = server.pid();
  REQUIRE(http_get(server.port("http_port"), "/api/health").status == 200);
  const long rss_before = proc_status_kib(pid, "VmRSS");
  REQUIRE(rss_before > 0);

  // After the handshake, no connect and no key: Set Chunk Size 4 MiB, then four chunk streams
  // each announcing an 8 MiB - 16 command message and sending ~4 MiB of it, 15.9 MiB in all
  // (under the old limits: 8 MiB per message, 16 MiB of partial messages per connection).
  constexpr uint32_t kChunk = 4u << 20;
  constexpr uint32_t kDeclared = (8u << 20) - 16;
  std::string flood;
  write_message(flood, 2, kSetChunkSize, 0, 0, std::string("\x00\x40\x00\x00", 4), 128);
  for (uint32_t csid = 3; csid <= 6; ++csid) {
    std::string header;
    write_message(header, csid, kCommandAmf0, 0, 0, std::string(16, 'x'), kChunk);
    header.resize(header.size() - 16);  // the fmt 0 header alone
    header[4] = static_cast<char>(kDeclared >> 16);
    header[5] = static_cast<char>((kDeclared >> 8) & 0xff);
    header[6] = static_cast<char>(kDeclared & 0xff);
    flood += header;
    flood += std::string(csid == 6 ? kChunk - (100u << 10) : kChunk, 'A');
  }

  constexpr int kConns = 40;
  std::vector<int> fds;
  for (int i = 0; i < kConns; ++i) {
    const int fd = connect_loopback(port);
    REQUIRE(fd >= 0);
    fds.push_back(fd);
    const std::string c0c1 = client_handshake_c0c1();
    REQUIRE(::send(fd, c0c1.data(), c0c1.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(c0c1.size()));
    std::string s0s1s2;
    char buf[4096];
    while (s0s1s2.size() < kServerHandshakeBytes) {
      const ssize_t n = ::recv(fd, buf, std::min(sizeof buf, kServerHandshakeBytes - s0s1s2.size()), 0);
      REQUIRE(n > 0);
      s0s1s2.append(buf, static_cast<size_t>(n));
    }
    const std::string c2 = client_handshake_c2(s0s1s2) + flood;
    // Blocking send: all of it goes, or the server closes the connection (EPIPE/ECONNRESET).
    size_t sent = 0;
    while (sent < c2.size()) {
      const ssize_t n = ::send(fd, c2.data() + sent, c2.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
  }
  // The server stays responsive meanwhile.
  CHECK(http_get(server.port("http_port"), "/api/health").status == 200);
  // Every connection ends (refused at once, or at the setup timeout); by then the server has
  // read what it was going to read, and VmHWM holds the peak.
  for (int fd : fds) {
    CHECK(wait_until(
        [&] {
          char buf[4096];
          pollfd p{fd, POLLIN, 0};
          if (::poll(&p, 1, 0) <= 0) return false;
          return ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(20)));
    ::close(fd);
  }
  const long peak = proc_status_kib(pid, "VmHWM");
  INFO("VmRSS before " << rss_before << " KiB, VmHWM after " << peak << " KiB");
  // The bound: 64 MiB over the idle server for 40 connections (before the limits: ~16 MiB each,
  // over 600 MiB). Generous for what the sanitizer build adds around each allocation.
  CHECK(peak - rss_before < 64 * 1024);
  CHECK(server.log().find("before a valid stream key") != std::string::npos);
  CHECK(http_get(server.port("http_port"), "/api/health").status == 200);
}

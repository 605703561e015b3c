// paygen: plays a payment service at full speed — signed notifications (POST
// /api/payments/notify, X-Signature = hex HMAC-SHA256 of the body) for orders FIRST..LAST over
// keep-alive HTTP/1.1 connections, each connection one notification in flight. Prints
// payments/s and answer latency; it never fails on time.
//
//   paygen --port P --secret S --first 1 --last 50000 --amount 3990 [--connections 16]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "paygen: %s\n", message.c_str());
  std::exit(2);
}

std::string hmac_hex(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), mac, &len);
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(digits[mac[i] >> 4]);
    out.push_back(digits[mac[i] & 0xf]);
  }
  return out;
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("cannot connect");
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Reads one HTTP response (head + Content-Length body); returns its status, 0 on a closed socket.
int read_response(int fd, std::string& buffer) {
  for (;;) {
    const size_t head_end = buffer.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      size_t length = 0;
      const size_t cl = buffer.find("content-length:");
      const size_t cl2 = buffer.find("Content-Length:");
      const size_t at = std::min(cl, cl2);
      if (at != std::string::npos && at < head_end) length = std::strtoul(buffer.c_str() + at + 15, nullptr, 10);
      if (buffer.size() >= head_end + 4 + length) {
        const int status = std::atoi(buffer.c_str() + 9);
        buffer.erase(0, head_end + 4 + length);
        return status;
      }
    }
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return 0;
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  int connections = 16;
  long first = 1;
  long last = 0;
  long amount = 0;
  std::string secret;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const char* v = argv[i + 1];
    if (a == "--port") port = std::atoi(v);
    else if (a == "--connections") connections = std::max(1, std::atoi(v));
    else if (a == "--first") first = std::atol(v);
    else if (a == "--last") last = std::atol(v);
    else if (a == "--amount") amount = std::atol(v);
    else if (a == "--secret") secret = v;
    else die("unknown flag " + a);
  }
  if (port <= 0 || secret.empty() || last < first) die("usage: paygen --port P --secret S --first A --last B --amount FEN");

  std::atomic<long> next{first};
  std::atomic<long> paid{0};
  std::atomic<long> other{0};
  std::vector<std::vector<double>> latencies(static_cast<size_t>(connections));
  const auto started = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      const int fd = connect_to(port);
      std::string buffer;
      for (long id = next++; id <= last; id = next++) {
        const std::string body = "{\"order_id\":" + std::to_string(id) + ",\"payment_id\":\"bench-" + std::to_string(id) +
                                 "\",\"amount\":" + std::to_string(amount) + ",\"currency\":\"CNY\",\"status\":\"paid\"}";
        const std::string request = "POST /api/payments/notify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                    "X-Signature: " + hmac_hex(secret, body) + "\r\nContent-Length: " +
                                    std::to_string(body.size()) + "\r\n\r\n" + body;
        const auto sent = Clock::now();
        if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) die("send failed");
        const int status = read_response(fd, buffer);
        if (status == 0) die("the server closed the connection");
        latencies[static_cast<size_t>(c)].push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
        (status == 200 ? paid : other)++;
      }
      ::close(fd);
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())))]; };
  std::printf("mode=payments connections=%d notices=%zu ok=%ld other=%ld seconds=%.2f payments_per_s=%.0f p50_ms=%.2f p99_ms=%.2f\n",
              connections, all.size(), paid.load(), other.load(), seconds, static_cast<double>(all.size()) / seconds,
              pct(0.5), pct(0.99));
  return 0;
}

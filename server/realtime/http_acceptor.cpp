// HttpServer, the accepting thread: our own listener (not lws'), so that a request line or
// headers that are too long get 414/431, descriptors running out do not spin a core, and a
// websocket upgrade can go to another shard. See docs/architecture.md "Fan-out threads".
#include "realtime/http_server_parts.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <uv.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_set>

#include "core/log.h"
#include "core/net.h"
#include "core/metrics.h"
#include "realtime/ws_frame_gate.h"

namespace harvest::realtime {

using namespace http_detail;

std::string HttpServer::open_listener() {
  const net::Listener listener = net::listen_tcp(options_.bind_address, options_.port, SOMAXCONN, /*nonblocking=*/true);
  if (listener.outcome == net::Listener::Outcome::bad_address)
    return "cannot listen on '" + options_.bind_address + "': the HTTP listener needs an IPv4 address";
  if (listener.outcome != net::Listener::Outcome::ok) {
    return "cannot listen for HTTP on " + options_.bind_address + ":" + std::to_string(options_.port) +
           " (port in use or not permitted)";
  }
  listen_fd_ = listener.fd;
  port_ = listener.port;
  acceptor_wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  return acceptor_wake_fd_ < 0 ? "eventfd failed" : "";
}

namespace {

// Out of file descriptors, accept() fails with EMFILE (or ENFILE) and leaves the connection in
// the backlog: the level-triggered listener stays readable and retrying at once spins a core
// for as long as the shortage lasts. The acceptor keeps one descriptor in reserve and gives it
// up to take the waiting connection and close it at once (the client sees a closed connection
// instead of a hang, and the backlog empties), then takes it back. When even that fails
// (another thread took the descriptor, or the kernel is out of memory) the listener is left
// alone for a moment (kAcceptPause).
class DescriptorReserve {
public:
  DescriptorReserve() { take(); }
  ~DescriptorReserve() {
    if (fd_ >= 0) ::close(fd_);
  }
  DescriptorReserve(const DescriptorReserve&) = delete;
  DescriptorReserve& operator=(const DescriptorReserve&) = delete;

  // Accepts one waiting connection with the reserved descriptor and closes it.
  bool shed(int listen_fd) {
    if (fd_ < 0 && !take()) return false;
    ::close(fd_);
    fd_ = -1;
    const int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c >= 0) ::close(c);
    take();
    return c >= 0;
  }

private:
  bool take() {
    fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd_ >= 0;
  }
  int fd_ = -1;
};

// The class of a whole plain request head's request ("METHOD /path?query HTTP/1.1").
RequestClass request_class_of_head(std::string_view head) {
  const size_t method_end = head.find(' ');
  if (method_end == std::string_view::npos) return RequestClass::api;
  const size_t target_end = head.find_first_of(" ?", method_end + 1);
  if (target_end == std::string_view::npos) return RequestClass::api;
  return classify_request(head.substr(0, method_end), head.substr(method_end + 1, target_end - method_end - 1));
}

constexpr auto kAcceptPause = std::chrono::milliseconds(100);
constexpr char kTlsHandshakeRecord = 0x16;  // the first byte of a TLS ClientHello
constexpr auto kAcceptErrorLogInterval = std::chrono::seconds(10);

bool out_of_descriptors(int err) { return err == EMFILE || err == ENFILE; }

// Counts accept() failures; logs them at most once per interval (a shortage fails thousands).
class AcceptErrorLog {
public:
  void count(int err) {
    metrics().http_accept_errors.fetch_add(1, std::memory_order_relaxed);
    ++since_log_;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_log_ < kAcceptErrorLogInterval) return;
    log::warn("http_accept_failed").kv("error", std::strerror(err)).kv("failures", since_log_);
    since_log_ = 0;
    last_log_ = now;
  }

private:
  uint64_t since_log_ = 0;
  std::chrono::steady_clock::time_point last_log_{};
};

// Answers a connection the acceptor refuses (before lws has it) and closes it. What the client
// sent is read first: closing with unread bytes would send a reset that can destroy the
// answer before the client reads it.
void refuse_raw(int fd, const HttpResponse& response, const char* reason) {
  metrics().http_refused.add(reason);
  char sink[4096];
  for (int i = 0; i < 16 && ::recv(fd, sink, sizeof sink, 0) > 0; ++i) {
  }
  const std::string text = raw_response(response);
  if (::send(fd, text.data(), text.size(), MSG_NOSIGNAL) < 0) log::debug("http_refusal_not_sent");
  ::shutdown(fd, SHUT_WR);
  ::close(fd);
}

}  // namespace

// The accepting thread: accepts, waits (without consuming anything) until a connection has
// sent its whole request head, refuses over-long heads (414/431), and hands the socket to a
// shard: websocket upgrades round-robin over all shards, everything else to shard 0. With TLS
// connections that start a TLS handshake go round-robin over all shards at once, plain HTTP
// from this machine is served as without TLS, and plain HTTP from elsewhere is redirected.
void HttpServer::accept_loop() {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event listen_ev{};
  listen_ev.events = EPOLLIN;
  listen_ev.data.fd = listen_fd_;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd_, &listen_ev);
  epoll_event wake_ev{};
  wake_ev.events = EPOLLIN;
  wake_ev.data.fd = acceptor_wake_fd_;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, acceptor_wake_fd_, &wake_ev);
  std::unordered_map<int, std::chrono::steady_clock::time_point> waiting;  // fd -> accepted at
  DescriptorReserve reserve;
  AcceptErrorLog accept_errors;
  std::optional<std::chrono::steady_clock::time_point> paused_until;  // listener left alone
  std::string head(options_.max_head_bytes + 1, '\0');
  size_t next_ws_shard = 0;
  size_t next_tls_shard = 0;
  std::unordered_set<int> loopback;  // waiting connections from this machine
  std::unordered_map<int, std::string> peers;  // waiting connections' addresses (with a budget)
  auto forget = [&](int fd) {
    ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    waiting.erase(fd);
    loopback.erase(fd);
    peers.erase(fd);
  };
  auto hand_over = [&](int fd, size_t shard_index, bool tls_handshake = false, bool charged = false) {
    forget(fd);
    Shard& sh = *shards_[shard_index];
    bool wake = false;
    {
      std::lock_guard lock(sh.mutex);
      wake = sh.adopt.empty() && sh.ops.empty();
      sh.adopt.push_back({fd, tls_handshake, charged});
    }
    if (wake) lws_cancel_service(sh.context);
  };
  const bool tls = !options_.tls_cert.empty();
  auto accept_new = [&] {
    sockaddr_in peer{};
    socklen_t peer_len = sizeof peer;
    const int c = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c >= 0) {
      if (peer.sin_family == AF_INET && (ntohl(peer.sin_addr.s_addr) >> 24) == 127) loopback.insert(c);
      char text[INET_ADDRSTRLEN] = {0};
      if (budget_ && peer.sin_family == AF_INET && ::inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text) != nullptr)
        peers.emplace(c, text);
      epoll_event cev{};
      // Edge-triggered: a head that arrives in pieces wakes us once per piece.
      cev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
      cev.data.fd = c;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
      waiting.emplace(c, std::chrono::steady_clock::now());
      return;
    }
    const int err = errno;
    if (err == EAGAIN || err == EINTR || err == ECONNABORTED) return;
    accept_errors.count(err);
    if (out_of_descriptors(err) && reserve.shed(listen_fd_)) return;
    ::epoll_ctl(ep, EPOLL_CTL_DEL, listen_fd_, nullptr);
    paused_until = std::chrono::steady_clock::now() + kAcceptPause;
  };
  auto inspect = [&](int fd) {
    const ssize_t got = ::recv(fd, head.data(), head.size(), MSG_PEEK);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
      forget(fd);
      ::close(fd);
      return;
    }
    if (got < 0) return;
    const std::string_view seen(head.data(), static_cast<size_t>(got));
    if (tls && seen.front() == kTlsHandshakeRecord) {
      // The head is encrypted: a shard's lws does the TLS handshake and reads it (no 414/431
      // from here; lws' own header limits apply). Websockets cannot be told from requests, so
      // these go round-robin over every shard; a request on a shard that is not the loop's
      // is screened and handled on the loop (http_remote.cpp).
      hand_over(fd, next_tls_shard++ % shards_.size(), /*tls_handshake=*/true);
      return;
    }
    const HeadVerdict verdict = inspect_request_head(seen, options_.max_request_line_bytes, options_.max_head_bytes);
    if (tls && !loopback.count(fd) && (verdict == HeadVerdict::request || verdict == HeadVerdict::websocket)) {
      // Plain HTTP on the TLS port from another machine: someone typed http://, and a phone's
      // camera needs a secure origin. Sent on to the same URL over https. (From this machine
      // plain HTTP is served: http://localhost is a secure origin already, and the demo's
      // http://localhost:8080 keeps working without a certificate warning.)
      forget(fd);
      const std::string target = https_url_for(seen);
      HttpResponse redirect = target.empty() ? HttpResponse::error(400, "https_required", "this port speaks HTTPS only")
                                             : HttpResponse::text(308, "this server speaks HTTPS: " + target + "\n");
      if (!target.empty()) redirect.headers.emplace_back("Location", target);
      refuse_raw(fd, redirect, "plain_http_on_tls");
      return;
    }
    bool charged = false;
    if (verdict == HeadVerdict::request && budget_ && peers.count(fd)) {
      // The connection's first request is charged here, and one over its address's budget is
      // answered here: a flood of connections from one address never reaches the loop. Later
      // requests on a kept-alive connection are charged where lws reads them
      // (handle_http_request).
      const int64_t wait_s = budget_->take(peers[fd], request_class_of_head(seen), std::chrono::steady_clock::now());
      if (wait_s > 0) {
        forget(fd);
        HttpResponse limited =
            HttpResponse::error(429, "rate_limited", "too many requests from your address; try again shortly");
        limited.headers.emplace_back("Retry-After", std::to_string(wait_s));
        refuse_raw(fd, limited, "request_budget");
        return;
      }
      charged = true;
    }
    switch (verdict) {
      case HeadVerdict::incomplete: return;
      case HeadVerdict::request: hand_over(fd, 0, false, charged); return;
      case HeadVerdict::websocket:
        // The frames that follow the head are watched for the mask bit (ws_frame_gate.h).
        watch_client_frames(fd, seen.find("\r\n\r\n") + 4);
        hand_over(fd, next_ws_shard++ % shards_.size());
        return;
      case HeadVerdict::uri_too_long:
        forget(fd);
        refuse_raw(fd, HttpResponse::error(414, "uri_too_long", "the request line is too long"), "uri_too_long");
        return;
      case HeadVerdict::head_too_large:
        forget(fd);
        refuse_raw(fd, HttpResponse::error(431, "headers_too_large", "the request headers are too large"),
                   "head_too_large");
        return;
    }
  };
  epoll_event events[64];
  for (;;) {
    int wait_ms = 1000;
    if (paused_until) {
      const auto left = *paused_until - std::chrono::steady_clock::now();
      wait_ms = static_cast<int>(std::max<int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(left).count()));
    }
    const int n = ::epoll_wait(ep, events, 64, wait_ms);
    if (n < 0 && errno != EINTR) break;
    bool stop = false;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == acceptor_wake_fd_) stop = true;
      else if (fd == listen_fd_) accept_new();  // one per wake-up: the listener is level-triggered
      else inspect(fd);
    }
    if (stop) break;
    if (paused_until && std::chrono::steady_clock::now() >= *paused_until) {
      paused_until.reset();
      ::epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd_, &listen_ev);
    }
    // Connections that sent no whole head within 10 s go to shard 0, whose timeouts apply.
    const auto too_old = std::chrono::steady_clock::now() - std::chrono::seconds(10);
    std::vector<int> stale;
    for (const auto& [fd, at] : waiting)
      if (at < too_old) stale.push_back(fd);
    for (int fd : stale) hand_over(fd, 0);
  }
  for (const auto& [fd, at] : waiting) ::close(fd);
  ::close(ep);
}

}  // namespace harvest::realtime

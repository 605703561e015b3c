#include "media/rtmp/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/net.h"
#include "media/rtmp/conn.h"

namespace harvest::media::rtmp {
namespace {
constexpr uint64_t kListenTag = 1;
constexpr uint64_t kWakeTag = 2;

// The peer's address (what the per-address limit counts) and port.
std::pair<std::string, int> peer_of(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = {0};
  int port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
  }
  return {host, port};
}

void wake(int fd) {
  const uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
}
}  // namespace

RtmpServer::RtmpServer(EventLoop& loop, IngestManager& ingest, RtmpServerOptions options)
    : loop_(loop), ingest_(ingest), options_(std::move(options)), thread_([this] { wake(wake_fd_); }) {}

RtmpServer::~RtmpServer() {
  stop();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (prompt_fd_ >= 0) ::close(prompt_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

std::string RtmpServer::start() {
  const net::Listener listener = net::listen_tcp(options_.bind_address, options_.port, 128, true);
  if (listener.outcome == net::Listener::Outcome::bad_address)
    return "cannot listen for RTMP on '" + options_.bind_address + "': not an IPv4 address";
  if (listener.outcome != net::Listener::Outcome::ok)
    return "cannot listen for RTMP on " + options_.bind_address + ":" + std::to_string(options_.port) + " (" +
           std::strerror(listener.error) + ")";
  listen_fd_ = listener.fd;
  port_ = listener.port;

  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  prompt_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || prompt_fd_ < 0 || wake_fd_ < 0) return "cannot create the RTMP event loop";
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenTag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.u64 = kWakeTag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  thread_.start([this] { run(); });
  return {};
}

void RtmpServer::stop() { thread_.stop(); }

void RtmpServer::post(std::function<void()> task) { thread_.post(std::move(task)); }

void RtmpServer::want_write(int fd, bool on) {
  for (auto& [id, conn] : conns_) {
    if (conn->fd() != fd) continue;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.u64 = id;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
    return;
  }
}

void RtmpServer::forget(int fd) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  ::epoll_ctl(prompt_fd_, EPOLL_CTL_DEL, fd, nullptr);  // ENOENT when it was not in the set
}

RtmpConn* RtmpServer::find(uint64_t conn_id) {
  auto it = conns_.find(conn_id);
  return it == conns_.end() || it->second->finished() ? nullptr : it->second.get();
}

void RtmpServer::kick(uint64_t conn_id, const std::string& reason) {
  if (RtmpConn* c = find(conn_id)) c->close(reason);
}

void RtmpServer::on_authenticated(const RtmpConn& conn) { forget_pending(conn.address()); }

void RtmpServer::forget_pending(const std::string& address) {
  auto it = pending_by_address_.find(address);
  if (it != pending_by_address_.end() && --it->second == 0) pending_by_address_.erase(it);
}

void RtmpServer::log_refusal(const std::string& peer, const char* reason) {
  count_ingest_refusal("rtmp", reason);
  const int64_t now = steady_ms();
  if (now - refusal_log_ms_ < 1000) {
    ++refusals_unlogged_;
    return;
  }
  refusal_log_ms_ = now;
  log::warn("rtmp_conn_refused").kv("peer", peer).kv("reason", reason).kv("also_refused_since_last_line", refusals_unlogged_);
  refusals_unlogged_ = 0;
}

bool RtmpServer::admit(const std::string& address, const std::string& peer) {
  if (auto it = pending_by_address_.find(address);
      it != pending_by_address_.end() && it->second >= options_.max_pending_per_address) {
    log_refusal(peer, "too_many_from_address");
    return false;
  }
  if (conns_.size() < options_.max_connections) return true;
  // Full. Closed connections leave conns_ only in close_finished(), so count the live ones.
  size_t open = 0;
  RtmpConn* oldest_pending = nullptr;
  for (auto& [id, conn] : conns_) {
    if (conn->finished()) continue;
    ++open;
    if (oldest_pending == nullptr && !conn->authenticated()) oldest_pending = conn.get();
  }
  if (open < options_.max_connections) return true;
  if (oldest_pending == nullptr) {
    log_refusal(peer, "too_many_connections");
    return false;
  }
  oldest_pending->close("evicted: the server is full and this connection had not presented a stream key");
  count_ingest_refusal("rtmp", "evicted");
  return true;
}

void RtmpServer::accept_all() {
  while (true) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    const auto [address, port] = peer_of(addr);
    const std::string peer = address + ":" + std::to_string(port);
    if (!admit(address, peer)) {
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const uint64_t id = next_id_++;
    ++pending_by_address_[address];
    auto conn = std::make_unique<RtmpConn>(*this, fd, id, address, peer);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = id;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    log::debug("rtmp_conn_opened").kv("conn", id).kv("peer", peer);
    conns_.emplace(id, std::move(conn));
  }
}

void RtmpServer::close_finished() {
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (it->second->finished()) {
      if (!it->second->authenticated()) forget_pending(it->second->address());
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

bool RtmpServer::handle(const epoll_event* events, int n) {
  bool had_io = false;
  for (int i = 0; i < n; ++i) {
    const uint64_t tag = events[i].data.u64;
    if (tag == kListenTag) {
      accept_all();
    } else if (tag == kWakeTag) {
      uint64_t drained = 0;
      [[maybe_unused]] auto r = ::read(wake_fd_, &drained, sizeof drained);
      thread_.run_tasks();
    } else {
      auto it = conns_.find(tag);
      if (it == conns_.end()) continue;
      RtmpConn& c = *it->second;
      had_io = true;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) c.on_readable();
      if (!c.finished() && (events[i].events & EPOLLOUT)) c.on_writable();
      if (!c.finished()) update_prompt(tag, c);
    }
  }
  return had_io;
}

void RtmpServer::update_prompt(uint64_t id, RtmpConn& conn) {
  const bool want = conn.wants_prompt_reads();
  if (want == conn.prompt()) return;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = id;
  ::epoll_ctl(prompt_fd_, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, conn.fd(), &ev);
  conn.set_prompt(want);
}

void RtmpServer::run() {
  epoll_event events[64];
  int64_t last_sweep = steady_ms();
  while (!thread_.stopping()) {
    const int n = ::epoll_wait(epoll_fd_, events, 64, 100);
    const bool had_io = handle(events, n);
    int64_t now = steady_ms();
    if (now - last_sweep >= 100) {
      last_sweep = now;
      for (auto& [id, conn] : conns_) conn->check_timeouts(now);
    }
    close_finished();
    if (!had_io || options_.coalesce.count() <= 0) continue;
    // Coalesce: let the other publishers' bytes gather for a round, but serve the prompt set
    // (publishers whose keyframe is due) as their bytes arrive.
    const int64_t round_end = now + options_.coalesce.count();
    while (!thread_.stopping() && (now = steady_ms()) < round_end) {
      const int m = ::epoll_wait(prompt_fd_, events, 64, static_cast<int>(round_end - now));
      if (m <= 0) continue;
      handle(events, m);
      close_finished();
    }
  }
  for (auto& [id, conn] : conns_) conn->close("server shutting down", false);
  conns_.clear();
}

}  // namespace harvest::media::rtmp

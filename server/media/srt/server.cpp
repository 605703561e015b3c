#include "media/srt/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <srt/access_control.h>
#include <srt/srt.h>

#include <cstring>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "media/srt/conn.h"
#include "media/srt/stream_id.h"

namespace harvest::media::srt {
namespace {

std::string peer_name(const sockaddr* addr) {
  if (addr == nullptr) return "?";
  char host[INET6_ADDRSTRLEN] = {0};
  int port = 0;
  if (addr->sa_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
  } else if (addr->sa_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

int listen_hook(void* opaque, SRTSOCKET ns, int /*hsversion*/, const sockaddr* peer, const char* streamid) {
  return static_cast<SrtServer*>(opaque)->on_listen(ns, streamid, peer_name(peer));
}

// libsrt's own log lines go through ours (debug level: they are diagnostics, and the server logs
// every decision it makes itself).
void srt_log(void*, int level, const char* file, int line, const char* area, const char* message) {
  std::string text = message != nullptr ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  log::debug("srt_lib").kv("level", level).kv("area", area != nullptr ? area : "").kv("at", std::string(file != nullptr ? file : "") + ":" + std::to_string(line)).kv("msg", text);
}

std::mutex g_startup_mutex;
int g_startup_count = 0;

}  // namespace

SrtServer::SrtServer(EventLoop& loop, IngestManager& ingest, SrtServerOptions options)
    : loop_(loop), ingest_(ingest), options_(std::move(options)) {
  std::lock_guard lock(g_startup_mutex);
  if (g_startup_count++ == 0) {
    srt_startup();
    srt_setloglevel(LOG_ERR);
    srt_setloghandler(nullptr, &srt_log);
    srt_setlogflags(SRT_LOGF_DISABLE_TIME | SRT_LOGF_DISABLE_THREADNAME | SRT_LOGF_DISABLE_SEVERITY | SRT_LOGF_DISABLE_EOL);
  }
}

SrtServer::~SrtServer() {
  stop();
  if (listener_ >= 0) srt_close(listener_);
  if (epoll_ >= 0) srt_epoll_release(epoll_);
  std::lock_guard lock(g_startup_mutex);
  if (--g_startup_count == 0) srt_cleanup();
}

std::string SrtServer::start() {
  listener_ = srt_create_socket();
  if (listener_ == SRT_INVALID_SOCK) return std::string("cannot create the SRT socket: ") + srt_getlasterror_str();
  const int no = 0;
  const int yes = 1;
  const int latency = static_cast<int>(options_.latency.count());
  srt_setsockflag(listener_, SRTO_RCVSYN, &no, sizeof no);
  srt_setsockflag(listener_, SRTO_REUSEADDR, &yes, sizeof yes);
  srt_setsockflag(listener_, SRTO_RCVLATENCY, &latency, sizeof latency);
  // libsrt breaks a connection after 5 s without a packet from the peer; a 4G dropout is often
  // longer. Leave the decision to our own idle timeout (10 s, SrtConn::tick), as WHIP's 10 s
  // silence does, so a publisher back within the outage + grace keeps the playlist
  // (docs/reliability.md, "Weak uplinks"). Accepted sockets inherit the listener's options.
  const int peer_idle = static_cast<int>(options_.idle_timeout.count());
  srt_setsockflag(listener_, SRTO_PEERIDLETIMEO, &peer_idle, sizeof peer_idle);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(options_.port));
  if (inet_pton(AF_INET, options_.bind_address.c_str(), &addr.sin_addr) != 1)
    return "cannot listen for SRT on '" + options_.bind_address + "': not an IPv4 address";
  if (srt_bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == SRT_ERROR)
    return "cannot listen for SRT on " + options_.bind_address + ":" + std::to_string(options_.port) + " (" +
           srt_getlasterror_str() + ")";
  if (srt_listen_callback(listener_, &listen_hook, this) == SRT_ERROR || srt_listen(listener_, 64) == SRT_ERROR)
    return std::string("cannot listen for SRT: ") + srt_getlasterror_str();
  int len = sizeof addr;
  srt_getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  epoll_ = srt_epoll_create();
  const int events = static_cast<int>(SRT_EPOLL_IN | SRT_EPOLL_ERR);
  srt_epoll_add_usock(epoll_, listener_, &events);
  thread_.start([this] { run(); });
  return {};
}

void SrtServer::stop() { thread_.stop(); }

void SrtServer::post(std::function<void()> task) { thread_.post(std::move(task)); }

int SrtServer::on_listen(int socket, const char* stream_id, const std::string& peer) {
  const std::string text = stream_id != nullptr ? stream_id : "";
  auto refuse = [&](int code, const char* reason) {
    srt_setrejectreason(socket, code);
    log::warn("publish_refused").kv("protocol", "srt").kv("publisher", peer).kv("reason", reason).kv("reject_code", code);
    count_ingest_refusal("srt", reason);
    return -1;
  };
  const auto parsed = parse_stream_id(text);
  if (!parsed) return refuse(SRT_REJX_BAD_REQUEST, "bad_stream_id");
  if (!parsed->mode.empty() && parsed->mode != "publish") return refuse(SRT_REJX_BAD_MODE, "not_publish_mode");
  const auto key = publish_key(*parsed);
  if (!key) return refuse(SRT_REJX_BAD_REQUEST, "bad_resource");
  // The key directory mirrors the registry and the publishing sessions; the loop still makes the
  // final decision after accept.
  const auto stream = ingest_.stream_for_key(*key);
  if (!stream) return refuse(SRT_REJX_FORBIDDEN, "bad_key");
  if (ingest_.has_healthy_publisher(*stream)) return refuse(SRT_REJX_CONFLICT, "busy");
  {
    std::lock_guard lock(admissions_mutex_);
    const auto now = std::chrono::steady_clock::now();
    auto [it, fresh] = admitted_at_.try_emplace(*stream, now);
    if (!fresh && now - it->second < kAdmissionHold) return refuse(SRT_REJX_CONFLICT, "busy");
    it->second = now;
  }
  return 0;
}

void SrtServer::forget(int socket) { srt_epoll_remove_usock(epoll_, socket); }

SrtConn* SrtServer::find(int socket) {
  auto it = conns_.find(socket);
  return it == conns_.end() || it->second->finished() ? nullptr : it->second.get();
}

void SrtServer::accept_all() {
  {  // one caller per readiness event: srt_accept on an empty queue only logs an error
    sockaddr_storage addr{};
    int len = sizeof addr;
    const SRTSOCKET s = srt_accept(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    if (s == SRT_INVALID_SOCK) return;
    const std::string peer = peer_name(reinterpret_cast<sockaddr*>(&addr));
    if (conns_.size() >= options_.max_connections) {
      log::warn("srt_conn_refused").kv("peer", peer).kv("reason", "too many connections");
      count_ingest_refusal("srt", "too_many_connections");
      srt_close(s);
      return;
    }
    char sid[600] = {0};
    int sid_len = sizeof sid - 1;
    srt_getsockflag(s, SRTO_STREAMID, sid, &sid_len);
    std::string key;
    if (auto parsed = parse_stream_id(std::string(sid, static_cast<size_t>(std::max(sid_len, 0))))) {
      if (auto k = publish_key(*parsed)) key = *k;
    }
    const int no = 0;
    srt_setsockflag(s, SRTO_RCVSYN, &no, sizeof no);
    const int events = static_cast<int>(SRT_EPOLL_IN | SRT_EPOLL_ERR);
    srt_epoll_add_usock(epoll_, s, &events);
    auto conn = std::make_unique<SrtConn>(*this, s, peer, key);
    SrtConn* raw = conn.get();
    conns_.emplace(s, std::move(conn));
    raw->request_publish();
  }
}

void SrtServer::run() {
  SRT_EPOLL_EVENT events[64];
  int64_t last_tick = steady_ms();
  while (!thread_.stopping()) {
    const int n = srt_epoll_uwait(epoll_, events, 64, 50);
    for (int i = 0; i < n; ++i) {
      if (events[i].fd == listener_) {
        accept_all();
        continue;
      }
      auto it = conns_.find(events[i].fd);
      if (it == conns_.end()) continue;
      if (events[i].events & static_cast<int>(SRT_EPOLL_ERR)) it->second->close("connection broken", false);
      else it->second->on_readable();
    }
    thread_.run_tasks();
    const int64_t now = steady_ms();
    if (now - last_tick >= 100) {
      last_tick = now;
      for (auto& [s, c] : conns_) c->tick(now);
    }
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (it->second->finished()) {
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& [s, c] : conns_) c->close("server shutting down", false);
  conns_.clear();
}

}  // namespace harvest::media::srt

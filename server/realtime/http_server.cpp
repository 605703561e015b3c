#include "realtime/http_server.h"

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

#include "core/log.h"
#include "core/net.h"
#include "core/metrics.h"

namespace harvest::realtime {
namespace {

// Connection ids carry their shard in the low bits.
constexpr unsigned kShardBits = 6;
constexpr ConnId kShardMask = (ConnId{1} << kShardBits) - 1;

struct ShardRef {
  HttpServer* server;
  HttpServer::Shard* shard;
};

int lws_trampoline(lws* wsi, lws_callback_reasons reason, void* /*user*/, void* in, size_t len) {
  auto* ref = static_cast<ShardRef*>(lws_context_user(lws_get_context(wsi)));
  if (ref == nullptr) return 0;
  return ref->server->on_lws_event(*ref->shard, wsi, static_cast<int>(reason), in, len);
}

// One protocol serves HTTP and the websocket upgrade: browsers open /ws without a
// subprotocol, and lws gives such connections the vhost's first protocol.
// tx_packet_size: lws sends at most this much of one lws_write() at once and copies the rest
// into a buffer for later (without it, rx_buffer_size: 4 KiB); our writes carry up to
// batch_max_bytes (32 KiB) of frames.
const lws_protocols kProtocols[] = {
    {"harvest", lws_trampoline, 0, 4096, 0, nullptr, 64 * 1024},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

// Ping idle websockets after 30 s, hang up after 60 s without a pong.
const lws_retry_bo_t kIdlePolicy = {
    nullptr, 0, 0, /*secs_since_valid_ping=*/30, /*secs_since_valid_hangup=*/60, 0};

void lws_log_emit(int level, const char* line) {
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (level & LLL_ERR) log::error("lws").kv("msg", text);
  else log::warn("lws").kv("msg", text);
}

std::string method_name(int index) {
  switch (index) {
    case LWSHUMETH_GET: return "GET";
    case LWSHUMETH_POST: return "POST";
    case LWSHUMETH_OPTIONS: return "OPTIONS";
    case LWSHUMETH_PUT: return "PUT";
    case LWSHUMETH_PATCH: return "PATCH";
    case LWSHUMETH_DELETE: return "DELETE";
    case LWSHUMETH_HEAD: return "HEAD";
    default: return "OTHER";
  }
}

std::string copy_header(lws* wsi, lws_token_indexes token) {
  const int len = lws_hdr_total_length(wsi, token);
  if (len <= 0) return {};
  std::string out(static_cast<size_t>(len) + 1, '\0');
  const int n = lws_hdr_copy(wsi, out.data(), len + 1, token);
  if (n < 0) return {};
  out.resize(static_cast<size_t>(n));
  return out;
}

void read_request_head(lws* wsi, HttpRequest& req) {
  char buf[1024];
  for (int i = 0; lws_hdr_copy_fragment(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_URI_ARGS, i) > 0; ++i) {
    std::string_view arg(buf);
    const auto eq = arg.find('=');
    if (eq == std::string_view::npos) req.query[std::string(arg)] = "";
    else req.query[std::string(arg.substr(0, eq))] = std::string(arg.substr(eq + 1));
  }
  const std::pair<const char*, lws_token_indexes> wanted[] = {
      {"authorization", WSI_TOKEN_HTTP_AUTHORIZATION},
      {"content-type", WSI_TOKEN_HTTP_CONTENT_TYPE},
      {"content-length", WSI_TOKEN_HTTP_CONTENT_LENGTH},
      {"transfer-encoding", WSI_TOKEN_HTTP_TRANSFER_ENCODING},
      {"host", WSI_TOKEN_HOST},
      {"accept-language", WSI_TOKEN_HTTP_ACCEPT_LANGUAGE},
      {"origin", WSI_TOKEN_ORIGIN},
      {"user-agent", WSI_TOKEN_HTTP_USER_AGENT},
  };
  for (const auto& [name, token] : wanted) {
    std::string value = copy_header(wsi, token);
    if (!value.empty()) req.headers[name] = std::move(value);
  }
  char peer[64] = {0};
  lws_get_peer_simple(wsi, peer, sizeof peer);
  req.peer = peer;
}

// Closes a websocket from its receive callback with `status` and `reason` (lws sends the
// close frame).
int refuse_frame(lws* wsi, lws_close_status status, std::string_view reason) {
  std::string text(reason);
  lws_close_reason(wsi, status, reinterpret_cast<unsigned char*>(text.data()), text.size());
  return -1;
}

// Appends an unmasked server text frame (RFC 6455 5.2) holding `text`.
void append_text_frame(std::string& out, std::string_view text) {
  const size_t n = text.size();
  out += static_cast<char>(0x81);  // FIN, text
  if (n < 126) {
    out += static_cast<char>(n);
  } else if (n < 65536) {
    out += static_cast<char>(126);
    out += static_cast<char>((n >> 8) & 0xff);
    out += static_cast<char>(n & 0xff);
  } else {
    out += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
  }
  out += text;
}

// Appends the response's extra headers ("name: value") to an lws header buffer.
bool add_headers(lws* wsi, const std::vector<std::pair<std::string, std::string>>& headers, unsigned char*& p,
                 unsigned char* end) {
  for (const auto& [name, value] : headers) {
    const std::string key = name + ":";
    if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(key.c_str()),
                                    reinterpret_cast<const unsigned char*>(value.data()),
                                    static_cast<int>(value.size()), &p, end))
      return false;
  }
  return true;
}

}  // namespace

Payload::Payload(std::string_view text) : buf_(std::make_shared<const std::string>(text)) {}

Payload::Payload(std::string&& text) : buf_(std::make_shared<const std::string>(std::move(text))) {}

std::string_view Payload::text() const { return buf_ ? std::string_view(*buf_) : std::string_view(); }

struct HttpServer::Session {
  ConnId id = 0;
  bool is_websocket = false;
  // HTTP exchange. `http` follows our side of one request; lws' callbacks that do not fit it
  // are ignored (lws 4.1.6 repeats LWS_CALLBACK_HTTP_BODY_COMPLETION while bytes that follow
  // a body wait in its buffer, see on_lws_event).
  enum class Http { idle, reading_body, answering } http = Http::idle;
  HttpRequest request;
  const HttpHandler* handler = nullptr;
  size_t body_expected = 0;  // Content-Length
  size_t body_reserved = 0;  // counted in HttpServer::buffered_body_bytes_
  bool close_after_response = false;  // refused with its body unread, or another shard
  HttpResponse response;
  size_t body_sent = 0;
  bool awaiting_reply = false;  // a deferred response is on its way (Shard::awaiting)
  // Websocket
  lws* wsi = nullptr;
  std::string partial_message;
  struct Out {
    Payload payload;
    Delivery delivery = Delivery::reliable;
    uint64_t key = 0;
    std::chrono::steady_clock::time_point queued_at;
  };
  std::deque<Out> outbox;
  size_t outbox_bytes = 0;
  bool batching = false;
  int close_status = 0;
  bool close_after_flush = false;
  bool close_sent = false;  // our close frame is out; waiting for the peer's
  std::string close_reason;
  static constexpr size_t kNotDirty = static_cast<size_t>(-1);
  size_t dirty_slot = kNotDirty;  // its index in Shard::dirty while it is there
};

// Work for a shard handed over by the loop thread.
struct HttpServer::Op {
  enum class Kind { send, close, batching } kind = Kind::send;
  ConnId conn = 0;
  std::vector<ConnId> conns;  // send: to each of these instead of `conn` when not empty
  Payload payload;
  Delivery delivery = Delivery::reliable;
  uint64_t key = 0;
  std::chrono::steady_clock::time_point queued_at;
  int status = 0;
  std::string reason;
  bool flag = false;  // close: flush first; batching: on
};

struct HttpServer::Shard {
  size_t index = 0;
  ShardRef ref{};
  lws_context* context = nullptr;
  lws_vhost* vhost = nullptr;
  std::thread thread;  // none for shard 0 (the loop thread services it)
  ConnId next_seq = 1;
  std::unordered_map<lws*, std::unique_ptr<Session>> sessions;
  std::unordered_map<ConnId, Session*> connections;
  // HTTP requests whose deferred response has not come yet (loop shard only), by session id.
  std::unordered_map<ConnId, lws*> awaiting;
  std::string batch_scratch;        // frames of one write, after LWS_PRE bytes
  std::string batch_array_scratch;  // a batched frame's JSON array
  // Connections whose outbox turned non-empty since the last flush_writes() (shard's thread);
  // an entry is nulled when its session is destroyed first (Session::dirty_slot).
  std::vector<Session*> dirty;
  // Handed over from other threads; drained on the shard's thread.
  std::mutex mutex;
  std::vector<int> adopt;
  std::vector<Op> ops;
  bool stop = false;
  // The shard's event loop, lent to lws (a "foreign" libuv loop). lws' own poll() loop walks
  // every socket of the context on each wake-up: ~1 µs per socket here, 5 ms per wake-up of a
  // shard holding 5,000 viewers, whatever woke it. libuv waits in epoll and touches only the
  // sockets with something to do. Our own work runs between turns of it (run_shard, run).
  std::unique_ptr<uv_loop_t> uv;
  bool uv_ready = false;
  uv_timer_t wakeup_timer{};  // shard 0: ends the wait when the next EventLoop timer is due
  // Delivery metrics gathered by this shard's thread and published once per turn
  // (publish_delivery_metrics): atomics shared by every shard, updated per message, bounced
  // their cache lines between the cores several times per delivery.
  uint64_t messages_out = 0;
  uint64_t frames_out = 0;
  Histogram::Batch fanout_latency{metrics().fanout_latency_s};
};

namespace {

// lws arms its loop timer for its own timeouts after socket activity it handled. One set from
// our code between turns of the loop (a close, dropping a slow viewer) would wait for the next
// such activity: waking the loop makes lws arm it at once. Closes are rare; this costs nothing
// on the way of a message.
void set_timeout(HttpServer::Shard& shard, lws* wsi, pending_timeout reason, int secs) {
  lws_set_timeout(wsi, reason, secs);
  lws_cancel_service(shard.context);
}

// Adds what the shard counted since the last turn to the process-wide metrics.
void publish_delivery_metrics(HttpServer::Shard& shard) {
  auto& m = metrics();
  if (shard.messages_out != 0) m.ws_messages_out.fetch_add(shard.messages_out, std::memory_order_relaxed);
  if (shard.frames_out != 0) m.ws_frames_out.fetch_add(shard.frames_out, std::memory_order_relaxed);
  m.fanout_latency_s.merge(shard.fanout_latency);
  shard.messages_out = 0;
  shard.frames_out = 0;
}

// After lws_context_destroy(): lws closes its handles on the shard's loop asynchronously and
// frees the rest of the context from their close callbacks, so the loop runs until they are
// done. Anything still open after that is closed here, so the loop itself can be freed.
void close_event_loop(HttpServer::Shard& shard) {
  if (!shard.uv_ready) return;
  uv_loop_t* loop = shard.uv.get();
  for (int turn = 0; turn < 100 && uv_run(loop, UV_RUN_NOWAIT) != 0; ++turn) {
  }
  uv_walk(
      loop,
      [](uv_handle_t* handle, void*) {
        if (uv_is_closing(handle) == 0) uv_close(handle, nullptr);
      },
      nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  if (uv_loop_close(loop) != 0) log::warn("event_loop_close_busy").kv("shard", shard.index);
  shard.uv_ready = false;
}

}  // namespace

HttpServer::HttpServer(EventLoop& loop, HttpServerOptions options)
    : loop_(loop), options_(std::move(options)) {
  // Shard 0 exists from the start, so sends to unknown connections are answered (false)
  // even before start() (in-process tests drive rooms without a network).
  shards_.push_back(std::make_unique<Shard>());
}

HttpServer::~HttpServer() {
  // Other shards' threads were stopped at the end of run(), unless run() never ran.
  for (auto& sh : shards_) {
    if (sh->thread.joinable()) {
      {
        std::lock_guard lock(sh->mutex);
        sh->stop = true;
      }
      lws_cancel_service(sh->context);
      sh->thread.join();
    }
  }
  if (acceptor_.joinable()) {
    const uint64_t one = 1;
    if (::write(acceptor_wake_fd_, &one, sizeof one) < 0) log::warn("acceptor_wake_failed");
    acceptor_.join();
  }
  ws_handler_ = nullptr;  // closing connections below reach no handler
  if (!shards_.empty() && shards_[0]->context != nullptr) loop_.set_waker(nullptr);
  for (size_t i = shards_.size(); i-- > 0;) {
    if (shards_[i]->context != nullptr) lws_context_destroy(shards_[i]->context);
    close_event_loop(*shards_[i]);
    for (int fd : shards_[i]->adopt) ::close(fd);
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (acceptor_wake_fd_ >= 0) ::close(acceptor_wake_fd_);
}

std::string HttpServer::create_context(Shard& shard, bool listen) {
  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.port = listen ? options_.port : CONTEXT_PORT_NO_LISTEN_SERVER;
  info.iface = options_.bind_address == "0.0.0.0" ? nullptr : options_.bind_address.c_str();
  info.protocols = kProtocols;
  shard.ref = ShardRef{this, &shard};
  info.user = &shard.ref;
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
  // lws indexes its fd table by descriptor number, so every context needs room for all of them.
  info.fd_limit_per_thread = options_.fd_limit;
  info.retry_and_idle_policy = &kIdlePolicy;
  info.timeout_secs = 20;  // a client that sends nothing for 20 s mid-request is dropped
  // Room for the headers lws keeps (the URI and the ones it knows) of any head accept_loop
  // lets through (max_head_bytes), so lws never refuses one of those itself (silently).
  info.max_http_header_data2 = static_cast<unsigned>(options_.max_head_bytes + 1024);
  if (!options_.tls_cert.empty()) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = options_.tls_cert.c_str();
    info.ssl_private_key_filepath = options_.tls_key.c_str();
  }
  shard.uv = std::make_unique<uv_loop_t>();
  if (uv_loop_init(shard.uv.get()) != 0) return "cannot create an event loop";
  shard.uv_ready = true;
  uv_timer_init(shard.uv.get(), &shard.wakeup_timer);
  void* loops[] = {shard.uv.get()};
  info.foreign_loops = loops;
  info.options |= LWS_SERVER_OPTION_LIBUV;
  shard.context = lws_create_context(&info);
  if (shard.context == nullptr) {
    if (!listen) return "cannot create a websocket service context";
    return "cannot listen for HTTP on " + options_.bind_address + ":" + std::to_string(options_.port) +
           " (port in use or not permitted)";
  }
  shard.vhost = lws_get_vhost_by_name(shard.context, "default");
  if (shard.vhost == nullptr) return "no default vhost in the lws context";
  return {};
}

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

std::string HttpServer::start() {
  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
  // Our own listener (accept_loop) sees each request head first: it refuses over-long ones
  // with 414/431, survives running out of descriptors, and hands websockets to the fan-out
  // shards. With TLS it could not read the head: lws listens itself, on shard 0 only.
  const bool own_listener = options_.tls_cert.empty();
  const size_t extra = own_listener ? options_.fanout_threads : 0;
  for (size_t i = 1; i <= extra; ++i) {
    shards_.push_back(std::make_unique<Shard>());
    shards_.back()->index = i;
  }
  if (!own_listener) {
    if (auto err = create_context(*shards_[0], /*listen=*/true); !err.empty()) return err;
    port_ = lws_get_vhost_listen_port(shards_[0]->vhost);
    if (port_ <= 0) return "cannot listen for HTTP on port " + std::to_string(options_.port);
  } else {
    if (auto err = open_listener(); !err.empty()) return err;
    for (auto& sh : shards_)
      if (auto err = create_context(*sh, /*listen=*/false); !err.empty()) return err;
    for (size_t i = 1; i < shards_.size(); ++i) {
      Shard* sh = shards_[i].get();
      sh->thread = std::thread([this, sh] { run_shard(*sh); });
    }
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  lws_context* ctx = shards_[0]->context;
  loop_.set_waker([ctx] { lws_cancel_service(ctx); });
  return {};
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

constexpr auto kAcceptPause = std::chrono::milliseconds(100);
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
// shard: websocket upgrades round-robin over all shards, everything else to shard 0.
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
  auto forget = [&](int fd) {
    ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    waiting.erase(fd);
  };
  auto hand_over = [&](int fd, size_t shard_index) {
    forget(fd);
    Shard& sh = *shards_[shard_index];
    bool wake = false;
    {
      std::lock_guard lock(sh.mutex);
      wake = sh.adopt.empty() && sh.ops.empty();
      sh.adopt.push_back(fd);
    }
    if (wake) lws_cancel_service(sh.context);
  };
  auto accept_new = [&] {
    const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c >= 0) {
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
    switch (inspect_request_head(seen, options_.max_request_line_bytes, options_.max_head_bytes)) {
      case HeadVerdict::incomplete: return;
      case HeadVerdict::request: hand_over(fd, 0); return;
      case HeadVerdict::websocket: hand_over(fd, next_ws_shard++ % shards_.size()); return;
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

void HttpServer::schedule_timer_wakeup(std::chrono::milliseconds wait) {
  uv_timer_t* timer = &shards_[0]->wakeup_timer;
  if (wait == std::chrono::milliseconds::max()) {
    uv_timer_stop(timer);
    return;
  }
  // The callback does nothing: firing makes uv_run() return, and run() then runs the due
  // timers through EventLoop::run_pending(). The loop's clock is refreshed first: it is only
  // read at the start of a turn, and our work since then may have taken a while.
  uv_update_time(shards_[0]->uv.get());
  uv_timer_start(timer, [](uv_timer_t*) {}, static_cast<uint64_t>(wait.count()), 0);
}

void HttpServer::run() {
  loop_.bind_to_current_thread();
  Shard& home = *shards_[0];
  while (!loop_.stop_requested()) {
    drain_inbox(home);
    schedule_timer_wakeup(loop_.run_pending());
    if (loop_.stop_requested()) break;
    flush_writes(home);
    publish_delivery_metrics(home);
    uv_run(home.uv.get(), UV_RUN_ONCE);  // until lws has handled something (or a wake-up)
  }
  loop_.run_pending();
  // Stop the other shards and the acceptor; their contexts are destroyed with the server.
  for (size_t i = 1; i < shards_.size(); ++i) {
    Shard& sh = *shards_[i];
    {
      std::lock_guard lock(sh.mutex);
      sh.stop = true;
    }
    lws_cancel_service(sh.context);
    if (sh.thread.joinable()) sh.thread.join();
  }
  if (acceptor_.joinable()) {
    const uint64_t one = 1;
    if (::write(acceptor_wake_fd_, &one, sizeof one) < 0) log::warn("acceptor_wake_failed");
    acceptor_.join();
  }
}

void HttpServer::run_shard(Shard& shard) {
  for (;;) {
    {
      std::lock_guard lock(shard.mutex);
      if (shard.stop) break;
    }
    drain_inbox(shard);
    flush_writes(shard);
    publish_delivery_metrics(shard);
    uv_run(shard.uv.get(), UV_RUN_ONCE);
  }
}

void HttpServer::flush_writes(Shard& shard) {
  // Writing here, before the shard waits again, instead of asking lws for a writable callback
  // saves per connection and event: two epoll_ctl calls (writable wanted, then not), lws'
  // dispatch of the POLLOUT (which re-arms a timer in a sorted list as long as the shard's
  // connections: 10-25 % of the server's CPU in a 10,000-viewer fan-out, docs/benchmarks.md)
  // and our session lookup.
  // Everything queued since the last flush still goes out in one write per connection. lws
  // keeps the rest of a partial send and flushes it first; while it holds such a rest (or a
  // close is under way) the connection waits for its writable callback as before.
  for (Session* dirty : shard.dirty) {
    if (dirty == nullptr) continue;  // destroyed since it was queued
    Session& s = *dirty;
    s.dirty_slot = Session::kNotDirty;
    if (!s.is_websocket) continue;  // closed since
    if (s.outbox.empty() && s.close_status == 0) continue;
    if (s.close_status != 0 || lws_partial_buffered(s.wsi)) {
      lws_callback_on_writable(s.wsi);
      continue;
    }
    if (write_websocket(shard, s.wsi, s) < 0) set_timeout(shard, s.wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
  }
  shard.dirty.clear();
}

void HttpServer::drain_inbox(Shard& shard) {
  std::vector<int> adopt;
  std::vector<Op> ops;
  {
    std::lock_guard lock(shard.mutex);
    adopt.swap(shard.adopt);
    ops.swap(shard.ops);
  }
  for (int fd : adopt) {
    // On failure lws closes the descriptor itself.
    if (lws_adopt_socket_vhost(shard.vhost, fd) == nullptr) log::warn("ws_adopt_failed").kv("shard", shard.index);
  }
  for (Op& op : ops) {
    switch (op.kind) {
      case Op::Kind::send:
        if (op.conns.empty()) {
          local_send(shard, op.conn, op.payload, op.delivery, op.key);
        } else {
          for (ConnId c : op.conns) local_send(shard, c, op.payload, op.delivery, op.key);
        }
        break;
      case Op::Kind::close:
        local_close(shard, op.conn, op.status, std::move(op.reason), op.flag);
        break;
      case Op::Kind::batching: {
        auto it = shard.connections.find(op.conn);
        if (it != shard.connections.end()) it->second->batching = op.flag;
        break;
      }
    }
  }
}

bool HttpServer::on_loop_shard(const Shard& shard) const { return shard.index == 0; }

HttpServer::Shard& HttpServer::shard_of(ConnId conn) const {
  const size_t i = static_cast<size_t>(conn & kShardMask);
  return *shards_[i < shards_.size() ? i : 0];
}

void HttpServer::post_to_shard(Shard& shard, Op op) {
  bool wake = false;
  {
    std::lock_guard lock(shard.mutex);
    // One wake-up per batch: the shard drains everything queued before it waits again.
    wake = shard.ops.empty() && shard.adopt.empty();
    shard.ops.push_back(std::move(op));
  }
  if (wake) lws_cancel_service(shard.context);
}

HttpServer::Session& HttpServer::session_for(Shard& shard, lws* wsi) {
  auto& slot = shard.sessions[wsi];
  if (!slot) {
    slot = std::make_unique<Session>();
    slot->id = (shard.next_seq++ << kShardBits) | shard.index;
  }
  return *slot;
}

bool HttpServer::send(ConnId conn, std::string_view message) {
  return send(conn, Payload(message), Delivery::reliable, 0);
}

bool HttpServer::send(ConnId conn, std::string&& message) {
  return send(conn, Payload(std::move(message)), Delivery::reliable, 0);
}

bool HttpServer::send(ConnId conn, const Payload& payload, Delivery delivery, uint64_t key) {
  Shard& shard = shard_of(conn);
  if (on_loop_shard(shard)) return local_send(shard, conn, payload, delivery, key);
  Op op;
  op.conn = conn;
  op.payload = payload;
  op.delivery = delivery;
  op.key = key;
  post_to_shard(shard, std::move(op));
  return true;
}

void HttpServer::send_to_all(const std::vector<ConnId>& conns, const Payload& payload, Delivery delivery,
                             uint64_t key, ConnId except) {
  if (shards_.size() == 1) {
    for (ConnId c : conns)
      if (c != except) local_send(*shards_[0], c, payload, delivery, key);
    return;
  }
  // The other shards get their share first, so their threads write while this one queues its
  // own (queueing 5,000 viewers here took ~10 ms that the other shard used to wait for).
  std::vector<std::vector<ConnId>> per_shard(shards_.size());
  for (ConnId c : conns) {
    if (c == except) continue;
    const size_t i = static_cast<size_t>(c & kShardMask);
    if (i < shards_.size()) per_shard[i].push_back(c);
  }
  for (size_t i = 1; i < shards_.size(); ++i) {
    if (per_shard[i].empty()) continue;
    Op op;
    op.conns = std::move(per_shard[i]);
    // Each connection's queue holds a reference to the payload: with one buffer per shard,
    // those reference counts are counted on one core instead of bouncing between them.
    op.payload = payload.copy();
    op.delivery = delivery;
    op.key = key;
    post_to_shard(*shards_[i], std::move(op));
  }
  for (ConnId c : per_shard[0]) local_send(*shards_[0], c, payload, delivery, key);
}

bool HttpServer::local_send(Shard& shard, ConnId conn, const Payload& payload, Delivery delivery, uint64_t key) {
  auto it = shard.connections.find(conn);
  if (it == shard.connections.end()) return false;
  Session& s = *it->second;
  if (s.close_status != 0) return false;
  const auto now = std::chrono::steady_clock::now();
  const auto& bp = options_.back_pressure;

  if (delivery == Delivery::superseding) {
    // Nothing in the outbox has been handed to lws yet, so a queued update can be swapped.
    for (auto& out : s.outbox) {
      if (out.delivery == Delivery::superseding && out.key == key) {
        s.outbox_bytes = s.outbox_bytes - out.payload.size() + payload.size();
        out.payload = payload;
        metrics().ws_dropped_superseded.fetch_add(1, std::memory_order_relaxed);
        return true;
      }
    }
  }
  const bool was_empty = s.outbox.empty();
  s.outbox.push_back(Session::Out{payload, delivery, key, now});
  s.outbox_bytes += payload.size();

  if (s.outbox_bytes > bp.drop_superseded_bytes) {
    for (auto out = s.outbox.begin(); out != s.outbox.end() && s.outbox_bytes > bp.drop_superseded_bytes;) {
      if (out->delivery == Delivery::superseding) {
        s.outbox_bytes -= out->payload.size();
        out = s.outbox.erase(out);
        metrics().ws_dropped_superseded.fetch_add(1, std::memory_order_relaxed);
      } else {
        ++out;
      }
    }
  }
  if (s.outbox_bytes > bp.disconnect_bytes || s.outbox.size() > bp.disconnect_messages) {
    metrics().ws_slow_disconnects.fetch_add(1, std::memory_order_relaxed);
    log::warn("ws_slow_consumer_closed").kv("conn", conn).kv("queued_bytes", s.outbox_bytes)
        .kv("queued_messages", s.outbox.size());
    // It is not reading, so a close frame would wait behind the data it does not read: drop the
    // TCP connection at once and free its queue.
    s.close_status = LWS_CLOSE_STATUS_POLICY_VIOLATION;
    s.outbox.clear();
    s.outbox_bytes = 0;
    set_timeout(shard, s.wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    return false;
  }
  if (was_empty && s.dirty_slot == Session::kNotDirty) {  // flush_writes() writes it before the next wait
    s.dirty_slot = shard.dirty.size();
    shard.dirty.push_back(&s);
  }
  return true;
}

void HttpServer::set_batching(ConnId conn, bool on) {
  Shard& shard = shard_of(conn);
  if (on_loop_shard(shard)) {
    auto it = shard.connections.find(conn);
    if (it != shard.connections.end()) it->second->batching = on;
    return;
  }
  Op op;
  op.kind = Op::Kind::batching;
  op.conn = conn;
  op.flag = on;
  post_to_shard(shard, std::move(op));
}

size_t HttpServer::queued_bytes(ConnId conn) const {
  Shard& shard = shard_of(conn);
  if (!on_loop_shard(shard)) return 0;
  auto it = shard.connections.find(conn);
  return it == shard.connections.end() ? 0 : it->second->outbox_bytes;
}

void HttpServer::close(ConnId conn, int status, std::string reason, bool flush_first) {
  Shard& shard = shard_of(conn);
  if (on_loop_shard(shard)) {
    local_close(shard, conn, status, std::move(reason), flush_first);
    return;
  }
  Op op;
  op.kind = Op::Kind::close;
  op.conn = conn;
  op.status = status;
  op.reason = std::move(reason);
  op.flag = flush_first;
  post_to_shard(shard, std::move(op));
}

void HttpServer::local_close(Shard& shard, ConnId conn, int status, std::string reason, bool flush_first) {
  auto it = shard.connections.find(conn);
  if (it == shard.connections.end()) return;
  Session& s = *it->second;
  if (s.close_status != 0) return;
  s.close_status = status;
  s.close_reason = std::move(reason);
  s.close_after_flush = flush_first;
  if (!flush_first) {
    s.outbox.clear();
    s.outbox_bytes = 0;
  }
  lws_callback_on_writable(s.wsi);
  // A peer that does not read never lets the close frame out: give it 5 s, then drop it.
  set_timeout(shard, s.wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
}

int HttpServer::write_websocket(Shard& shard, lws* wsi, Session& s) {
  if (s.close_sent) return 0;
  if (s.close_status != 0 && (!s.close_after_flush || s.outbox.empty())) {
    // Our close frame, then wait for the peer's (RFC 6455 7.1.1) while ignoring what it still
    // sends. Letting lws close here would close the socket at once, and a peer still sending
    // (a flood) gets a TCP reset that destroys the close frame before it is read (1006).
    std::string& out = shard.batch_scratch;
    out.assign(LWS_PRE, '\0');
    out += static_cast<char>(0x88);  // FIN, close
    const std::string reason = s.close_reason.substr(0, 123);
    out += static_cast<char>(2 + reason.size());
    out += static_cast<char>((s.close_status >> 8) & 0xff);
    out += static_cast<char>(s.close_status & 0xff);
    out += reason;
    const size_t len = out.size() - LWS_PRE;
    if (lws_write(wsi, reinterpret_cast<unsigned char*>(out.data()) + LWS_PRE, len, LWS_WRITE_RAW) <
        static_cast<int>(len))
      return -1;
    s.close_sent = true;
    s.outbox.clear();
    s.outbox_bytes = 0;
    // The peer's close ends it (LWS_CALLBACK_WS_PEER_INITIATED_CLOSE); silence, after 5 s.
    set_timeout(shard, wsi, PENDING_TIMEOUT_CLOSE_ACK, 5);
    return 0;
  }
  if (s.outbox.empty()) return 0;
  const auto now = std::chrono::steady_clock::now();
  // Everything queued (up to batch_max_bytes) goes out in one write: lws sets TCP_NODELAY, so
  // every write is a syscall and a packet. The frames are made here, whole, into the shard's
  // scratch buffer (payloads are shared by every connection and every shard, so nobody writes
  // into them), and handed to lws as raw bytes: lws' own control frames (pong, close) never
  // land inside one of ours, and lws buffers the rest of a partial send and flushes it before
  // it calls us again.
  std::string& out = shard.batch_scratch;
  const size_t limit = options_.back_pressure.batch_max_bytes;
  size_t taken = 1;
  size_t frames = 1;
  out.assign(LWS_PRE, '\0');
  if (s.batching && s.outbox.size() > 1) {
    // Opt-in: several events in one frame holding a JSON array.
    std::string& array = shard.batch_array_scratch;
    array = '[';
    array += s.outbox.front().payload.text();
    while (taken < s.outbox.size() && array.size() + s.outbox[taken].payload.size() < limit) {
      array += ',';
      array += s.outbox[taken].payload.text();
      ++taken;
    }
    array += ']';
    append_text_frame(out, array);
  } else {
    append_text_frame(out, s.outbox.front().payload.text());
    while (taken < s.outbox.size() && out.size() + s.outbox[taken].payload.size() + 10 < limit) {
      append_text_frame(out, s.outbox[taken].payload.text());
      ++taken;
    }
    frames = taken;
  }
  const size_t len = out.size() - LWS_PRE;
  if (lws_write(wsi, reinterpret_cast<unsigned char*>(out.data()) + LWS_PRE, len, LWS_WRITE_RAW) <
      static_cast<int>(len))
    return -1;
  for (size_t i = 0; i < taken; ++i) {
    const auto& sent = s.outbox.front();
    shard.fanout_latency.observe(std::chrono::duration<double>(now - sent.queued_at).count());
    s.outbox_bytes -= sent.payload.size();
    s.outbox.pop_front();
  }
  shard.messages_out += taken;
  shard.frames_out += frames;
  if (!s.outbox.empty() || s.close_status != 0) lws_callback_on_writable(wsi);
  return 0;
}

// A request's head has arrived (LWS_CALLBACK_HTTP). It is routed and checked from the head
// alone; a body is read only for a route that accepted the head, and only within its limits.
int HttpServer::handle_http_request(Shard& shard, lws* wsi, Session& s) {
  release_body(s);
  s.http = Session::Http::answering;
  s.request = HttpRequest{};
  s.response = HttpResponse{};
  s.handler = nullptr;
  s.body_sent = 0;
  s.body_expected = 0;
  s.close_after_response = false;

  char* uri_ptr = nullptr;
  int uri_len = 0;
  const int method = lws_http_get_uri_and_method(wsi, &uri_ptr, &uri_len);
  if (method < 0 || uri_ptr == nullptr) return -1;
  s.request.method = method_name(method);
  s.request.path.assign(uri_ptr, static_cast<size_t>(uri_len));
  read_request_head(wsi, s.request);

  if (auto refusal = screen_request(shard, s)) {
    // Whatever body follows stays unread: the connection closes after the answer.
    s.close_after_response = true;
    s.response = std::move(*refusal);
    return respond(wsi, s);
  }
  if (s.body_expected > 0) {
    start_body(wsi, s);
    return 0;  // LWS_CALLBACK_HTTP_BODY, then LWS_CALLBACK_HTTP_BODY_COMPLETION
  }
  return answer_request(wsi, s);
}

// Everything decided from the head: the answer when the request is refused, nothing when
// its handler is to run (s.handler, s.request.params and s.body_expected are then set).
std::optional<HttpResponse> HttpServer::screen_request(Shard& shard, Session& s) {
  auto refuse = [](int status, std::string_view reason, std::string_view code, std::string_view message) {
    metrics().http_refused.add(std::string(reason));
    return HttpResponse::error(status, code, message);
  };
  // A chunked (or otherwise encoded) body has no length known up front to check against the
  // route's limit; no client of this API needs one.
  if (!s.request.header("transfer-encoding").empty())
    return refuse(411, "length_required", "length_required", "send the body with a Content-Length, not a Transfer-Encoding");
  const std::string length = s.request.header("content-length");
  if (!length.empty()) {
    if (length.find_first_not_of("0123456789") != std::string::npos || length.size() > 12)
      return refuse(400, "bad_length", "bad_request", "Content-Length must be a number of bytes");
    s.body_expected = std::stoull(length);
  }
  // Only websocket upgrades are handed to other shards: route handlers run on the loop thread.
  // Answer as the router would for an unknown route, and close.
  if (!on_loop_shard(shard)) return HttpResponse::error(404, "not_found", "no such resource");

  auto match = router_.match(s.request.method, s.request.path);
  if (match.handler == nullptr) {
    return match.path_matched_other_method ? HttpResponse::error(405, "method_not_allowed", "method not allowed here")
                                           : HttpResponse::error(404, "not_found", "no such resource");
  }
  s.request.params = std::move(match.params);
  if (match.limits->check) {
    if (auto refused = match.limits->check(s.request)) return refused;
  }
  if (s.body_expected > match.limits->max_body_bytes)
    return refuse(413, "body_too_large", "too_large",
                  "request body is larger than this route's limit of " + std::to_string(match.limits->max_body_bytes) +
                      " bytes");
  if (buffered_body_bytes_ + s.body_expected > options_.max_buffered_body_bytes) {
    HttpResponse busy = refuse(503, "busy", "busy", "too many request bodies in flight; try again shortly");
    busy.headers.emplace_back("Retry-After", "1");
    return busy;
  }
  s.handler = match.handler;
  return std::nullopt;
}

// The body's bytes are reserved up front (Content-Length, within the route's limit) and
// counted against max_buffered_body_bytes until the handler is done with them.
void HttpServer::start_body(lws* wsi, Session& s) {
  s.http = Session::Http::reading_body;
  s.body_reserved = s.body_expected;
  buffered_body_bytes_ += s.body_reserved;
  s.request.body.reserve(s.body_expected);
  body_readers_[s.id] = wsi;
  // One deadline for the whole body: lws restarts its own timeout at every byte received.
  loop_.run_after(options_.body_deadline, [this, id = s.id] { on_body_deadline(id); });
}

void HttpServer::release_body(Session& s) {
  std::string().swap(s.request.body);
  if (s.body_reserved == 0) return;  // also: never touch the loop's counters from another shard
  buffered_body_bytes_ -= s.body_reserved;
  s.body_reserved = 0;
  body_readers_.erase(s.id);
}

void HttpServer::on_body_deadline(ConnId conn) {
  auto it = body_readers_.find(conn);
  if (it == body_readers_.end()) return;  // the body arrived (or the connection is gone)
  lws* wsi = it->second;
  Session& s = session_for(*shards_[0], wsi);
  log::info("http_body_timeout").kv("path", s.request.path).kv("received", s.request.body.size())
      .kv("expected", s.body_expected);
  metrics().http_refused.add("body_timeout");
  release_body(s);
  s.http = Session::Http::answering;
  s.close_after_response = true;
  s.response = HttpResponse::error(408, "timeout", "the request body did not arrive in time");
  if (respond(wsi, s) != 0) {
    set_timeout(*shards_[0], wsi, PENDING_TIMEOUT_HTTP_CONTENT, LWS_TO_KILL_ASYNC);
    return;
  }
  // A client that does not read the answer is dropped all the same.
  set_timeout(*shards_[0], wsi, PENDING_TIMEOUT_HTTP_CONTENT, 5);
}

// Runs the route's handler for a request whose body (if any) is complete, and answers.
int HttpServer::answer_request(lws* wsi, Session& s) {
  s.http = Session::Http::answering;
  try {
    s.response = (*s.handler)(s.request);
  } catch (const std::exception& e) {
    log::error("http_handler_failed").kv("path", s.request.path).kv("what", e.what());
    s.response = HttpResponse::error(500, "internal", "internal error");
  }
  release_body(s);
  if (s.response.deferred) return defer(wsi, s);
  return respond(wsi, s);
}

// A deferred response: the session waits in Shard::awaiting under its id, and the reply finds
// it there again. A connection that closes first leaves that map (WSI_DESTROY), so a late
// reply finds nothing and is dropped; one that outlives the server is dropped by `life_`.
int HttpServer::defer(lws* wsi, Session& s) {
  auto start = std::move(s.response.deferred);
  s.response = HttpResponse{};
  s.awaiting_reply = true;
  shards_[0]->awaiting[s.id] = wsi;
  HttpReply reply = [this, life = std::weak_ptr<int>(life_), id = s.id](HttpResponse response) {
    if (!life.expired()) answer_deferred(id, std::move(response));
  };
  try {
    start(std::move(reply));
  } catch (const std::exception& e) {
    log::error("http_handler_failed").kv("path", s.request.path).kv("what", e.what());
    answer_deferred(s.id, HttpResponse::error(500, "internal", "internal error"));
  }
  return 0;
}

void HttpServer::answer_deferred(ConnId id, HttpResponse response) {
  Shard& shard = *shards_[0];  // route handlers, and so deferred requests, live on the loop shard
  auto it = shard.awaiting.find(id);
  if (it == shard.awaiting.end()) return;  // the client left
  lws* wsi = it->second;
  shard.awaiting.erase(it);
  Session& s = session_for(shard, wsi);
  s.awaiting_reply = false;
  if (response.deferred || !response.file_path.empty())
    response = HttpResponse::error(500, "internal", "a deferred response must be a body");
  s.response = std::move(response);
  // Between turns of the loop shard's service, on its thread: lws takes the headers now (and
  // keeps what the socket does not), the body follows from the writable callback.
  if (respond(wsi, s) != 0) set_timeout(shard, wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

int HttpServer::respond(lws* wsi, Session& s) {
  log::debug("http").kv("method", s.request.method).kv("path", s.request.path).kv("status", s.response.status);
  if (s.close_after_response) s.response.headers.emplace_back("Connection", "close");
  if (!s.response.file_path.empty()) {
    struct stat st{};
    if (::stat(s.response.file_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      s.response = HttpResponse::error(404, "not_found", "no such file");
    } else {
      unsigned char extra[512];
      unsigned char* p = extra;
      unsigned char* end = extra + sizeof extra;
      if (!add_headers(wsi, s.response.headers, p, end)) return -1;
      const int n = lws_serve_http_file(wsi, s.response.file_path.c_str(), s.response.content_type.c_str(),
                                        reinterpret_cast<const char*>(extra), static_cast<int>(p - extra));
      return n < 0 ? -1 : 0;
    }
  }
  return write_response_headers(wsi, s);
}

// lws 4.1.6 misreads the body of a request whose head it parsed from bytes it had kept back
// (a request pipelined behind another one): it hands over the buffered bytes from their start
// again, that is, a request head, instead of the body, and then spins re-offering the rest.
// Such a body is never given to a handler: the request gets 400 and the connection closes at
// once (the client may send it again on a new connection, RFC 9112 9.3.2). A request that is
// not pipelined, or pipelined without a body (GET), is not affected.
int HttpServer::refuse_misread_body(lws* wsi, Session& s) {
  log::warn("http_pipelined_body_refused").kv("method", s.request.method).kv("path", s.request.path);
  metrics().http_refused.add("pipelined_body");
  release_body(s);
  s.http = Session::Http::answering;
  s.close_after_response = true;
  s.response = HttpResponse::error(400, "pipelined_body",
                                   "a request with a body cannot follow another request without waiting for its "
                                   "answer; send it again on a new connection");
  s.response.headers.emplace_back("Connection", "close");
  // Written here, whole: lws would not call back for writing while it spins on the rest.
  if (write_response_headers(wsi, s) != 0) return -1;
  std::string buf(LWS_PRE, '\0');
  buf += s.response.body;
  lws_write(wsi, reinterpret_cast<unsigned char*>(buf.data()) + LWS_PRE, s.response.body.size(), LWS_WRITE_HTTP_FINAL);
  return -1;
}

// The response is out: the connection closes, or lws reads the next request (pipelined
// bytes it already holds included).
int HttpServer::finish_exchange(lws* wsi, Session& s) {
  s.http = Session::Http::idle;
  if (s.close_after_response) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int HttpServer::write_response_headers(lws* wsi, Session& s) {
  unsigned char buf[LWS_PRE + 2048];
  unsigned char* start = buf + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = buf + sizeof buf - 1;
  if (lws_add_http_common_headers(wsi, static_cast<unsigned>(s.response.status),
                                  s.response.content_type.c_str(), s.response.body.size(), &p, end))
    return -1;
  if (!add_headers(wsi, s.response.headers, p, end)) return -1;
  if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
  lws_callback_on_writable(wsi);
  return 0;
}

int HttpServer::write_http_body(lws* wsi, Session& s) {
  if (s.awaiting_reply) return 0;  // nothing to write before the deferred response
  constexpr size_t kChunk = 16 * 1024;
  const size_t remaining = s.response.body.size() - s.body_sent;
  const size_t n = std::min(remaining, kChunk);
  const bool final = n == remaining;
  std::string buf(LWS_PRE + n, '\0');
  std::memcpy(buf.data() + LWS_PRE, s.response.body.data() + s.body_sent, n);
  if (lws_write(wsi, reinterpret_cast<unsigned char*>(buf.data()) + LWS_PRE, n,
                final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != static_cast<int>(n))
    return -1;
  s.body_sent += n;
  if (!final) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  return finish_exchange(wsi, s);
}

int HttpServer::on_lws_event(Shard& shard, lws* wsi, int reason_int, void* in, size_t len) {
  const auto reason = static_cast<lws_callback_reasons>(reason_int);
  const bool home = on_loop_shard(shard);
  switch (reason) {
    case LWS_CALLBACK_HTTP:
      return handle_http_request(shard, wsi, session_for(shard, wsi));

    case LWS_CALLBACK_HTTP_BODY: {
      // Body bytes of a refused request (answered, its connection closing) are dropped.
      Session& s = session_for(shard, wsi);
      if (s.http != Session::Http::reading_body) return 0;
      const std::string_view bytes(static_cast<const char*>(in), len);
      if (s.request.body.empty() && starts_with_request_line(bytes)) return refuse_misread_body(wsi, s);
      const size_t room = s.body_expected - s.request.body.size();
      s.request.body.append(bytes.substr(0, std::min(len, room)));
      return 0;
    }
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
      // lws 4.1.6 stays in its body state until the transaction completes, and every time it
      // looks at bytes that followed the body in the same read (a pipelined request, or one
      // stray byte) it reports the body complete again (lws_read_h1: Content-Length given and
      // nothing remaining -> completion). Only the first report is this request's; the bytes
      // are parsed as the next request once ours is answered (finish_exchange).
      Session& s = session_for(shard, wsi);
      if (s.http != Session::Http::reading_body) return 0;
      body_readers_.erase(s.id);
      return answer_request(wsi, s);
    }
    case LWS_CALLBACK_HTTP_WRITEABLE: {
      Session& s = session_for(shard, wsi);
      if (s.http != Session::Http::answering) return 0;
      return write_http_body(wsi, s);
    }
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
      return finish_exchange(wsi, session_for(shard, wsi));

    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
      // Websocket upgrade: only /ws, only RFC 6455 (lws would accept any version).
      if (ws_handler_ == nullptr) return 1;
      if (copy_header(wsi, WSI_TOKEN_VERSION) != "13") return 1;
      Session& s = session_for(shard, wsi);
      s.request = HttpRequest{};
      s.request.method = "GET";
      s.request.path = copy_header(wsi, WSI_TOKEN_GET_URI);
      if (s.request.path != "/ws") return 1;
      read_request_head(wsi, s.request);
      return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
      Session& s = session_for(shard, wsi);
      s.is_websocket = true;
      s.wsi = wsi;
      shard.connections[s.id] = &s;
      metrics().ws_connections.fetch_add(1, std::memory_order_relaxed);
      if (options_.back_pressure.socket_send_buffer > 0) {
        // A bounded kernel buffer per websocket: a reader that stops shows up in our queue
        // (and is cut off) within a bounded amount of memory.
        const int fd = lws_get_socket_fd(wsi);
        const int size = options_.back_pressure.socket_send_buffer;
        if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
      }
      if (ws_handler_ == nullptr) return -1;
      if (home) return ws_handler_->on_open(s.id, s.request) ? 0 : -1;
      // Another shard: the handler runs on the loop; a refusal comes back as a close.
      loop_.post([this, id = s.id, request = std::move(s.request)] {
        if (ws_handler_ != nullptr && !ws_handler_->on_open(id, request)) close(id, 1008, "refused");
      });
      return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
      Session& s = session_for(shard, wsi);
      if (s.close_status != 0) return 0;
      // The protocol is JSON text (DESIGN.md "Protocol v1"): a binary message is not a
      // malformed one to answer with bad_json, but data of a type we do not accept (RFC 6455
      // 7.4.1: 1003).
      if (lws_frame_is_binary(wsi)) return refuse_frame(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "binary frames are not accepted");
      if (s.partial_message.size() + len > options_.max_message_bytes)
        return refuse_frame(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
      s.partial_message.append(static_cast<const char*>(in), len);
      if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
        std::string message;
        message.swap(s.partial_message);
        metrics().ws_messages_in.fetch_add(1, std::memory_order_relaxed);
        if (ws_handler_ == nullptr) return 0;
        if (home) {
          ws_handler_->on_message(s.id, message);
        } else {
          loop_.post([this, id = s.id, message = std::move(message)] {
            if (ws_handler_ != nullptr) ws_handler_->on_message(id, message);
          });
        }
      }
      return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return write_websocket(shard, wsi, session_for(shard, wsi));

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
      // The answer to our close frame: close without echoing (we sent ours already).
      auto it = shard.sessions.find(wsi);
      return it != shard.sessions.end() && it->second->close_sent ? 1 : 0;
    }

    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY: {
      auto it = shard.sessions.find(wsi);
      if (it == shard.sessions.end()) return 0;
      Session& s = *it->second;
      if (s.is_websocket) {
        s.is_websocket = false;
        metrics().ws_connections.fetch_sub(1, std::memory_order_relaxed);
        shard.connections.erase(s.id);
        if (ws_handler_ != nullptr) {
          if (home) {
            ws_handler_->on_close(s.id);
          } else {
            loop_.post([this, id = s.id] {
              if (ws_handler_ != nullptr) ws_handler_->on_close(id);
            });
          }
        }
      }
      if (reason == LWS_CALLBACK_WSI_DESTROY) {
        release_body(s);
        if (s.awaiting_reply) shard.awaiting.erase(s.id);
        if (s.dirty_slot != Session::kNotDirty) shard.dirty[s.dirty_slot] = nullptr;
        shard.sessions.erase(it);
      }
      return 0;
    }
    default:
      return lws_callback_http_dummy(wsi, reason, nullptr, in, len);
  }
}

}  // namespace harvest::realtime

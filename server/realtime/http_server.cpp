#include "realtime/http_server.h"

#include "realtime/http_server_parts.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <uv.h>
#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "core/log.h"
#include "core/net.h"
#include "core/metrics.h"
#include "realtime/ws_frame_gate.h"

namespace harvest::realtime {

namespace http_detail {

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
      {"cookie", WSI_TOKEN_HTTP_COOKIE},
      {"user-agent", WSI_TOKEN_HTTP_USER_AGENT},
      {"if-none-match", WSI_TOKEN_HTTP_IF_NONE_MATCH},
  };
  for (const auto& [name, token] : wanted) {
    std::string value = copy_header(wsi, token);
    if (!value.empty()) req.headers[name] = std::move(value);
  }
  // Headers lws has no index for, kept by name: a payment service's signature.
  for (const char* name : {"x-signature"}) {
    const std::string with_colon = std::string(name) + ":";
    const int len = lws_hdr_custom_length(wsi, with_colon.c_str(), static_cast<int>(with_colon.size()));
    if (len <= 0 || len > 1024) continue;
    std::string value(static_cast<size_t>(len) + 1, '\0');
    const int n = lws_hdr_custom_copy(wsi, value.data(), len + 1, with_colon.c_str(), static_cast<int>(with_colon.size()));
    if (n <= 0) continue;
    value.resize(static_cast<size_t>(n));
    req.headers[name] = std::move(value);
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

void set_timeout(HttpServer::Shard& shard, lws* wsi, pending_timeout reason, int secs) {
  lws_set_timeout(wsi, reason, secs);
  lws_cancel_service(shard.context);
}

}  // namespace http_detail

using namespace http_detail;

namespace {

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

// lws' own keepalive ("validity") is off: HttpServer::keep_alive pings and hangs up instead.
// lws 4.1.6 re-arms a websocket's validity timer on every frame it reads (and on writable
// callbacks), in a per-thread list sorted by deadline that it walks from the head: with
// thousands of websockets per thread that walk was 20 % of the server's CPU while 5,000 opened
// (docs/reliability.md "Floods"). A zero hang-up time is lws' "no validity checks".
const lws_retry_bo_t kIdlePolicy = {
    nullptr, 0, 0, /*secs_since_valid_ping=*/0, /*secs_since_valid_hangup=*/0, 0};

void lws_log_emit(int level, const char* line) {
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (level & LLL_ERR) log::error("lws").kv("msg", text);
  else log::warn("lws").kv("msg", text);
}

// Sockets handed over and not adopted yet (drain_inbox takes kAdoptPerTurn a turn).
bool adoptions_waiting(HttpServer::Shard& shard) {
  std::lock_guard lock(shard.mutex);
  return !shard.adopt.empty();
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

Payload::Payload(std::string_view text) : buf_(std::make_shared<const std::string>(text)) {}

Payload::Payload(std::string&& text) : buf_(std::make_shared<const std::string>(std::move(text))) {}

std::string_view Payload::text() const { return buf_ ? std::string_view(*buf_) : std::string_view(); }

HttpServer::HttpServer(EventLoop& loop, HttpServerOptions options)
    : loop_(loop), options_(std::move(options)) {
  if (options_.request_budget) budget_ = std::make_unique<RequestBudget>(*options_.request_budget);
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
    for (const auto& a : shards_[i]->adopt) ::close(a.fd);
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (acceptor_wake_fd_ >= 0) ::close(acceptor_wake_fd_);
}

std::string HttpServer::create_context(Shard& shard) {
  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  // The acceptor listens and hands sockets over; NO_LISTEN_SERVER (not NO_LISTEN) keeps the
  // vhost's server TLS, so an adopted socket gets its TLS handshake from lws.
  info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
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
  // lws reads a socket into this per-thread buffer, at most its size per read (default 4 KiB).
  // A 6 MiB photo upload was 1,536 reads and as many passes of the loop; refused bodies read
  // and dropped during a lingering close the same. 64 KiB makes those 96 (docs/reliability.md
  // "Effect on others"); it is also the largest piece of a file lws sends at once. TLS gets
  // 16 KiB, what one TLS record carries (when h2 was still offered, a larger DATA frame than
  // h2's default SETTINGS_MAX_FRAME_SIZE was a protocol error: ERR_HTTP2_FRAME_SIZE_ERROR).
  info.pt_serv_buf_size = options_.tls_cert.empty() ? kServiceBufferBytes : kTlsServiceBufferBytes;
  if (!options_.tls_cert.empty()) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    // HTTP/1.1 only: offered h2, Chromium opens its websockets over h2 (RFC 8441) too, which
    // this server refuses (the upgrade filter and the frame gate work on a connection of its
    // own), and the room joined only after a few failed tries (net::ERR_HTTP2_PROTOCOL_ERROR).
    info.alpn = "http/1.1";
    info.ssl_cert_filepath = options_.tls_cert.c_str();
    info.ssl_private_key_filepath = options_.tls_key.c_str();
  }
  shard.uv = std::make_unique<uv_loop_t>();
  if (uv_loop_init(shard.uv.get()) != 0) return "cannot create an event loop";
  shard.uv_ready = true;
  uv_timer_init(shard.uv.get(), &shard.wakeup_timer);
  // The keepalive sweep: the callback only flags it; the shard's loop runs it between turns
  // (run, run_shard), where our other writes happen too.
  uv_timer_init(shard.uv.get(), &shard.keepalive_timer);
  shard.keepalive_timer.data = &shard;
  const auto sweep = std::clamp<std::chrono::milliseconds>(options_.ws_ping_after / 6, std::chrono::milliseconds(200),
                                                           std::chrono::milliseconds(5000));
  uv_timer_start(
      &shard.keepalive_timer, [](uv_timer_t* t) { static_cast<Shard*>(t->data)->keepalive_due = true; },
      static_cast<uint64_t>(sweep.count()), static_cast<uint64_t>(sweep.count()));
  void* loops[] = {shard.uv.get()};
  info.foreign_loops = loops;
  info.options |= LWS_SERVER_OPTION_LIBUV;
  shard.context = lws_create_context(&info);
  if (shard.context != nullptr) shard.vhost = lws_get_vhost_by_name(shard.context, "default");
  if (shard.vhost == nullptr) {
    return "cannot create an HTTP service context";
  }
  return {};
}

namespace {

// The certificate chain and key load and belong together; "" when they do. Checked before lws
// sees them: lws 4.1.6 then makes a context without a vhost, which cannot be torn down cleanly.
std::string check_tls_files(const std::string& cert, const std::string& key) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return "cannot start TLS";
  std::string problem;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) problem = "cannot read a certificate from " + cert;
  else if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) problem = "cannot read a private key from " + key;
  else if (SSL_CTX_check_private_key(ctx) != 1) problem = key + " is not the key of the certificate in " + cert;
  SSL_CTX_free(ctx);
  ERR_clear_error();
  return problem.empty() ? "" : "cannot serve TLS: " + problem;
}

}  // namespace

std::string HttpServer::start() {
  if (!options_.tls_cert.empty()) {
    if (auto err = check_tls_files(options_.tls_cert, options_.tls_key); !err.empty()) return err;
  }
  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
  // Our own listener (accept_loop) takes every connection first: it survives running out of
  // descriptors, refuses over-long plain heads with 414/431 and hands plain websockets to the
  // fan-out shards. A TLS connection's head is encrypted, so it goes to the loop shard (a TLS
  // websocket cannot be told from a request before lws decrypts it; docs/architecture.md
  // "Fan-out threads").
  for (size_t i = 1; i <= options_.fanout_threads; ++i) {
    shards_.push_back(std::make_unique<Shard>());
    shards_.back()->index = i;
  }
  if (auto err = open_listener(); !err.empty()) return err;
  for (auto& sh : shards_)
    if (auto err = create_context(*sh); !err.empty()) return err;
  for (size_t i = 1; i < shards_.size(); ++i) {
    Shard* sh = shards_[i].get();
    sh->thread = std::thread([this, sh] { run_shard(*sh); });
  }
  acceptor_ = std::thread([this] { accept_loop(); });
  lws_context* ctx = shards_[0]->context;
  loop_.set_waker([ctx] { lws_cancel_service(ctx); });
  return {};
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
    auto wait = loop_.run_pending();
    if (adoptions_waiting(home)) wait = std::chrono::milliseconds(0);  // more to adopt: come back at once
    schedule_timer_wakeup(wait);
    if (loop_.stop_requested()) break;
    keep_alive(home);
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
    keep_alive(shard);
    flush_writes(shard);
    publish_delivery_metrics(shard);
    uv_run(shard.uv.get(), adoptions_waiting(shard) ? UV_RUN_NOWAIT : UV_RUN_ONCE);
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
    if (s.outbox.empty() && s.close_status == 0 && !s.ping_wanted) continue;
    if (s.close_status != 0 || lws_partial_buffered(s.wsi)) {
      lws_callback_on_writable(s.wsi);
      continue;
    }
    if (write_websocket(shard, s.wsi, s) < 0) set_timeout(shard, s.wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
  }
  shard.dirty.clear();
}

// Every sweep interval (keepalive_timer): a websocket silent for ws_ping_after gets a PING
// (with its next write), one silent for ws_hangup_after is dropped. Any frame from the peer
// counts as heard, not only a PONG: a buyer who is talking is alive. One pass over the
// shard's websockets every few seconds; nothing per frame but storing the time.
void HttpServer::keep_alive(Shard& shard) {
  if (!std::exchange(shard.keepalive_due, false)) return;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [id, session] : shard.connections) {  // its open websockets
    Session& s = *session;
    if (s.close_status != 0) continue;
    const auto silent = now - s.heard_at;
    if (silent >= options_.ws_hangup_after) {
      // Gone without a FIN (a phone that lost its network): no close frame, nobody reads it.
      metrics().ws_keepalive_closes.fetch_add(1, std::memory_order_relaxed);
      s.close_status = LWS_CLOSE_STATUS_GOINGAWAY;
      set_timeout(shard, s.wsi, PENDING_TIMEOUT_WS_PONG_CHECK_GET_PONG, LWS_TO_KILL_ASYNC);
    } else if (silent >= options_.ws_ping_after && !s.ping_sent && !s.ping_wanted) {
      s.ping_wanted = true;
      shard.mark_dirty(s);
    }
  }
}

void HttpServer::drain_inbox(Shard& shard) {
  std::vector<Shard::Adoption> adopt;
  std::vector<Op> ops;
  {
    std::lock_guard lock(shard.mutex);
    // At most kAdoptPerTurn new sockets per turn: thousands handed over at once (a flood of
    // websockets opening) would otherwise keep the shard from its other sockets for seconds,
    // and a keepalive PONG waiting there can miss lws' hang-up deadline. The rest wait for the
    // next turn, which comes at once (adoptions_waiting).
    if (shard.adopt.size() <= kAdoptPerTurn) {
      adopt.swap(shard.adopt);
    } else {
      adopt.assign(shard.adopt.begin(), shard.adopt.begin() + kAdoptPerTurn);
      shard.adopt.erase(shard.adopt.begin(), shard.adopt.begin() + kAdoptPerTurn);
    }
    ops.swap(shard.ops);
  }
  for (const auto& a : adopt) {
    // On failure lws closes the descriptor itself (with TLS: a handshake that failed at once,
    // the client's business, not the server's).
    lws_sock_file_fd_type desc{};
    desc.sockfd = a.fd;
    const int type = LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP | (a.tls ? LWS_ADOPT_ALLOW_SSL : 0);
    lws* wsi = lws_adopt_descriptor_vhost(shard.vhost, static_cast<lws_adoption_type>(type), desc, nullptr, nullptr);
    if (wsi == nullptr) log::debug("http_adopt_failed").kv("shard", shard.index);
    else if (a.charged) session_for(shard, wsi).first_request_charged = true;
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
      case Op::Kind::respond:
        remote_answer(shard, op.conn, std::move(op.response), op.flag);
        break;
      case Op::Kind::read_body:
        remote_read_body(shard, op.conn);
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

int HttpServer::on_lws_event(Shard& shard, lws* wsi, int reason_int, void* in, size_t len) {
  const auto reason = static_cast<lws_callback_reasons>(reason_int);
  const bool home = on_loop_shard(shard);
  switch (reason) {
    case LWS_CALLBACK_HTTP:
      return handle_http_request(shard, wsi, session_for(shard, wsi));

    case LWS_CALLBACK_HTTP_BODY: {
      // Body bytes of a refused request (answered, its connection closing) are dropped.
      Session& s = session_for(shard, wsi);
      if (s.http == Session::Http::closing)  // lws restarts its timeout at each byte: ours holds
        return std::chrono::steady_clock::now() - s.closing_since > std::chrono::seconds(kLingerSeconds) ? -1 : 0;
      // (screening: bytes lws read with the head of another shard's request, before it paused)
      if (s.http != Session::Http::reading_body && s.http != Session::Http::screening) return 0;
      const std::string_view bytes(static_cast<const char*>(in), len);
      if (s.request.body.empty() && starts_with_request_line(bytes)) return refuse_misread_body(wsi, s);
      const size_t room = s.body_expected - s.request.body.size();
      s.request.body.append(bytes.substr(0, std::min(len, room)));
      // A route may judge the body from its first bytes (RouteLimits::body_start).
      if (home && s.http == Session::Http::reading_body) return judge_body_start(wsi, s);
      return 0;
    }
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
      // lws 4.1.6 stays in its body state until the transaction completes, and every time it
      // looks at bytes that followed the body in the same read (a pipelined request, or one
      // stray byte) it reports the body complete again (lws_read_h1: Content-Length given and
      // nothing remaining -> completion). Only the first report is this request's; the bytes
      // are parsed as the next request once ours is answered (finish_exchange).
      Session& s = session_for(shard, wsi);
      if (s.http == Session::Http::screening) s.remote_body_complete = true;
      if (s.http != Session::Http::reading_body) return 0;
      if (!home) {
        remote_body_done(shard, wsi, s);
        return 0;
      }
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
      // Every plain websocket came through the acceptor, which watches its frames for the mask
      // bit from the first byte after the head; an upgrade it did not see (a later request on
      // a kept-alive connection) is refused rather than served unwatched. TLS ones are watched
      // from ESTABLISHED on (ws_frame_gate.h).
      if (!lws_is_ssl(wsi) && !client_frames_watched(lws_get_socket_fd(wsi))) return 1;
      read_request_head(wsi, s.request);
      return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
      Session& s = session_for(shard, wsi);
      s.is_websocket = true;
      s.wsi = wsi;
      s.heard();
      shard.connections[s.id] = &s;
      if (lws_is_ssl(wsi)) watch_client_frames_tls(lws_get_socket_fd(wsi));
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
    case LWS_CALLBACK_RECEIVE_PONG:
      session_for(shard, wsi).heard();
      return 0;
    case LWS_CALLBACK_RECEIVE: {
      Session& s = session_for(shard, wsi);
      s.heard();
      if (s.close_status != 0) return 0;
      // The protocol is JSON text (docs/protocol.md): a binary message is not a
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
        if (s.awaiting_reply) {
          shard.awaiting.erase(s.id);
          if (!home) loop_.post([this, id = s.id] { loop_forget_remote(id); });
        }
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

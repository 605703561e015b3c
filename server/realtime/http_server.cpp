#include "realtime/http_server.h"

#include <libwebsockets.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstring>

#include "core/log.h"
#include "core/metrics.h"

namespace harvest::realtime {
namespace {

int lws_trampoline(lws* wsi, lws_callback_reasons reason, void* /*user*/, void* in, size_t len) {
  auto* server = static_cast<HttpServer*>(lws_context_user(lws_get_context(wsi)));
  if (server == nullptr) return 0;
  return server->on_lws_event(wsi, static_cast<int>(reason), in, len);
}

// One protocol serves HTTP and the websocket upgrade: browsers open /ws without a
// subprotocol, and lws gives such connections the vhost's first protocol.
const lws_protocols kProtocols[] = {
    {"harvest", lws_trampoline, 0, 4096, 0, nullptr, 0},
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

}  // namespace

Payload::Payload(std::string_view text) : buf_(std::make_shared<std::string>(LWS_PRE + text.size(), '\0')) {
  std::memcpy(buf_->data() + LWS_PRE, text.data(), text.size());
}

std::string_view Payload::text() const {
  if (!buf_) return {};
  return std::string_view(*buf_).substr(LWS_PRE);
}

unsigned char* Payload::writable_text() const { return reinterpret_cast<unsigned char*>(buf_->data()) + LWS_PRE; }

struct HttpServer::Session {
  ConnId id = 0;
  bool is_websocket = false;
  // HTTP exchange
  HttpRequest request;
  size_t body_expected = 0;
  bool body_too_large = false;
  HttpResponse response;
  size_t body_sent = 0;
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
  std::string close_reason;
};

struct HttpServer::TimerSul {
  lws_sorted_usec_list_t sul;  // first member: lws hands back a pointer to it
};

HttpServer::HttpServer(EventLoop& loop, HttpServerOptions options)
    : loop_(loop), options_(std::move(options)), timer_sul_(std::make_unique<TimerSul>()) {
  std::memset(&timer_sul_->sul, 0, sizeof timer_sul_->sul);
}

HttpServer::~HttpServer() {
  ws_handler_ = nullptr;
  if (context_ != nullptr) {
    loop_.set_waker(nullptr);
    lws_context_destroy(context_);
  }
}

std::string HttpServer::start() {
  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.port = options_.port;
  info.iface = options_.bind_address == "0.0.0.0" ? nullptr : options_.bind_address.c_str();
  info.protocols = kProtocols;
  info.user = this;
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
  info.fd_limit_per_thread = options_.fd_limit;
  info.retry_and_idle_policy = &kIdlePolicy;
  info.timeout_secs = 20;  // a client that sends nothing for 20 s mid-request is dropped
  if (!options_.tls_cert.empty()) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = options_.tls_cert.c_str();
    info.ssl_private_key_filepath = options_.tls_key.c_str();
  }

  context_ = lws_create_context(&info);
  if (context_ == nullptr) {
    return "cannot listen for HTTP on " + options_.bind_address + ":" + std::to_string(options_.port) +
           " (port in use or not permitted)";
  }
  vhost_ = lws_get_vhost_by_name(context_, "default");
  port_ = vhost_ != nullptr ? lws_get_vhost_listen_port(vhost_) : options_.port;
  if (port_ <= 0) {
    lws_context_destroy(context_);
    context_ = nullptr;
    return "cannot listen for HTTP on port " + std::to_string(options_.port);
  }
  lws_context* ctx = context_;
  loop_.set_waker([ctx] { lws_cancel_service(ctx); });
  return {};
}

void HttpServer::schedule_timer_wakeup(std::chrono::milliseconds wait) {
  if (wait == std::chrono::milliseconds::max()) {
    lws_sul_cancel(&timer_sul_->sul);
    return;
  }
  // The callback does nothing: firing makes lws_service() return, and run() then
  // runs the due timers through EventLoop::run_pending().
  lws_sul_schedule(context_, 0, &timer_sul_->sul, [](lws_sorted_usec_list_t*) {},
                   static_cast<lws_usec_t>(wait.count()) * LWS_US_PER_MS);
}

void HttpServer::run() {
  loop_.bind_to_current_thread();
  while (!loop_.stop_requested()) {
    schedule_timer_wakeup(loop_.run_pending());
    if (loop_.stop_requested()) break;
    if (lws_service(context_, 0) < 0) break;
  }
  loop_.run_pending();
}

HttpServer::Session& HttpServer::session_for(lws* wsi) {
  auto& slot = sessions_[wsi];
  if (!slot) {
    slot = std::make_unique<Session>();
    slot->id = next_conn_id_++;
  }
  return *slot;
}

bool HttpServer::send(ConnId conn, std::string_view message) {
  return send(conn, Payload(message), Delivery::reliable, 0);
}

bool HttpServer::send(ConnId conn, const Payload& payload, Delivery delivery, uint64_t key) {
  auto it = connections_.find(conn);
  if (it == connections_.end()) return false;
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
    lws_set_timeout(s.wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    return false;
  }
  if (was_empty) lws_callback_on_writable(s.wsi);
  return true;
}

void HttpServer::set_batching(ConnId conn, bool on) {
  auto it = connections_.find(conn);
  if (it != connections_.end()) it->second->batching = on;
}

size_t HttpServer::queued_bytes(ConnId conn) const {
  auto it = connections_.find(conn);
  return it == connections_.end() ? 0 : it->second->outbox_bytes;
}

void HttpServer::close(ConnId conn, int status, std::string reason, bool flush_first) {
  auto it = connections_.find(conn);
  if (it == connections_.end()) return;
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
  lws_set_timeout(s.wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
}

int HttpServer::write_websocket(lws* wsi, Session& s) {
  if (s.close_status != 0 && (!s.close_after_flush || s.outbox.empty())) {
    lws_close_reason(wsi, static_cast<lws_close_status>(s.close_status),
                     reinterpret_cast<unsigned char*>(s.close_reason.data()), s.close_reason.size());
    return -1;
  }
  if (s.outbox.empty()) return 0;
  const auto now = std::chrono::steady_clock::now();
  auto& m = metrics();
  size_t taken = 1;
  unsigned char* data = nullptr;
  size_t len = 0;
  if (s.batching && s.outbox.size() > 1) {
    // Several events in one frame: lws sets TCP_NODELAY, so every write is a packet.
    batch_scratch_.assign(LWS_PRE, '\0');
    batch_scratch_ += '[';
    batch_scratch_ += s.outbox.front().payload.text();
    while (taken < s.outbox.size() &&
           batch_scratch_.size() + s.outbox[taken].payload.size() < options_.back_pressure.batch_max_bytes) {
      batch_scratch_ += ',';
      batch_scratch_ += s.outbox[taken].payload.text();
      ++taken;
    }
    batch_scratch_ += ']';
    data = reinterpret_cast<unsigned char*>(batch_scratch_.data()) + LWS_PRE;
    len = batch_scratch_.size() - LWS_PRE;
  } else {
    data = s.outbox.front().payload.writable_text();
    len = s.outbox.front().payload.size();
  }
  if (lws_write(wsi, data, len, LWS_WRITE_TEXT) < static_cast<int>(len)) return -1;
  for (size_t i = 0; i < taken; ++i) {
    const auto& out = s.outbox.front();
    m.fanout_latency_s.observe(std::chrono::duration<double>(now - out.queued_at).count());
    s.outbox_bytes -= out.payload.size();
    s.outbox.pop_front();
  }
  m.ws_messages_out.fetch_add(taken, std::memory_order_relaxed);
  m.ws_frames_out.fetch_add(1, std::memory_order_relaxed);
  if (!s.outbox.empty() || s.close_status != 0) lws_callback_on_writable(wsi);
  return 0;
}

int HttpServer::handle_http_request(lws* wsi, Session& s, const char* /*uri*/) {
  s.request = HttpRequest{};
  s.response = HttpResponse{};
  s.body_sent = 0;
  s.body_expected = 0;
  s.body_too_large = false;

  char* uri_ptr = nullptr;
  int uri_len = 0;
  const int method = lws_http_get_uri_and_method(wsi, &uri_ptr, &uri_len);
  if (method < 0 || uri_ptr == nullptr) return -1;
  s.request.method = method_name(method);
  s.request.path.assign(uri_ptr, static_cast<size_t>(uri_len));
  read_request_head(wsi, s.request);

  const std::string length = s.request.header("content-length");
  if (!length.empty()) s.body_expected = std::strtoull(length.c_str(), nullptr, 10);
  if (s.body_expected > 0 && (s.request.method == "POST" || s.request.method == "PUT" ||
                              s.request.method == "PATCH" || s.request.method == "DELETE")) {
    if (s.body_expected > options_.max_body_bytes) s.body_too_large = true;
    return 0;  // wait for LWS_CALLBACK_HTTP_BODY_COMPLETION
  }
  return dispatch(wsi, s);
}

int HttpServer::dispatch(lws* wsi, Session& s) {
  if (s.body_too_large) {
    s.response = HttpResponse::error(413, "too_large", "request body is larger than the limit");
  } else {
    auto match = router_.match(s.request.method, s.request.path);
    if (match.handler == nullptr) {
      s.response = match.path_matched_other_method
                       ? HttpResponse::error(405, "method_not_allowed", "method not allowed here")
                       : HttpResponse::error(404, "not_found", "no such resource");
    } else {
      s.request.params = std::move(match.params);
      try {
        s.response = (*match.handler)(s.request);
      } catch (const std::exception& e) {
        log::error("http_handler_failed").kv("path", s.request.path).kv("what", e.what());
        s.response = HttpResponse::error(500, "internal", "internal error");
      }
    }
  }
  log::debug("http").kv("method", s.request.method).kv("path", s.request.path).kv("status", s.response.status);

  if (!s.response.file_path.empty()) {
    struct stat st{};
    if (::stat(s.response.file_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      s.response = HttpResponse::error(404, "not_found", "no such file");
    } else {
      unsigned char extra[512];
      unsigned char* p = extra;
      unsigned char* end = extra + sizeof extra;
      for (const auto& [name, value] : s.response.headers) {
        const std::string key = name + ":";
        if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(key.c_str()),
                                        reinterpret_cast<const unsigned char*>(value.data()),
                                        static_cast<int>(value.size()), &p, end))
          return -1;
      }
      const int n = lws_serve_http_file(wsi, s.response.file_path.c_str(), s.response.content_type.c_str(),
                                        reinterpret_cast<const char*>(extra), static_cast<int>(p - extra));
      return n < 0 ? -1 : 0;
    }
  }
  return write_response_headers(wsi, s);
}

int HttpServer::write_response_headers(lws* wsi, Session& s) {
  unsigned char buf[LWS_PRE + 2048];
  unsigned char* start = buf + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = buf + sizeof buf - 1;
  if (lws_add_http_common_headers(wsi, static_cast<unsigned>(s.response.status),
                                  s.response.content_type.c_str(), s.response.body.size(), &p, end))
    return -1;
  for (const auto& [name, value] : s.response.headers) {
    const std::string key = name + ":";
    if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(key.c_str()),
                                    reinterpret_cast<const unsigned char*>(value.data()),
                                    static_cast<int>(value.size()), &p, end))
      return -1;
  }
  if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
  lws_callback_on_writable(wsi);
  return 0;
}

int HttpServer::write_http_body(lws* wsi, Session& s) {
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
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int HttpServer::on_lws_event(lws* wsi, int reason_int, void* in, size_t len) {
  const auto reason = static_cast<lws_callback_reasons>(reason_int);
  switch (reason) {
    case LWS_CALLBACK_HTTP:
      return handle_http_request(wsi, session_for(wsi), static_cast<const char*>(in));

    case LWS_CALLBACK_HTTP_BODY: {
      Session& s = session_for(wsi);
      if (!s.body_too_large) {
        if (s.request.body.size() + len > options_.max_body_bytes) s.body_too_large = true;
        else s.request.body.append(static_cast<const char*>(in), len);
      }
      return 0;
    }
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      return dispatch(wsi, session_for(wsi));

    case LWS_CALLBACK_HTTP_WRITEABLE: {
      Session& s = session_for(wsi);
      return write_http_body(wsi, s);
    }
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
      return lws_http_transaction_completed(wsi) ? -1 : 0;

    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
      // Websocket upgrade: only /ws, only RFC 6455 (lws would accept any version).
      if (ws_handler_ == nullptr) return 1;
      if (copy_header(wsi, WSI_TOKEN_VERSION) != "13") return 1;
      Session& s = session_for(wsi);
      s.request = HttpRequest{};
      s.request.method = "GET";
      s.request.path = copy_header(wsi, WSI_TOKEN_GET_URI);
      if (s.request.path != "/ws") return 1;
      read_request_head(wsi, s.request);
      return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
      Session& s = session_for(wsi);
      s.is_websocket = true;
      s.wsi = wsi;
      connections_[s.id] = &s;
      metrics().ws_connections.fetch_add(1, std::memory_order_relaxed);
      if (options_.back_pressure.socket_send_buffer > 0) {
        // A bounded kernel buffer per websocket: a reader that stops shows up in our queue
        // (and is cut off) within a bounded amount of memory.
        const int fd = lws_get_socket_fd(wsi);
        const int size = options_.back_pressure.socket_send_buffer;
        if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
      }
      if (ws_handler_ == nullptr || !ws_handler_->on_open(s.id, s.request)) return -1;
      return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
      Session& s = session_for(wsi);
      if (s.close_status != 0) return 0;
      if (s.partial_message.size() + len > options_.max_message_bytes) {
        static const char kReason[] = "message too large";
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         reinterpret_cast<unsigned char*>(const_cast<char*>(kReason)), sizeof kReason - 1);
        return -1;
      }
      s.partial_message.append(static_cast<const char*>(in), len);
      if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
        std::string message;
        message.swap(s.partial_message);
        metrics().ws_messages_in.fetch_add(1, std::memory_order_relaxed);
        if (ws_handler_ != nullptr) ws_handler_->on_message(s.id, message);
      }
      return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return write_websocket(wsi, session_for(wsi));
    case LWS_CALLBACK_CLOSED: {
      auto it = sessions_.find(wsi);
      if (it != sessions_.end() && it->second->is_websocket) {
        metrics().ws_connections.fetch_sub(1, std::memory_order_relaxed);
        connections_.erase(it->second->id);
        if (ws_handler_ != nullptr) ws_handler_->on_close(it->second->id);
        it->second->is_websocket = false;
      }
      return 0;
    }
    case LWS_CALLBACK_WSI_DESTROY: {
      auto it = sessions_.find(wsi);
      if (it != sessions_.end()) {
        if (it->second->is_websocket) {
          metrics().ws_connections.fetch_sub(1, std::memory_order_relaxed);
          connections_.erase(it->second->id);
          if (ws_handler_ != nullptr) ws_handler_->on_close(it->second->id);
        }
        sessions_.erase(it);
      }
      return 0;
    }
    default:
      return lws_callback_http_dummy(wsi, reason, nullptr, in, len);
  }
}

}  // namespace harvest::realtime

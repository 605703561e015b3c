// HttpServer, one HTTP request: routed and checked from its head, its body read within the
// route's limits, the handler run once, the response written. See http_server_parts.h.
#include <libwebsockets.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/log.h"
#include "core/metrics.h"
#include "realtime/http_server_parts.h"

namespace harvest::realtime {

using namespace http_detail;

// A request's head has arrived (LWS_CALLBACK_HTTP). It is routed and checked from the head
// alone; a body is read only for a route that accepted the head, and only within its limits.
int HttpServer::handle_http_request(Shard& shard, lws* wsi, Session& s) {
  if (s.http == Session::Http::closing) return -1;  // nothing more is read as a request
  release_body(s);
  s.http = Session::Http::answering;
  s.request = HttpRequest{};
  s.response = HttpResponse{};
  s.handler = nullptr;
  s.limits = nullptr;
  s.body_start_judged = false;
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

  // Every request counts against its address's budget (any shard: the budget has its own
  // lock); a connection's first was charged by the acceptor already.
  std::optional<HttpResponse> refusal;
  if (budget_ && !std::exchange(s.first_request_charged, false)) refusal = over_budget(*budget_, s.request);
  if (!refusal) refusal = screen_framing(s);
  if (!refusal && !on_loop_shard(shard)) return forward_request(shard, wsi, s);  // http_remote.cpp
  if (!refusal) refusal = screen_route(s.request, s.body_expected, s.handler, &s.limits);
  if (refusal) {
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

namespace {

std::optional<HttpResponse> refuse(int status, std::string_view reason, std::string_view code, std::string_view message) {
  metrics().http_refused.add(std::string(reason));
  return HttpResponse::error(status, code, message);
}

}  // namespace

namespace http_detail {

std::optional<HttpResponse> over_budget(RequestBudget& budget, const HttpRequest& request) {
  const int64_t wait_s = budget.take(request.peer, classify_request(request.method, request.path),
                                     std::chrono::steady_clock::now());
  if (wait_s == 0) return std::nullopt;
  auto limited = refuse(429, "request_budget", "rate_limited", "too many requests from your address; try again shortly");
  limited->headers.emplace_back("Retry-After", std::to_string(wait_s));
  return limited;
}

}  // namespace http_detail

// The framing of the body, from the head alone (any shard): sets s.body_expected, or refuses.
std::optional<HttpResponse> HttpServer::screen_framing(Session& s) {
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
  return std::nullopt;
}

// Everything else decided from the head, on the loop thread (routes and their checks live
// there): the answer when the request is refused; nothing when its handler is to run
// (`handler` and request.params are then set).
std::optional<HttpResponse> HttpServer::screen_route(HttpRequest& request, size_t body_expected,
                                                     const HttpHandler*& handler, const RouteLimits** limits) {
  auto match = router_.match(request.method, request.path);
  if (match.handler == nullptr) {
    return match.path_matched_other_method ? HttpResponse::error(405, "method_not_allowed", "method not allowed here")
                                           : HttpResponse::error(404, "not_found", "no such resource");
  }
  request.params = std::move(match.params);
  if (match.limits->check) {
    if (auto refused = match.limits->check(request)) return refused;
  }
  if (body_expected > match.limits->max_body_bytes)
    return refuse(413, "body_too_large", "too_large",
                  "request body is larger than this route's limit of " + std::to_string(match.limits->max_body_bytes) +
                      " bytes");
  if (buffered_body_bytes_ + body_expected > options_.max_buffered_body_bytes) {
    auto busy = refuse(503, "busy", "busy", "too many request bodies in flight; try again shortly");
    busy->headers.emplace_back("Retry-After", "1");
    return busy;
  }
  handler = match.handler;
  if (limits != nullptr) *limits = match.limits;
  return std::nullopt;
}

// The route's BodyStartCheck, once its first bytes have arrived (loop shard, from
// LWS_CALLBACK_HTTP_BODY). A refusal is answered at once, like a body past its deadline:
// the bytes read so far are let go, and the rest is read and dropped by the lingering close.
// 8 uploads of 6 MiB that were not pictures used to be read whole (48 MiB through the loop)
// before the photo worker said so; now each costs its first read.
int HttpServer::judge_body_start(lws* wsi, Session& s) {
  if (s.body_start_judged) return 0;
  if (s.limits == nullptr || !s.limits->body_start) {
    s.body_start_judged = true;
    return 0;
  }
  if (s.request.body.size() < std::min(s.limits->body_start_bytes, s.body_expected)) return 0;
  s.body_start_judged = true;
  auto refused = s.limits->body_start(s.request.body);
  if (!refused) return 0;
  metrics().http_refused.add("body_start");
  release_body(s);
  s.http = Session::Http::answering;
  s.close_after_response = true;
  s.response = std::move(*refused);
  return respond(wsi, s);
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
  add_security_headers(s.response, lws_is_ssl(wsi) != 0);
  if (!s.response.file_path.empty()) {
    struct stat st{};
    if (::stat(s.response.file_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      s.response = HttpResponse::error(404, "not_found", "no such file");
      add_security_headers(s.response, lws_is_ssl(wsi) != 0);
    } else {
      unsigned char extra[2048];  // the CSP alone is ~330 bytes
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
  add_security_headers(s.response, lws_is_ssl(wsi) != 0);
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
  if (s.close_after_response) {
    // A lingering close (RFC 9112 9.6): the client may still be sending the body we refused.
    // Closing with its bytes unread would reset the connection, and a reset can destroy our
    // answer in the client's buffer before it is read. So no more writes (FIN), its remaining
    // bytes are read and dropped (HTTP_BODY while closing), and the connection closes when the
    // client closes, or at most kLingerSeconds later. Nothing is buffered meanwhile.
    s.http = Session::Http::closing;
    s.closing_since = std::chrono::steady_clock::now();
    const int fd = lws_get_socket_fd(wsi);
    if (fd >= 0) ::shutdown(fd, SHUT_WR);
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, kLingerSeconds);
    return 0;
  }
  s.http = Session::Http::idle;
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

}  // namespace harvest::realtime

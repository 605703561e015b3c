// HttpServer, HTTP on a shard other than the loop's. TLS connections cannot be routed by
// their head (it is encrypted until lws decrypts it), so the acceptor spreads them over every
// shard, and a shard that is not the loop's may receive any request. Routes, their checks and
// the body budget belong to the loop thread, so the exchange is split:
//
//   shard k                                   loop
//   head read, framing checked  ── head ──►   screen_route: refused? ─► respond(refusal)
//   reads paused (screening)                  accepted, no body ─────► run handler
//                               ◄─ read_body ─ accepted, body: budget reserved, deadline set
//   body read (within Content-Length)
//                               ── body ──►   run handler (deferred: when its reply comes)
//   response written            ◄─ respond ─
//
// The session waits in Shard::awaiting under its id; a connection that closes first tells the
// loop (loop_forget_remote), and a late answer finds nothing and is dropped.
#include <libwebsockets.h>

#include "core/log.h"
#include "core/metrics.h"
#include "realtime/http_server_parts.h"

namespace harvest::realtime {

using namespace http_detail;

// --- on shard k ---

int HttpServer::forward_request(Shard& shard, lws* wsi, Session& s) {
  s.http = Session::Http::screening;
  s.remote_body_complete = false;
  s.awaiting_reply = true;
  shard.awaiting[s.id] = wsi;
  // No body is read before the loop accepted the head (what lws already read is kept, at most
  // one read's worth, see LWS_CALLBACK_HTTP_BODY).
  lws_rx_flow_control(wsi, 0);
  loop_.post([this, id = s.id, request = s.request, expected = s.body_expected]() mutable {
    loop_screen_remote(id, std::move(request), expected);
  });
  return 0;
}

void HttpServer::remote_read_body(Shard& shard, ConnId id) {
  auto it = shard.awaiting.find(id);
  if (it == shard.awaiting.end()) return;  // the client left
  lws* wsi = it->second;
  Session& s = session_for(shard, wsi);
  if (s.http != Session::Http::screening) return;
  s.http = Session::Http::reading_body;
  if (s.remote_body_complete || s.request.body.size() == s.body_expected) return remote_body_done(shard, wsi, s);
  lws_rx_flow_control(wsi, 1);
}

void HttpServer::remote_body_done(Shard&, lws*, Session& s) {
  s.http = Session::Http::answering;  // still in Shard::awaiting, until the answer comes
  loop_.post([this, id = s.id, body = std::move(s.request.body)]() mutable { loop_run_remote(id, std::move(body)); });
  s.request.body.clear();
}

void HttpServer::remote_answer(Shard& shard, ConnId id, HttpResponse response, bool close_after) {
  auto it = shard.awaiting.find(id);
  if (it == shard.awaiting.end()) return;  // the client left
  lws* wsi = it->second;
  shard.awaiting.erase(it);
  Session& s = session_for(shard, wsi);
  s.awaiting_reply = false;
  s.http = Session::Http::answering;
  s.close_after_response = s.close_after_response || close_after;
  s.response = std::move(response);
  lws_rx_flow_control(wsi, 1);  // the next request, or a lingering close's reads
  if (respond(wsi, s) != 0) set_timeout(shard, wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

// --- on the loop thread ---

void HttpServer::loop_screen_remote(ConnId id, HttpRequest request, size_t body_expected) {
  auto ex = std::make_unique<RemoteExchange>();
  ex->request = std::move(request);
  if (auto refusal = screen_route(ex->request, body_expected, ex->handler))
    return loop_answer_remote(id, std::move(*refusal), /*close_after=*/true);  // its body stays unread
  if (body_expected == 0) {
    remote_.emplace(id, std::move(ex));
    return loop_run_remote(id, {});
  }
  ex->reserved = body_expected;
  buffered_body_bytes_ += body_expected;
  remote_.emplace(id, std::move(ex));
  loop_.run_after(options_.body_deadline, [this, id] {
    auto it = remote_.find(id);
    if (it == remote_.end() || it->second->reserved == 0) return;  // arrived, or gone
    log::info("http_body_timeout").kv("path", it->second->request.path).kv("expected", it->second->reserved);
    metrics().http_refused.add("body_timeout");
    loop_forget_remote(id);
    loop_answer_remote(id, HttpResponse::error(408, "timeout", "the request body did not arrive in time"), true);
  });
  Op op;
  op.kind = Op::Kind::read_body;
  op.conn = id;
  post_to_shard(shard_of(id), std::move(op));
}

void HttpServer::loop_run_remote(ConnId id, std::string body) {
  auto it = remote_.find(id);
  if (it == remote_.end()) return;  // past its deadline, or the client left
  std::unique_ptr<RemoteExchange> ex = std::move(it->second);
  remote_.erase(it);
  buffered_body_bytes_ -= ex->reserved;
  ex->request.body = std::move(body);
  HttpResponse response;
  try {
    response = (*ex->handler)(ex->request);
  } catch (const std::exception& e) {
    log::error("http_handler_failed").kv("path", ex->request.path).kv("what", e.what());
    response = HttpResponse::error(500, "internal", "internal error");
  }
  if (!response.deferred) return loop_answer_remote(id, std::move(response));
  auto start = std::move(response.deferred);
  HttpReply reply = [this, life = std::weak_ptr<int>(life_), id](HttpResponse later) {
    if (!life.expired()) loop_answer_remote(id, std::move(later));
  };
  try {
    start(std::move(reply));
  } catch (const std::exception& e) {
    log::error("http_handler_failed").kv("path", ex->request.path).kv("what", e.what());
    loop_answer_remote(id, HttpResponse::error(500, "internal", "internal error"));
  }
}

void HttpServer::loop_answer_remote(ConnId id, HttpResponse response, bool close_after) {
  if (response.deferred) response = HttpResponse::error(500, "internal", "a deferred response must be a body");
  Op op;
  op.kind = Op::Kind::respond;
  op.conn = id;
  op.response = std::move(response);
  op.flag = close_after;
  post_to_shard(shard_of(id), std::move(op));
}

void HttpServer::loop_forget_remote(ConnId id) {
  auto it = remote_.find(id);
  if (it == remote_.end()) return;
  buffered_body_bytes_ -= it->second->reserved;
  remote_.erase(it);
}

}  // namespace harvest::realtime

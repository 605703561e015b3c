#pragma once
// One libwebsockets context on one port: HTTP routes, static files and websockets (/ws).
// Its service loop *is* the control plane's EventLoop (see core/event_loop.h): all
// handlers and websocket callbacks run on that one thread.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/event_loop.h"
#include "realtime/http_types.h"
#include "realtime/router.h"

struct lws;
struct lws_context;
struct lws_vhost;

namespace harvest::realtime {

using ConnId = uint64_t;

// Receives websocket events for connections to /ws. All calls are on the loop thread.
class WebSocketHandler {
public:
  virtual ~WebSocketHandler() = default;
  // The upgrade request (path, query, headers). Return false to refuse the connection.
  virtual bool on_open(ConnId conn, const HttpRequest& upgrade) = 0;
  // One whole text message (fragments reassembled, at most max_message_bytes).
  virtual void on_message(ConnId conn, std::string_view text) = 0;
  virtual void on_close(ConnId conn) = 0;
};

struct HttpServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 8080;  // 0: pick a free port; see HttpServer::port()
  std::string tls_cert;
  std::string tls_key;
  size_t max_body_bytes = 1 << 20;
  size_t max_message_bytes = 64 * 1024;  // larger websocket messages close with 1009
  unsigned fd_limit = 20000;
};

class HttpServer {
public:
  HttpServer(EventLoop& loop, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  Router& router() { return router_; }
  void set_websocket_handler(WebSocketHandler* handler) { ws_handler_ = handler; }

  // Creates the context and the listening socket. Returns an error sentence, or empty.
  std::string start();
  int port() const { return port_; }

  // Runs the event loop until loop.request_stop(); then closes every connection.
  void run();

  // --- websocket output, loop thread only ---
  // Queues a text message; false if the connection is gone.
  bool send(ConnId conn, std::string message);
  // Bytes queued and not yet written for `conn` (0 if unknown).
  size_t queued_bytes(ConnId conn) const;
  // Closes with a websocket status code (e.g. 1008, 1009) after flushing nothing more.
  void close(ConnId conn, int status, std::string reason);

  // Called by the lws callback trampoline; not for other users.
  int on_lws_event(lws* wsi, int reason, void* in, size_t len);

private:
  struct Session;
  Session& session_for(lws* wsi);
  int handle_http_request(lws* wsi, Session& s, const char* uri);
  int dispatch(lws* wsi, Session& s);
  int write_response_headers(lws* wsi, Session& s);
  int write_http_body(lws* wsi, Session& s);
  void schedule_timer_wakeup(std::chrono::milliseconds wait);

  EventLoop& loop_;
  HttpServerOptions options_;
  Router router_;
  WebSocketHandler* ws_handler_ = nullptr;
  lws_context* context_ = nullptr;
  lws_vhost* vhost_ = nullptr;
  int port_ = 0;
  ConnId next_conn_id_ = 1;
  std::unordered_map<lws*, std::unique_ptr<Session>> sessions_;
  std::unordered_map<ConnId, lws*> connections_;
  struct TimerSul;
  std::unique_ptr<TimerSul> timer_sul_;
};

}  // namespace harvest::realtime

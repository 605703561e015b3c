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

// An outgoing websocket message, built once and shared by every connection it goes to
// (immutable; carries LWS_PRE bytes of headroom before the text).
class Payload {
public:
  Payload() = default;
  explicit Payload(std::string_view text);
  std::string_view text() const;
  size_t size() const { return text().size(); }
  bool empty() const { return !buf_; }
  // Loop thread only: lws writes its frame header into the headroom. Every connection writes the
  // same header bytes (same length, server frames are unmasked), so sharing is safe.
  unsigned char* writable_text() const;

private:
  std::shared_ptr<std::string> buf_;
};

// How a message may be treated under back-pressure (see HttpServer::send).
enum class Delivery {
  reliable,     // never dropped (order acks, replies, card and sale events, chat)
  superseding,  // a newer message with the same key replaces a queued one; dropped first
};

struct BackPressureOptions {
  // Over this many queued bytes, superseding messages are dropped (oldest first).
  size_t drop_superseded_bytes = 64 * 1024;
  // Over this many queued bytes (or messages) after dropping, the connection is closed (1008).
  size_t disconnect_bytes = 1024 * 1024;
  size_t disconnect_messages = 4096;
  // Messages packed into one frame (a JSON array) for connections that asked for batching.
  size_t batch_max_bytes = 32 * 1024;
  int socket_send_buffer = 256 * 1024;  // SO_SNDBUF for websockets (0: kernel default)
};

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
  BackPressureOptions back_pressure;
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
  // Queues a text message (reliable); false if the connection is gone or closing.
  bool send(ConnId conn, std::string_view message);
  // Queues a shared message. A superseding message replaces a queued one with the same `key`.
  // Past BackPressureOptions limits superseding messages are dropped first, then the
  // connection is closed with 1008 ("too slow"): a slow reader never holds unbounded memory
  // and never delays anyone else. Returns false if the connection is gone or was just closed.
  bool send(ConnId conn, const Payload& payload, Delivery delivery = Delivery::reliable, uint64_t key = 0);
  // Packs several messages per frame into a JSON array for this connection (opt-in).
  void set_batching(ConnId conn, bool on);
  // Bytes queued and not yet written for `conn` (0 if unknown).
  size_t queued_bytes(ConnId conn) const;
  // Closes with a websocket status code (e.g. 1008, 1009). With `flush_first`, what is queued
  // is written first (so a last error reaches the client); otherwise it is discarded.
  void close(ConnId conn, int status, std::string reason, bool flush_first = false);

  // Called by the lws callback trampoline; not for other users.
  int on_lws_event(lws* wsi, int reason, void* in, size_t len);

private:
  struct Session;
  Session& session_for(lws* wsi);
  int handle_http_request(lws* wsi, Session& s, const char* uri);
  int dispatch(lws* wsi, Session& s);
  int write_response_headers(lws* wsi, Session& s);
  int write_http_body(lws* wsi, Session& s);
  int write_websocket(lws* wsi, Session& s);
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
  std::unordered_map<ConnId, Session*> connections_;
  std::string batch_scratch_;
  struct TimerSul;
  std::unique_ptr<TimerSul> timer_sul_;
};

}  // namespace harvest::realtime

#pragma once
// HTTP routes, static files and websockets (/ws) on one port, on libwebsockets. The service
// loop of its first lws context *is* the control plane's EventLoop (see core/event_loop.h):
// every HTTP handler and WebSocketHandler call runs on that one thread (see HttpServer).
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/event_loop.h"
#include "realtime/http_types.h"
#include "realtime/request_budget.h"
#include "realtime/router.h"

struct lws;
struct lws_context;
struct lws_vhost;

namespace harvest::realtime {

using ConnId = uint64_t;

// An outgoing websocket message, built once and shared (immutable) by every connection and
// every shard it goes to; each shard frames it into its own write buffer.
class Payload {
public:
  Payload() = default;
  explicit Payload(std::string_view text);
  explicit Payload(std::string&& text);
  std::string_view text() const;
  size_t size() const { return buf_ ? buf_->size() : 0; }
  // The same text in a buffer of its own (its own reference count).
  Payload copy() const { return Payload(text()); }
  bool empty() const { return !buf_; }

private:
  std::shared_ptr<const std::string> buf_;
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
  // Request bodies (each route caps its own size, see RouteLimits). Bodies are read only after
  // the route and its HeadCheck accepted the head, and all of them together hold at most
  // max_buffered_body_bytes (a request past it gets 503 without its body being read).
  size_t max_buffered_body_bytes = 8u << 20;
  // A body must arrive whole within this time of its head (one slow byte at a time does not
  // extend it); otherwise 408 and the connection is closed.
  std::chrono::milliseconds body_deadline{10000};
  // The head of a request on a new connection (see HttpServer::accept_loop): a request line
  // longer than max_request_line_bytes gets 414, a head longer than max_head_bytes 431.
  size_t max_request_line_bytes = 4096;
  size_t max_head_bytes = 8192;
  size_t max_message_bytes = 64 * 1024;  // larger websocket messages close with 1009
  // Keepalive: a websocket not heard from (any frame, a PONG included) for ws_ping_after is
  // pinged; one not heard from for ws_hangup_after is dropped (a phone that lost its network
  // sends no FIN). Ours, not lws' validity timers: see HttpServer::keep_alive.
  std::chrono::seconds ws_ping_after{30};
  std::chrono::seconds ws_hangup_after{60};
  unsigned fd_limit = 20000;
  // Extra threads that serve websockets beside the loop thread, each with its own lws context
  // (Debian's lws runs one service thread per context). 0: everything on the loop thread.
  // They serve plain websockets; TLS ones stay on the loop thread. See docs/architecture.md
  // "Fan-out threads".
  unsigned fanout_threads = 0;
  BackPressureOptions back_pressure;
  // Requests per client address (realtime/request_budget.h); nullopt: unlimited.
  std::optional<RequestBudgetOptions> request_budget = RequestBudgetOptions{};
};

// HTTP and websockets on one port. Shard 0 is an lws context serviced by the loop thread: it
// serves every HTTP request, and websockets. With fanout_threads = N > 0 the server listens
// itself (one accepting thread) and hands each new connection to a shard: websocket upgrades
// (a request line starting "GET /ws") round-robin over shard 0 and N more shards, each an lws
// context on its own thread; everything else to shard 0. A websocket on another shard reads
// and writes its socket there; its events (open, message, close) are posted to the loop, and
// the loop's sends to it are handed to its shard through a queue and lws_cancel_service(). So
// WebSocketHandler and HTTP handlers still run on the loop thread only; the other threads only
// frame, write and read.
class HttpServer {
public:
  HttpServer(EventLoop& loop, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  Router& router() { return router_; }
  void set_websocket_handler(WebSocketHandler* handler) { ws_handler_ = handler; }

  // Creates the contexts and the listening socket. Returns an error sentence, or empty.
  std::string start();
  int port() const { return port_; }
  size_t shard_count() const { return shards_.size(); }

  // Runs the event loop until loop.request_stop(); then closes every connection.
  void run();

  // --- websocket output, loop thread only ---
  // Queues a text message (reliable); false if the connection is gone or closing.
  bool send(ConnId conn, std::string_view message);
  bool send(ConnId conn, std::string&& message);
  // Queues a shared message. A superseding message replaces a queued one with the same `key`.
  // Past BackPressureOptions limits superseding messages are dropped first, then the
  // connection is dropped: a slow reader never holds unbounded memory and never delays anyone
  // else. Returns false if the connection is gone or was just closed (known at once only for
  // connections on the loop's own shard; for the others the message is handed over and true).
  bool send(ConnId conn, const Payload& payload, Delivery delivery = Delivery::reliable, uint64_t key = 0);
  // The same message to every connection in `conns` but `except` (one hand-over per shard).
  void send_to_all(const std::vector<ConnId>& conns, const Payload& payload, Delivery delivery = Delivery::reliable,
                   uint64_t key = 0, ConnId except = 0);
  // Packs several messages per frame into a JSON array for this connection (opt-in).
  void set_batching(ConnId conn, bool on);
  // Bytes queued and not yet written for `conn` (0 if unknown or on another shard).
  size_t queued_bytes(ConnId conn) const;
  // Closes with a websocket status code (e.g. 1008, 1009). With `flush_first`, what is queued
  // is written first (so a last error reaches the client); otherwise it is discarded.
  void close(ConnId conn, int status, std::string reason, bool flush_first = false);

  struct Shard;
  // Called by the lws callback trampoline; not for other users.
  int on_lws_event(Shard& shard, lws* wsi, int reason, void* in, size_t len);

private:
  struct Session;
  struct Op;
  Session& session_for(Shard& shard, lws* wsi);
  int handle_http_request(Shard& shard, lws* wsi, Session& s);
  std::optional<HttpResponse> screen_framing(Session& s);
  std::optional<HttpResponse> screen_route(HttpRequest& request, size_t body_expected, const HttpHandler*& handler,
                                           const RouteLimits** limits = nullptr);
  int judge_body_start(lws* wsi, Session& s);
  // HTTP on a shard other than the loop's (TLS connections are spread over every shard; see
  // http_remote.cpp): the shard reads and writes, the loop screens and runs the handler.
  struct RemoteExchange;
  int forward_request(Shard& shard, lws* wsi, Session& s);
  void remote_body_done(Shard& shard, lws* wsi, Session& s);
  void remote_answer(Shard& shard, ConnId id, HttpResponse response, bool close_after);
  void remote_read_body(Shard& shard, ConnId id);
  void loop_screen_remote(ConnId id, HttpRequest request, size_t body_expected);
  void loop_run_remote(ConnId id, std::string body);
  void loop_answer_remote(ConnId id, HttpResponse response, bool close_after = false);
  void loop_forget_remote(ConnId id);
  void start_body(lws* wsi, Session& s);
  void release_body(Session& s);
  void on_body_deadline(ConnId conn);
  int answer_request(lws* wsi, Session& s);
  int defer(lws* wsi, Session& s);
  void answer_deferred(ConnId id, HttpResponse response);
  int respond(lws* wsi, Session& s);
  int finish_exchange(lws* wsi, Session& s);
  int refuse_misread_body(lws* wsi, Session& s);
  int write_response_headers(lws* wsi, Session& s);
  int write_http_body(lws* wsi, Session& s);
  int write_websocket(Shard& shard, lws* wsi, Session& s);
  void schedule_timer_wakeup(std::chrono::milliseconds wait);
  std::string create_context(Shard& shard);
  std::string open_listener();
  void accept_loop();
  // On the shard's own thread.
  bool local_send(Shard& shard, ConnId conn, const Payload& payload, Delivery delivery, uint64_t key);
  void local_close(Shard& shard, ConnId conn, int status, std::string reason, bool flush_first);
  void drain_inbox(Shard& shard);
  void flush_writes(Shard& shard);
  void keep_alive(Shard& shard);
  void run_shard(Shard& shard);
  // Hands `op` to a shard on another thread (loop thread only).
  void post_to_shard(Shard& shard, Op op);
  Shard& shard_of(ConnId conn) const;
  bool on_loop_shard(const Shard& shard) const;

  EventLoop& loop_;
  HttpServerOptions options_;
  Router router_;
  WebSocketHandler* ws_handler_ = nullptr;
  std::vector<std::unique_ptr<Shard>> shards_;  // [0] is serviced by the loop thread
  int port_ = 0;
  int listen_fd_ = -1;
  int acceptor_wake_fd_ = -1;
  // Request bodies being read (all on shard 0, the loop thread): the bytes they may hold
  // together, and who is reading one (for the body deadline).
  size_t buffered_body_bytes_ = 0;
  std::unordered_map<ConnId, lws*> body_readers_;
  // Requests of other shards screened and waiting for their body (loop thread), by session id.
  std::unordered_map<ConnId, std::unique_ptr<RemoteExchange>> remote_;
  // Shared by the acceptor (sheds a new connection from an address over budget) and the loop
  // (charges each request); null when unlimited.
  std::unique_ptr<RequestBudget> budget_;
  std::thread acceptor_;
  // Deferred replies hold a weak reference: one that comes after the server is gone is dropped.
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace harvest::realtime

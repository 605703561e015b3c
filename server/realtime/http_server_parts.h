#pragma once
// What the files of HttpServer share, and nothing else includes: the per-connection Session,
// the per-context Shard, the Op handed between threads, and small lws helpers. The class is
// spread over three files by concern:
//   http_server.cpp   contexts, the event loops, shards and the acceptor, lws' callback
//   http_exchange.cpp one HTTP request: screened from its head, body, handler, response
//   http_remote.cpp   the same for a request on a shard other than the loop's
//   ws_output.cpp     websocket output: queues, back-pressure, framing and writes
#include <libwebsockets.h>
#include <uv.h>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/metrics.h"
#include "realtime/http_server.h"

namespace harvest::realtime {

namespace http_detail {

// New sockets a shard adopts per turn of its loop (see HttpServer::drain_inbox).
inline constexpr size_t kAdoptPerTurn = 64;

// lws' per-thread read buffer: the most one read of a socket takes (create_context).
inline constexpr unsigned kServiceBufferBytes = 64 * 1024;
// The same under TLS: the plaintext of one TLS record.
inline constexpr unsigned kTlsServiceBufferBytes = 16 * 1024;

// How long a refused request's connection stays to read and drop what the client still sends.
inline constexpr int kLingerSeconds = 2;

// Connection ids carry their shard in the low bits.
constexpr unsigned kShardBits = 6;
constexpr ConnId kShardMask = (ConnId{1} << kShardBits) - 1;

struct ShardRef {
  HttpServer* server;
  HttpServer::Shard* shard;
};

std::string method_name(int index);
std::string copy_header(lws* wsi, lws_token_indexes token);
// Query, the headers handlers use, and the peer address of the request on `wsi`.
void read_request_head(lws* wsi, HttpRequest& req);
// Closes a websocket from its receive callback with `status` and `reason`.
int refuse_frame(lws* wsi, lws_close_status status, std::string_view reason);
// Appends an unmasked server text frame (RFC 6455 5.2) holding `text`.
void append_text_frame(std::string& out, std::string_view text);
// 429 with Retry-After when `request`'s address is over its budget (charging it otherwise).
std::optional<HttpResponse> over_budget(RequestBudget& budget, const HttpRequest& request);
// Appends the response's extra headers ("name: value") to an lws header buffer.
bool add_headers(lws* wsi, const std::vector<std::pair<std::string, std::string>>& headers, unsigned char*& p,
                 unsigned char* end);

}  // namespace http_detail

struct HttpServer::Session {
  ConnId id = 0;
  bool is_websocket = false;
  // HTTP exchange. `http` follows our side of one request; lws' callbacks that do not fit it
  // are ignored (lws 4.1.6 repeats LWS_CALLBACK_HTTP_BODY_COMPLETION while bytes that follow
  // a body wait in its buffer, see on_lws_event).
  // closing: answered with Connection: close, the client's remaining bytes read and dropped
  // (a lingering close, see HttpServer::finish_exchange).
  // screening (another shard's request): waiting for the loop's verdict on the head, reads
  // paused; body bytes lws had already read are kept (remote_body_complete: all of them).
  enum class Http { idle, screening, reading_body, answering, closing } http = Http::idle;
  bool remote_body_complete = false;
  // The acceptor charged this connection's first request to its address's budget already.
  bool first_request_charged = false;
  std::chrono::steady_clock::time_point closing_since;
  HttpRequest request;
  const HttpHandler* handler = nullptr;
  const RouteLimits* limits = nullptr;  // the route's, with handler
  bool body_start_judged = false;  // RouteLimits::body_start ran (or there is none)
  size_t body_expected = 0;  // Content-Length
  size_t body_reserved = 0;  // counted in HttpServer::buffered_body_bytes_
  bool close_after_response = false;  // refused with its body unread
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
  // Keepalive (HttpServer::keep_alive): when a frame last came from the peer, and our PING.
  std::chrono::steady_clock::time_point heard_at;
  bool ping_wanted = false;  // goes out with the next write (write_websocket)
  bool ping_sent = false;    // and no frame came back since
  void heard() {  // any frame from the peer (a PONG included)
    heard_at = std::chrono::steady_clock::now();
    ping_sent = false;
  }
  static constexpr size_t kNotDirty = static_cast<size_t>(-1);
  size_t dirty_slot = kNotDirty;  // its index in Shard::dirty while it is there
};

// Another shard's request the loop accepted, while its body is read there (http_remote.cpp).
struct HttpServer::RemoteExchange {
  HttpRequest request;
  const HttpHandler* handler = nullptr;
  size_t reserved = 0;  // counted in buffered_body_bytes_
};

// Work for a shard handed over by the loop thread.
struct HttpServer::Op {
  // respond/read_body: the loop's verdict on another shard's HTTP request (http_remote.cpp).
  enum class Kind { send, close, batching, respond, read_body } kind = Kind::send;
  HttpResponse response;  // respond
  ConnId conn = 0;
  std::vector<ConnId> conns;  // send: to each of these instead of `conn` when not empty
  Payload payload;
  Delivery delivery = Delivery::reliable;
  uint64_t key = 0;
  std::chrono::steady_clock::time_point queued_at;
  int status = 0;
  std::string reason;
  bool flag = false;  // close: flush first; batching: on; respond: close after
};

struct HttpServer::Shard {
  size_t index = 0;
  http_detail::ShardRef ref{};
  lws_context* context = nullptr;
  lws_vhost* vhost = nullptr;
  std::thread thread;  // none for shard 0 (the loop thread services it)
  ConnId next_seq = 1;
  std::unordered_map<lws*, std::unique_ptr<Session>> sessions;
  std::unordered_map<ConnId, Session*> connections;
  // HTTP requests whose response has not come yet, by session id: deferred ones (loop shard),
  // and ones the loop is answering for another shard.
  std::unordered_map<ConnId, lws*> awaiting;
  std::string batch_scratch;        // frames of one write, after LWS_PRE bytes
  std::string batch_array_scratch;  // a batched frame's JSON array
  // Connections whose outbox turned non-empty since the last flush_writes() (shard's thread);
  // an entry is nulled when its session is destroyed first (Session::dirty_slot).
  std::vector<Session*> dirty;
  // Queues `s` for the next flush_writes() (before the shard waits again), once.
  void mark_dirty(Session& s) {
    if (s.dirty_slot != Session::kNotDirty) return;
    s.dirty_slot = dirty.size();
    dirty.push_back(&s);
  }
  // Handed over from other threads; drained on the shard's thread.
  std::mutex mutex;
  // Sockets the acceptor handed over, and whether each begins a TLS handshake (lws does it).
  struct Adoption {
    int fd;
    bool tls;
    bool charged = false;  // the acceptor took the first request's token (RequestBudget)
  };
  std::vector<Adoption> adopt;
  std::vector<Op> ops;
  bool stop = false;
  // The shard's event loop, lent to lws (a "foreign" libuv loop). lws' own poll() loop walks
  // every socket of the context on each wake-up: ~1 µs per socket here, 5 ms per wake-up of a
  // shard holding 5,000 viewers, whatever woke it. libuv waits in epoll and touches only the
  // sockets with something to do. Our own work runs between turns of it (run_shard, run).
  std::unique_ptr<uv_loop_t> uv;
  bool uv_ready = false;
  uv_timer_t wakeup_timer{};  // shard 0: ends the wait when the next EventLoop timer is due
  uv_timer_t keepalive_timer{};  // sets keepalive_due every sweep interval (HttpServer::keep_alive)
  bool keepalive_due = false;
  // Delivery metrics gathered by this shard's thread and published once per turn
  // (publish_delivery_metrics): atomics shared by every shard, updated per message, bounced
  // their cache lines between the cores several times per delivery.
  uint64_t messages_out = 0;
  uint64_t frames_out = 0;
  Histogram::Batch fanout_latency{metrics().fanout_latency_s};
};

namespace http_detail {

// lws arms its loop timer for its own timeouts after socket activity it handled. One set from
// our code between turns of the loop (a close, dropping a slow viewer) would wait for the next
// such activity: waking the loop makes lws arm it at once. Closes are rare; this costs nothing
// on the way of a message.
void set_timeout(HttpServer::Shard& shard, lws* wsi, pending_timeout reason, int secs);

}  // namespace http_detail
}  // namespace harvest::realtime

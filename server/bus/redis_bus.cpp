#include "bus/redis_bus.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/sds.h>
#include <uv.h>

#include <algorithm>
#include <cstring>

#include "core/log.h"

namespace harvest::bus {
namespace {
constexpr const char* kPattern = "harvest:room:*";
constexpr std::string_view kChannelPrefix = "harvest:room:";
constexpr uint64_t kFirstRetryMs = 100;
constexpr uint64_t kMaxRetryMs = 5000;
// A connection not up by then is given up (a host that drops SYNs never refuses).
constexpr uint64_t kConnectTimeoutMs = 3000;
// Bytes waiting to be written to Redis past which new events are dropped rather than queued
// (Redis stalled but connected: a flash sale's stock events must not grow memory without end).
constexpr size_t kMaxUnsentBytes = 32 * 1024 * 1024;

// hiredis on libuv. Debian's hiredis 0.14 ships adapters/libuv.h, but its poll callback ignores
// a poll error, and libuv reports a refused non-blocking connect as exactly that (POLLERR ->
// status UV_EBADF): hiredis would never learn that the connect failed and the bus would hang
// in "connecting". This is that adapter with the error handed to hiredis (as later hiredis
// releases do), which then calls the connect callback with REDIS_ERR.
struct UvEvents {
  redisAsyncContext* context = nullptr;
  uv_poll_t handle{};
  int events = 0;
};

void uv_events_poll(uv_poll_t* handle, int status, int events) {
  auto* p = static_cast<UvEvents*>(handle->data);
  const int ready = status != 0 ? p->events : events;
  if (p->context != nullptr && (ready & UV_READABLE) != 0) redisAsyncHandleRead(p->context);
  if (p->context != nullptr && (ready & UV_WRITABLE) != 0) redisAsyncHandleWrite(p->context);
}

void uv_events_update(void* privdata, int add, int remove) {
  auto* p = static_cast<UvEvents*>(privdata);
  p->events = (p->events | add) & ~remove;
  if (p->events != 0)
    uv_poll_start(&p->handle, p->events, uv_events_poll);
  else
    uv_poll_stop(&p->handle);
}

void uv_events_cleanup(void* privdata) {
  auto* p = static_cast<UvEvents*>(privdata);
  p->context = nullptr;  // hiredis frees the context; the handle closes on the next turn
  uv_close(reinterpret_cast<uv_handle_t*>(&p->handle),
           [](uv_handle_t* h) { delete static_cast<UvEvents*>(h->data); });
}

bool uv_events_attach(redisAsyncContext* ac, uv_loop_t* loop) {
  if (ac->ev.data != nullptr) return false;
  auto* p = new UvEvents;
  if (uv_poll_init(loop, &p->handle, ac->c.fd) != 0) {
    delete p;
    return false;
  }
  p->context = ac;
  p->handle.data = p;
  ac->ev.data = p;
  ac->ev.addRead = [](void* d) { uv_events_update(d, UV_READABLE, 0); };
  ac->ev.delRead = [](void* d) { uv_events_update(d, 0, UV_READABLE); };
  ac->ev.addWrite = [](void* d) { uv_events_update(d, UV_WRITABLE, 0); };
  ac->ev.delWrite = [](void* d) { uv_events_update(d, 0, UV_WRITABLE); };
  ac->ev.cleanup = uv_events_cleanup;
  return true;
}
}  // namespace

// Everything here is touched on the bus thread only, except `outbox`/`stopping` (under `mutex`).
struct RedisBus::Thread {
  RedisBus* bus = nullptr;
  uv_loop_t uv{};
  uv_async_t wake{};
  uv_timer_t retry{};
  uv_timer_t connect_timeout{};
  std::thread thread;

  std::mutex mutex;
  std::deque<std::string> outbox;  // wire envelopes with their channel: "channel\0wire"
  bool stopping = false;

  redisAsyncContext* sub = nullptr;  // PSUBSCRIBEd
  redisAsyncContext* pub = nullptr;  // PUBLISHes
  bool sub_ready = false;
  bool pub_ready = false;
  bool up = false;
  bool ever_up = false;
  bool down_logged = false;
  uint64_t retry_ms = kFirstRetryMs;
  uint64_t dropped = 0;          // while down
  uint64_t backlog_dropped = 0;  // while up, Redis not taking them fast enough

  void run();
  void connect();
  void drop_connections();
  void lost(const char* why);
  void maybe_up();
  void drain();
  void on_message(redisReply* reply);
};

RedisBus::RedisBus(EventLoop& loop, RedisAddress address, std::string node_id)
    : loop_(loop), address_(std::move(address)), node_id_(std::move(node_id)) {}

RedisBus::~RedisBus() { stop(); }

void RedisBus::set_handlers(EventHandler on_event, ConnectedHandler on_connected) {
  delivery_->on_event = std::move(on_event);
  delivery_->on_connected = std::move(on_connected);
}

void RedisBus::publish(Envelope e) {
  if (!thread_) return;
  e.origin = node_id_;
  std::string wire = encode_envelope(e);
  if (wire.empty()) return;  // not a token: never sent (room ids are checked where they are made)
  std::string item = std::string(kChannelPrefix) + e.room;
  item.push_back('\0');
  item += wire;
  {
    std::lock_guard lock(thread_->mutex);
    thread_->outbox.push_back(std::move(item));
  }
  uv_async_send(&thread_->wake);
}

void RedisBus::start() {
  thread_ = std::make_unique<Thread>();
  Thread* t = thread_.get();
  t->bus = this;
  uv_loop_init(&t->uv);
  t->uv.data = t;
  uv_async_init(&t->uv, &t->wake, [](uv_async_t* h) { static_cast<Thread*>(h->loop->data)->drain(); });
  uv_timer_init(&t->uv, &t->retry);
  uv_timer_init(&t->uv, &t->connect_timeout);
  log::info("bus_starting")
      .kv("backend", "redis")
      .kv("host", address_.host)
      .kv("port", address_.port)
      .kv("node", node_id_);
  t->thread = std::thread([t] { t->run(); });
}

void RedisBus::stop() {
  delivery_->open = false;
  if (!thread_) return;
  {
    std::lock_guard lock(thread_->mutex);
    thread_->stopping = true;
  }
  uv_async_send(&thread_->wake);
  thread_->thread.join();
  thread_.reset();
}

// ---------------------------------------------------------------- the bus thread

void RedisBus::Thread::run() {
  connect();
  uv_run(&uv, UV_RUN_DEFAULT);
  uv_loop_close(&uv);
}

void RedisBus::Thread::connect() {
  const RedisAddress& a = bus->address_;
  sub = redisAsyncConnect(a.host.c_str(), a.port);
  pub = redisAsyncConnect(a.host.c_str(), a.port);
  auto on_connect = [](const redisAsyncContext* c, int status) {
    Thread* t = static_cast<Thread*>(c->data);
    if (c != t->sub && c != t->pub) return;  // one we already gave up on
    if (status != REDIS_OK) {
      // hiredis frees the context after this callback.
      if (c == t->sub) t->sub = nullptr;
      if (c == t->pub) t->pub = nullptr;
      t->lost(c->errstr);
      return;
    }
    if (c == t->pub) {
      t->pub_ready = true;
      t->maybe_up();
    }
  };
  auto on_disconnect = [](const redisAsyncContext* c, int /*status*/) {
    Thread* t = static_cast<Thread*>(c->data);
    if (c != t->sub && c != t->pub) return;
    if (c == t->sub) t->sub = nullptr;
    if (c == t->pub) t->pub = nullptr;
    t->lost(c->errstr[0] != '\0' ? c->errstr : "connection closed");
  };
  bool attached = true;
  for (redisAsyncContext* c : {sub, pub}) {
    if (c == nullptr || c->err != 0) continue;
    c->data = this;
    attached = uv_events_attach(c, &uv) && attached;
    redisAsyncSetConnectCallback(c, on_connect);
    redisAsyncSetDisconnectCallback(c, on_disconnect);
  }
  if (sub == nullptr || pub == nullptr || sub->err != 0 || pub->err != 0 || !attached) {
    lost(sub != nullptr && sub->err != 0   ? sub->errstr
         : pub != nullptr && pub->err != 0 ? pub->errstr
                                           : "cannot create a connection");
    return;
  }
  connect_timeout.data = this;
  uv_timer_start(
      &connect_timeout,
      [](uv_timer_t* h) {
        Thread* t = static_cast<Thread*>(h->data);
        if (!t->up) t->lost("connect timed out");
      },
      kConnectTimeoutMs, 0);
  // Queued now, sent once connected; its callback gets every later message too.
  redisAsyncCommand(
      sub,
      [](redisAsyncContext* c, void* r, void*) {
        Thread* t = static_cast<Thread*>(c->data);
        if (r != nullptr && c == t->sub) t->on_message(static_cast<redisReply*>(r));
      },
      nullptr, "PSUBSCRIBE %s", kPattern);
}

// Either connection failed: give up both and try again later (a subscriber without a publisher,
// or the reverse, would be half a node).
void RedisBus::Thread::lost(const char* why) {
  uv_timer_stop(&connect_timeout);
  drop_connections();
  const bool was_up = up;
  up = false;
  if (was_up || !down_logged) {
    log::warn("bus_down")
        .kv("reason", why != nullptr ? why : "")
        .kv("retry", "backoff 100 ms to 5 s; events meanwhile are dropped, rooms resync on reconnect");
    down_logged = true;
  }
  std::lock_guard lock(mutex);
  if (stopping) return;
  retry.data = this;
  uv_timer_start(
      &retry, [](uv_timer_t* h) { static_cast<Thread*>(h->data)->connect(); }, retry_ms, 0);
  retry_ms = std::min(retry_ms * 2, kMaxRetryMs);
}

void RedisBus::Thread::drop_connections() {
  redisAsyncContext* s = sub;
  redisAsyncContext* p = pub;
  sub = pub = nullptr;
  sub_ready = pub_ready = false;
  // Callbacks of these now see a context that is neither sub nor pub and do nothing.
  if (s != nullptr) redisAsyncFree(s);
  if (p != nullptr) redisAsyncFree(p);
}

void RedisBus::Thread::maybe_up() {
  if (!sub_ready || !pub_ready || up) return;
  up = true;
  uv_timer_stop(&connect_timeout);
  retry_ms = kFirstRetryMs;
  log::info("bus_up").kv("node", bus->node_id_).kv("dropped_while_down", dropped).kv("reconnect", ever_up);
  ever_up = true;
  down_logged = false;
  dropped = 0;
  std::shared_ptr<Delivery> d = bus->delivery_;
  bus->loop_.post([d] {
    if (d->open && d->on_connected) d->on_connected();
  });
}

void RedisBus::Thread::on_message(redisReply* reply) {
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
  const redisReply* head = reply->element[0];
  if (head->type != REDIS_REPLY_STRING) return;
  const std::string_view what(head->str, head->len);
  if (what == "psubscribe") {
    sub_ready = true;
    maybe_up();
    return;
  }
  if (what != "pmessage" || reply->elements < 4 || reply->element[3]->type != REDIS_REPLY_STRING) return;
  auto e = decode_envelope(std::string_view(reply->element[3]->str, reply->element[3]->len));
  if (!e || e->origin == bus->node_id_) return;  // a stranger's message, or our own coming back
  std::shared_ptr<Delivery> d = bus->delivery_;
  bus->loop_.post([d, env = std::move(*e)] {
    if (d->open && d->on_event) d->on_event(env);
  });
}

void RedisBus::Thread::drain() {
  std::deque<std::string> items;
  bool stop_now = false;
  {
    std::lock_guard lock(mutex);
    items.swap(outbox);
    stop_now = stopping;
  }
  if (stop_now) {
    drop_connections();
    uv_timer_stop(&retry);
    uv_timer_stop(&connect_timeout);
    uv_close(reinterpret_cast<uv_handle_t*>(&retry), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&connect_timeout), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&wake), nullptr);
    return;  // uv_run returns once the handles are closed
  }
  if (!up || pub == nullptr) {
    dropped += items.size();
    return;
  }
  for (const std::string& item : items) {
    if (sdslen(pub->c.obuf) > kMaxUnsentBytes) {
      if (backlog_dropped++ == 0) log::warn("bus_backlog").kv("unsent_bytes", sdslen(pub->c.obuf));
      continue;
    }
    if (backlog_dropped > 0) {
      log::info("bus_backlog_cleared").kv("dropped", backlog_dropped);
      backlog_dropped = 0;
    }
    const size_t nul = item.find('\0');
    const char* argv[3] = {"PUBLISH", item.data(), item.data() + nul + 1};
    const size_t lens[3] = {7, nul, item.size() - nul - 1};
    redisAsyncCommandArgv(pub, nullptr, nullptr, 3, argv, lens);
  }
}

}  // namespace harvest::bus

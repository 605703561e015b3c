// HttpServer, websocket output: what is queued for each connection, back-pressure (superseding,
// drops, the slow-consumer cut-off), and the writes of whole frames. See http_server_parts.h.
#include <libwebsockets.h>
#include <sys/stat.h>

#include <cstring>
#include <utility>

#include "core/log.h"
#include "core/metrics.h"
#include "realtime/http_server_parts.h"

namespace harvest::realtime {

using namespace http_detail;

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
  if (was_empty) shard.mark_dirty(s);
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
  if (s.outbox.empty() && !s.ping_wanted) return 0;
  const auto now = std::chrono::steady_clock::now();
  // Everything queued (up to batch_max_bytes) goes out in one write: lws sets TCP_NODELAY, so
  // every write is a syscall and a packet. The frames are made here, whole, into the shard's
  // scratch buffer (payloads are shared by every connection and every shard, so nobody writes
  // into them), and handed to lws as raw bytes: lws' own control frames (pong, close) never
  // land inside one of ours, and lws buffers the rest of a partial send and flushes it before
  // it calls us again.
  std::string& out = shard.batch_scratch;
  const size_t limit = options_.back_pressure.batch_max_bytes;
  size_t taken = s.outbox.empty() ? 0 : 1;
  size_t frames = taken;
  out.assign(LWS_PRE, '\0');
  if (s.ping_wanted) {
    // Our keepalive PING (HttpServer::keep_alive): a control frame before the data. It carries
    // a payload because lws 4.1.6 does not report an empty PONG (LWS_CALLBACK_RECEIVE_PONG).
    out += static_cast<char>(0x89);
    out += static_cast<char>(2);
    out += "ka";
  }
  if (s.outbox.empty()) {
    // Only the PING.
  } else if (s.batching && s.outbox.size() > 1) {
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
  if (std::exchange(s.ping_wanted, false)) s.ping_sent = true;
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

}  // namespace harvest::realtime

#pragma once
// Rooms across nodes: what this node's rooms say goes on the bus, and what other nodes' rooms
// said reaches this node's websockets exactly as if it had been said here. Made only when the
// bus spans nodes (--bus redis://); with the in-process bus there is no relay and the rooms'
// fan-out is what it always was. Loop thread only.
//
// What crosses (envelope kind, see bus/envelope.h):
//   all / hosts / role   a room event as its JSON text, to everyone / the hosts / by role
//                        (stock, purchase, chat, sale.*, product.updated, catalog, order...)
//   card.show / card.hide / card.presented
//                        the cards on screen are replicated, not forwarded: each node applies
//                        the change to its own show, so its welcome, its buys' attribution and
//                        (on the node holding the ingest) its card link follow the host
//   snapshot             the cards on screen and when they last changed, re-published on
//                        (re)connect and when another node asks (sync); the newer one wins
//   viewers              this node's connections in the room, on change and every 2 s; the
//                        room's count is the sum over nodes heard from in the last 6 s
//   seen                 a buyer id new to this node's room (so every node's report counts
//                        unique viewers over all nodes)
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bus/bus.h"
#include "core/event_loop.h"
#include "realtime/http_server.h"

namespace harvest::realtime {

class Audience;
class ShowChannel;
class HostMonitor;

class RoomRelay {
 public:
  RoomRelay(EventLoop& loop, bus::Bus& bus, Audience& audience, ShowChannel& stage, HostMonitor& monitor);
  ~RoomRelay();
  RoomRelay(const RoomRelay&) = delete;
  RoomRelay& operator=(const RoomRelay&) = delete;

  // Subscribes and connects; heartbeats start.
  void start();
  const std::string& node_id() const { return bus_.node_id(); }

  // --- this node's room events, to the other nodes ---
  void all(const std::string& room, std::string_view text, Delivery delivery, uint64_t key);
  void hosts(const std::string& room, std::string_view text);
  void by_role(const std::string& room, std::string_view for_hosts, std::string_view for_viewers);
  void card_shown(const std::string& room, const std::string& product_id, const std::string& slot,
                  int64_t at_ms);
  void card_hidden(const std::string& room, const std::string& product_id, int64_t at_ms);
  void card_presented(const std::string& room, const std::string& product_id, std::optional<double> pts,
                      const std::optional<std::string>& program_date_time);
  // This node's connections in the room (published when it changed).
  void local_viewers(const std::string& room, int count);
  // A buyer id opened the room here for the first time (the report's unique viewers).
  void viewer_seen(const std::string& room, const std::string& viewer_id);

  // Connections in the room on the other live nodes.
  int remote_viewers(const std::string& room) const;

  // --- node state beside the rooms (cluster_sync.h): its own kinds on the same bus ---
  using KindHandler = std::function<void(const bus::Envelope&)>;
  // Before start(): envelopes of `kind` from other nodes go to `handler`.
  void on_kind(const std::string& kind, KindHandler handler) { kinds_[kind] = std::move(handler); }
  void publish_kind(const std::string& room, const std::string& kind, std::string body) {
    publish(room, kind, "-", std::move(body));
  }
  // Before start(): runs after each (re)connect, with the rooms' own resync.
  void on_reconnect(std::function<void()> hook) { reconnect_hooks_.push_back(std::move(hook)); }

 private:
  using Steady = std::chrono::steady_clock;
  struct NodeCount {
    int count = 0;
    Steady::time_point heard;
  };

  void publish(const std::string& room, std::string kind, std::string tag, std::string body);
  void on_event(const bus::Envelope& e);
  void on_connected();
  void publish_snapshots();
  void heartbeat();

  EventLoop& loop_;
  bus::Bus& bus_;
  Audience& audience_;
  ShowChannel& stage_;
  HostMonitor& monitor_;
  std::map<std::string, int> local_sent_;                           // room -> the count last published
  std::map<std::string, std::map<std::string, NodeCount>> remote_;  // room -> node -> count
  EventLoop::TimerId heartbeat_timer_ = 0;
  std::map<std::string, KindHandler> kinds_;
  std::vector<std::function<void()>> reconnect_hooks_;
};

}  // namespace harvest::realtime

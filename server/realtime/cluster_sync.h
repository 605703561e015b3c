#pragma once
// What several nodes sharing one store (PostgreSQL) and one bus (Redis) must agree on beyond
// the rooms (room_relay.h): the streams and the shops' caches. Made only when the bus spans
// nodes. Loop thread only.
//
// What crosses (envelope kinds, on the relay's subscription):
//   stream   {"op":"record","change":…}  a stream was created, edited, re-keyed or ended here:
//                                         the others read its record back from the store (so
//                                         a key rotated or a show ended on one node cuts off a
//                                         publisher on any node)
//            {"op":"live","ingest":{…}}   this node's ingest holds the stream; repeated every
//                                         2 s, so a node that joins or a Redis that restarted
//                                         learns it; unheard for 6 s, it is offline
//            {"op":"offline"}             its ingest ended here
//   shop     commerce::ShopNews            an order stored or changed, a catalog or sale
//                                         changed: the others read it back from the store.
//                                         Ids only: no contact details cross the bus.
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "bus/envelope.h"
#include "commerce/commerce_service.h"
#include "core/event_loop.h"
#include "core/stream_registry.h"

namespace harvest::realtime {

class RoomRelay;

class ClusterSync {
 public:
  ClusterSync(EventLoop& loop, RoomRelay& relay, StreamRegistry& streams, commerce::CommerceService& commerce);
  ~ClusterSync();
  ClusterSync(const ClusterSync&) = delete;
  ClusterSync& operator=(const ClusterSync&) = delete;

  // Before the relay starts: registers the kinds and the listeners; the heartbeat starts.
  void start();

 private:
  using Steady = std::chrono::steady_clock;
  struct RemoteHold {
    std::string node;
    Steady::time_point heard;
  };

  void stream_changed(const StreamState& s, StreamRegistry::Change change);
  void on_stream(const bus::Envelope& e);
  void on_shop(const bus::Envelope& e);
  void announce_live(const StreamState& s);
  void announce_held();
  void heartbeat();

  EventLoop& loop_;
  RoomRelay& relay_;
  StreamRegistry& streams_;
  commerce::CommerceService& commerce_;
  // The registry keeps its listeners for its whole life: they reach this object through a
  // pointer that the destructor clears.
  std::shared_ptr<ClusterSync*> self_;
  bool applying_remote_ = false;              // a change being applied came from another node
  std::map<std::string, RemoteHold> remote_;  // stream -> the node whose ingest holds it
  EventLoop::TimerId heartbeat_timer_ = 0;
};

}  // namespace harvest::realtime

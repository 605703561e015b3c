#pragma once
// What the room tells about itself: the viewer count (coalesced `viewers` to everyone), the
// peak viewers per minute for the report, and `stream.health` (ingest state) to the hosts, at
// once on live/offline and every health_interval. Loop thread only.
#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>

#include "core/event_loop.h"
#include "core/stream_registry.h"
#include "realtime/audience.h"

namespace harvest::realtime {

class RoomRelay;

class HostMonitor {
public:
  HostMonitor(EventLoop& loop, Audience& audience, StreamRegistry& streams, const RoomOptions& options)
      : loop_(loop), audience_(audience), streams_(streams), options_(options) {}
  ~HostMonitor();
  HostMonitor(const HostMonitor&) = delete;
  HostMonitor& operator=(const HostMonitor&) = delete;

  // Listens for live/offline and starts the health ticks.
  void start();
  // The room's audience changed size (here, or on another node: the count is the sum).
  void viewers_changed(const std::string& stream_id);
  void set_relay(RoomRelay* relay) { relay_ = relay; }
  // stream.health to one (new) host connection.
  void send_health(ConnId host, const std::string& stream_id);
  // Peak room connections per wall-clock minute (ms since the epoch of the minute's start),
  // since this server started.
  std::map<int64_t, int> peak_viewers_by_minute(const std::string& stream_id) const;

  // A viewer (buyer id from their buyer token; hosts and admins are not viewers) opened the
  // room, live or a replay. Counted once per buyer id: the report's `unique_viewers`, the
  // denominator of its conversion (buyers / unique viewers).
  // With a relay, a new id is told to the other nodes, whose reports then count it too
  // (`relayed`: it came from one, so it is not told again).
  void viewer_seen(const std::string& stream_id, const std::string& viewer_id, bool relayed = false);
  // Distinct buyer ids that opened the room since this server started. Kept in memory only:
  // it starts again from 0 after a restart (docs/protocol.md says so). At most
  // kMaxTrackedViewers ids per stream are kept; past that the count is a lower bound and
  // `unique_viewers_capped` says so.
  struct UniqueViewers {
    int64_t count = 0;
    bool capped = false;
  };
  UniqueViewers unique_viewers(const std::string& stream_id) const;
  // 64-byte ids in a hash set: ~100 B each, so ~10 MB for the largest stream.
  static constexpr size_t kMaxTrackedViewers = 100'000;

private:
  struct Count {
    bool dirty = false;
    bool flush_armed = false;
    int sent = -1;
    std::map<int64_t, int> peak_by_minute;  // minute start (ms) -> most connections
    std::unordered_set<std::string> viewer_ids;  // distinct buyer ids seen (<= kMaxTrackedViewers)
    bool viewers_capped = false;                 // a new id came when the set was full
  };
  void flush_viewers(const std::string& stream_id);
  // This node's connections in the room plus the other nodes' (with a relay).
  int room_size(const std::string& stream_id) const;
  void send_health_to_hosts(const StreamState& s);
  void health_tick();

  EventLoop& loop_;
  Audience& audience_;
  StreamRegistry& streams_;
  const RoomOptions& options_;
  RoomRelay* relay_ = nullptr;
  std::map<std::string, Count> counts_;
  EventLoop::TimerId health_timer_ = 0;
};

}  // namespace harvest::realtime

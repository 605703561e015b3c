#pragma once
// What the room tells about itself: the viewer count (coalesced `viewers` to everyone), the
// peak viewers per minute for the report, and `stream.health` (ingest state) to the hosts, at
// once on live/offline and every health_interval. Loop thread only.
#include <cstdint>
#include <map>
#include <string>

#include "core/event_loop.h"
#include "core/stream_registry.h"
#include "realtime/audience.h"

namespace harvest::realtime {

class HostMonitor {
public:
  HostMonitor(EventLoop& loop, Audience& audience, StreamRegistry& streams, const RoomOptions& options)
      : loop_(loop), audience_(audience), streams_(streams), options_(options) {}
  ~HostMonitor();
  HostMonitor(const HostMonitor&) = delete;
  HostMonitor& operator=(const HostMonitor&) = delete;

  // Listens for live/offline and starts the health ticks.
  void start();
  // The room's audience changed size.
  void viewers_changed(const std::string& stream_id);
  // stream.health to one (new) host connection.
  void send_health(ConnId host, const std::string& stream_id);
  // Peak room connections per wall-clock minute (ms since the epoch of the minute's start),
  // since this server started.
  std::map<int64_t, int> peak_viewers_by_minute(const std::string& stream_id) const;

private:
  struct Count {
    bool dirty = false;
    bool flush_armed = false;
    int sent = -1;
    std::map<int64_t, int> peak_by_minute;  // minute start (ms) -> most connections
  };
  void flush_viewers(const std::string& stream_id);
  void send_health_to_hosts(const StreamState& s);
  void health_tick();

  EventLoop& loop_;
  Audience& audience_;
  StreamRegistry& streams_;
  const RoomOptions& options_;
  std::map<std::string, Count> counts_;
  EventLoop::TimerId health_timer_ = 0;
};

}  // namespace harvest::realtime

#include "realtime/host_monitor.h"

#include <algorithm>

#include "core/json_writer.h"
#include "realtime/messages.h"
#include "realtime/room_relay.h"

namespace harvest::realtime {

HostMonitor::~HostMonitor() {
  if (health_timer_ != 0) loop_.cancel(health_timer_);
}

void HostMonitor::start() {
  streams_.add_listener([this](const StreamState& s, StreamRegistry::Change change) {
    if (change == StreamRegistry::Change::live || change == StreamRegistry::Change::offline)
      send_health_to_hosts(s);
  });
  health_timer_ = loop_.run_after(options_.health_interval, [this] { health_tick(); });
}

void HostMonitor::viewers_changed(const std::string& stream_id) {
  Count& c = counts_[stream_id];
  const int size = room_size(stream_id);
  c.dirty = true;
  int& peak = c.peak_by_minute[now_ms() / 60000 * 60000];
  peak = std::max(peak, size);
  if (c.peak_by_minute.size() > 24 * 60) c.peak_by_minute.erase(c.peak_by_minute.begin());
  streams_.set_viewers(stream_id, size);
  if (c.flush_armed) return;
  c.flush_armed = true;
  loop_.run_after(options_.viewers_interval, [this, stream_id] { flush_viewers(stream_id); });
}

void HostMonitor::flush_viewers(const std::string& stream_id) {
  Count& c = counts_[stream_id];
  c.flush_armed = false;
  if (!c.dirty) return;
  c.dirty = false;
  if (relay_ != nullptr) relay_->local_viewers(stream_id, static_cast<int>(audience_.members(stream_id).size()));
  const int count = room_size(stream_id);
  if (count == c.sent) return;
  c.sent = count;
  // Here only: every node sends its viewers the sum it knows.
  audience_.broadcast_here(stream_id, Payload(JsonObject().str("type", "viewers").num("count", count).take()),
                      Delivery::superseding, supersede_key("viewers", ""));
}

int HostMonitor::room_size(const std::string& stream_id) const {
  const int here = static_cast<int>(audience_.members(stream_id).size());
  return relay_ != nullptr ? here + relay_->remote_viewers(stream_id) : here;
}

std::map<int64_t, int> HostMonitor::peak_viewers_by_minute(const std::string& stream_id) const {
  auto it = counts_.find(stream_id);
  return it == counts_.end() ? std::map<int64_t, int>() : it->second.peak_by_minute;
}

void HostMonitor::viewer_seen(const std::string& stream_id, const std::string& viewer_id, bool relayed) {
  if (viewer_id.empty()) return;
  Count& c = counts_[stream_id];
  if (c.viewer_ids.size() >= kMaxTrackedViewers) {
    if (c.viewer_ids.count(viewer_id) == 0) c.viewers_capped = true;
    return;
  }
  const bool fresh = c.viewer_ids.insert(viewer_id).second;
  if (fresh && !relayed && relay_ != nullptr) relay_->viewer_seen(stream_id, viewer_id);
}

HostMonitor::UniqueViewers HostMonitor::unique_viewers(const std::string& stream_id) const {
  auto it = counts_.find(stream_id);
  if (it == counts_.end()) return {};
  return {static_cast<int64_t>(it->second.viewer_ids.size()), it->second.viewers_capped};
}

void HostMonitor::send_health(ConnId host, const std::string& stream_id) {
  if (const StreamState* s = streams_.find(stream_id)) audience_.send(host, health_json(*s).dump());
}

void HostMonitor::send_health_to_hosts(const StreamState& s) {
  const auto& hosts = audience_.hosts(s.record.id);
  if (hosts.empty()) return;
  const Payload health(health_json(s).dump());
  for (ConnId id : hosts)
    audience_.send(id, health, Delivery::superseding, supersede_key("stream.health", ""));
}

void HostMonitor::health_tick() {
  health_timer_ = loop_.run_after(options_.health_interval, [this] { health_tick(); });
  for (const auto& stream_id : audience_.occupied_rooms()) {
    if (const StreamState* s = streams_.find(stream_id)) send_health_to_hosts(*s);
  }
}

}  // namespace harvest::realtime

#include "realtime/audience.h"

#include <algorithm>
#include <cstdlib>
#include <functional>

#include "core/json_writer.h"
#include "core/log.h"
#include "realtime/messages.h"
#include "realtime/room_relay.h"

namespace harvest::realtime {

using Clock = std::chrono::steady_clock;

namespace {
double env_double(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const double d = std::strtod(v, &end);
  return (end != v && d > 0) ? d : fallback;
}
const std::vector<ConnId> kNobody;
}  // namespace

RoomOptions RoomOptions::from_environment() {
  RoomOptions o;
  o.message_rate = env_double("HARVEST_WS_MESSAGE_RATE", o.message_rate);
  o.message_burst = env_double("HARVEST_WS_MESSAGE_BURST", o.message_burst);
  o.chat_rate = env_double("HARVEST_WS_CHAT_RATE", o.chat_rate);
  o.chat_burst = env_double("HARVEST_WS_CHAT_BURST", o.chat_burst);
  return o;
}

uint64_t supersede_key(std::string_view kind, std::string_view product_id) {
  return std::hash<std::string_view>{}(kind)*31 + std::hash<std::string_view>{}(product_id);
}

Member& Audience::add(Member member) {
  const ConnId id = member.id;
  Entry& e = conns_[id];
  e.member = std::move(member);
  if (!e.member.viewer_id.empty()) buyers_.emplace(e.member.viewer_id, id);
  return e.member;
}

std::vector<ConnId> Audience::buyer_connections(const std::string& viewer_id) const {
  std::vector<ConnId> out;
  auto [first, last] = buyers_.equal_range(viewer_id);
  for (auto it = first; it != last; ++it) out.push_back(it->second);
  return out;
}

void Audience::join(ConnId id) {
  auto it = conns_.find(id);
  if (it == conns_.end() || it->second.member.stream_id.empty()) return;
  const Member& m = it->second.member;
  Room& r = rooms_[m.stream_id];
  it->second.room_index = r.conns.size();
  r.conns.push_back(id);
  if (m.replay_session.empty() && m.manages()) r.hosts.push_back(id);
}

std::string Audience::remove(ConnId id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return {};
  std::string stream_id = it->second.member.stream_id;
  auto rit = stream_id.empty() ? rooms_.end() : rooms_.find(stream_id);
  if (rit != rooms_.end()) {
    // Swap-remove: O(1) for rooms of thousands; each entry knows its index.
    Room& r = rit->second;
    const size_t idx = it->second.room_index;
    if (idx < r.conns.size() && r.conns[idx] == id) {
      r.conns[idx] = r.conns.back();
      conns_.at(r.conns[idx]).room_index = idx;
      r.conns.pop_back();
    }
    std::erase(r.hosts, id);
  } else {
    stream_id.clear();
  }
  auto [first, last] = buyers_.equal_range(it->second.member.viewer_id);
  for (auto b = first; b != last; ++b) {
    if (b->second != id) continue;
    buyers_.erase(b);
    break;
  }
  if (buyers_.count(it->second.member.viewer_id) == 0) buyer_chat_.erase(it->second.member.viewer_id);
  conns_.erase(it);
  return stream_id;
}

Member* Audience::find(ConnId id) {
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : &it->second.member;
}

bool Audience::admit(ConnId id, bool chat) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return false;
  const auto now = Clock::now();
  if (!it->second.messages.take(options_.message_rate, options_.message_burst, now)) return false;
  if (chat && !it->second.chat.take(options_.chat_rate, options_.chat_burst, now)) return false;
  const std::string& buyer = it->second.member.viewer_id;
  if (chat && !buyer.empty() && !buyer_chat_[buyer].take(options_.chat_rate, options_.chat_burst, now)) return false;
  return true;
}

void Audience::strike(ConnId id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Entry& e = it->second;
  const auto now = Clock::now();
  if (now - e.strike_window_start > options_.strike_window) {
    e.strike_window_start = now;
    e.strikes = 0;
  }
  if (++e.strikes >= options_.flood_strikes) {
    log::warn("ws_flood_closed").kv("stream", e.member.stream_id).kv("viewer", e.member.viewer_id);
    close(id, 1008, "flooding");
  }
}

const std::vector<ConnId>& Audience::members(const std::string& stream_id) const {
  auto it = rooms_.find(stream_id);
  return it == rooms_.end() ? kNobody : it->second.conns;
}

const std::vector<ConnId>& Audience::hosts(const std::string& stream_id) const {
  auto it = rooms_.find(stream_id);
  return it == rooms_.end() ? kNobody : it->second.hosts;
}

std::vector<std::string> Audience::occupied_rooms() const {
  std::vector<std::string> out;
  for (const auto& [stream_id, r] : rooms_)
    if (!r.conns.empty()) out.push_back(stream_id);
  return out;
}

void Audience::broadcast(const std::string& stream_id, const Payload& payload, Delivery delivery,
                         uint64_t key, ConnId except) {
  broadcast_here(stream_id, payload, delivery, key, except);
  if (relay_ != nullptr) relay_->all(stream_id, payload.text(), delivery, key);
}

void Audience::to_hosts(const std::string& stream_id, const Payload& payload) {
  to_hosts_here(stream_id, payload);
  if (relay_ != nullptr) relay_->hosts(stream_id, payload.text());
}

void Audience::by_role(const std::string& stream_id, const std::string& for_hosts,
                       const std::string& for_viewers, ConnId except) {
  by_role_here(stream_id, for_hosts, for_viewers, except);
  if (relay_ != nullptr) relay_->by_role(stream_id, for_hosts, for_viewers);
}

void Audience::broadcast_here(const std::string& stream_id, const Payload& payload, Delivery delivery,
                              uint64_t key, ConnId except) {
  http_.send_to_all(members(stream_id), payload, delivery, key, except);
}

void Audience::to_hosts_here(const std::string& stream_id, const Payload& payload) {
  const auto& hosts = this->hosts(stream_id);
  if (!hosts.empty()) http_.send_to_all(hosts, payload, Delivery::reliable, 0);
}

void Audience::by_role_here(const std::string& stream_id, const std::string& for_hosts,
                            const std::string& for_viewers, ConnId except) {
  std::vector<ConnId> hosts;
  std::vector<ConnId> viewers;
  const auto& all = members(stream_id);
  viewers.reserve(all.size());
  for (ConnId id : all) {
    auto it = conns_.find(id);
    if (it == conns_.end() || id == except) continue;
    (it->second.member.manages() ? hosts : viewers).push_back(id);
  }
  if (!hosts.empty()) http_.send_to_all(hosts, Payload(for_hosts), Delivery::reliable, 0);
  if (!viewers.empty()) http_.send_to_all(viewers, Payload(for_viewers), Delivery::reliable, 0);
}

void Audience::reply(ConnId id, nlohmann::json message, const std::string& id_json) {
  if (!id_json.empty()) message["re"] = re_value(id_json);
  http_.send(id, message.dump());
}

void Audience::send_error(ConnId id, const std::string& code, const std::string& message,
                          const std::string& id_json) {
  http_.send(
      id,
      JsonObject().str("type", "error").raw("re", id_json).str("code", code).str("message", message).take());
}

}  // namespace harvest::realtime

#include "realtime/room_relay.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "realtime/audience.h"
#include "realtime/host_monitor.h"
#include "realtime/show_channel.h"

namespace harvest::realtime {

using nlohmann::json;

namespace {
constexpr auto kHeartbeat = std::chrono::seconds(2);
// A node not heard from for three heartbeats is gone (crashed, or cut off from Redis): its
// viewers no longer count.
constexpr auto kNodeTimeout = std::chrono::seconds(6);
// Envelopes about no one room (a node asking the others for their state) use this room.
constexpr const char* kNodesRoom = "_nodes";

template <typename T = int64_t>
std::optional<T> to_int(std::string_view s) {
  T v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string str_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t int_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}
}  // namespace

RoomRelay::RoomRelay(EventLoop& loop, bus::Bus& bus, Audience& audience, ShowChannel& stage,
                     HostMonitor& monitor)
    : loop_(loop), bus_(bus), audience_(audience), stage_(stage), monitor_(monitor) {}

RoomRelay::~RoomRelay() {
  bus_.stop();  // no envelope is delivered to us after this
  if (heartbeat_timer_ != 0) loop_.cancel(heartbeat_timer_);
}

void RoomRelay::start() {
  bus_.set_handlers([this](const bus::Envelope& e) { on_event(e); }, [this] { on_connected(); });
  bus_.start();
  heartbeat_timer_ = loop_.run_after(kHeartbeat, [this] { heartbeat(); });
}

void RoomRelay::publish(const std::string& room, std::string kind, std::string tag, std::string body) {
  bus_.publish(bus::Envelope{"", room, std::move(kind), std::move(tag), std::move(body)});
}

// ---------------------------------------------------------------- outbound

void RoomRelay::all(const std::string& room, std::string_view text, Delivery delivery, uint64_t key) {
  // Tag: "r" reliable, "s<key>" superseding under `key` (the same binary hashes alike).
  publish(room, "all", delivery == Delivery::reliable ? "r" : "s" + std::to_string(key), std::string(text));
}

void RoomRelay::hosts(const std::string& room, std::string_view text) {
  publish(room, "hosts", "-", std::string(text));
}

void RoomRelay::by_role(const std::string& room, std::string_view for_hosts, std::string_view for_viewers) {
  // Tag: the length of the hosts' text, which comes first in the body.
  publish(room, "role", std::to_string(for_hosts.size()), std::string(for_hosts) + std::string(for_viewers));
}

void RoomRelay::card_shown(const std::string& room, const std::string& product_id, const std::string& slot,
                           int64_t at_ms) {
  publish(room, "card.show", "-", json{{"product_id", product_id}, {"slot", slot}, {"at", at_ms}}.dump());
}

void RoomRelay::card_hidden(const std::string& room, const std::string& product_id, int64_t at_ms) {
  publish(room, "card.hide", "-", json{{"product_id", product_id}, {"at", at_ms}}.dump());
}

void RoomRelay::card_presented(const std::string& room, const std::string& product_id,
                               std::optional<double> pts,
                               const std::optional<std::string>& program_date_time) {
  publish(room, "card.presented", "-",
          json{{"product_id", product_id},
               {"pts", pts ? json(*pts) : json(nullptr)},
               {"program_date_time", program_date_time ? json(*program_date_time) : json(nullptr)}}
              .dump());
}

void RoomRelay::local_viewers(const std::string& room, int count) {
  auto [it, fresh] = local_sent_.try_emplace(room, -1);
  if (!fresh && it->second == count) return;
  it->second = count;
  publish(room, "viewers", "-", std::to_string(count));
}

void RoomRelay::viewer_seen(const std::string& room, const std::string& viewer_id) {
  publish(room, "seen", "-", viewer_id);
}

int RoomRelay::remote_viewers(const std::string& room) const {
  auto it = remote_.find(room);
  if (it == remote_.end()) return 0;
  int sum = 0;
  for (const auto& [node, c] : it->second) sum += c.count;
  return sum;
}

// ---------------------------------------------------------------- inbound

void RoomRelay::on_event(const bus::Envelope& e) {
  const std::string& kind = e.kind;
  if (kind == "all") {
    if (e.tag == "r") return audience_.broadcast_here(e.room, Payload(e.body));
    auto key = e.tag.size() > 1 && e.tag[0] == 's' ? to_int<uint64_t>(std::string_view(e.tag).substr(1))
                                                   : std::nullopt;
    if (!key) return;
    return audience_.broadcast_here(e.room, Payload(e.body), Delivery::superseding, *key);
  }
  if (kind == "hosts") return audience_.to_hosts_here(e.room, Payload(e.body));
  if (kind == "role") {
    auto n = to_int(e.tag);
    if (!n || *n < 0 || static_cast<size_t>(*n) > e.body.size()) return;
    const auto split = static_cast<size_t>(*n);
    return audience_.by_role_here(e.room, e.body.substr(0, split), e.body.substr(split), 0);
  }
  if (kind == "viewers") {
    auto count = to_int(e.body);
    if (!count || *count < 0) return;
    NodeCount& c = remote_[e.room][e.origin];
    const bool changed = c.count != static_cast<int>(*count);
    c.count = static_cast<int>(*count);
    c.heard = Steady::now();
    if (changed) monitor_.viewers_changed(e.room);
    return;
  }
  if (kind == "seen") return monitor_.viewer_seen(e.room, e.body, /*relayed=*/true);
  if (kind == "sync") return publish_snapshots();
  if (auto h = kinds_.find(kind); h != kinds_.end()) return h->second(e);
  // The rest carry JSON.
  const json j = json::parse(e.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return;
  if (kind == "card.show")
    return stage_.apply_remote_show(e.room, str_field(j, "product_id"), str_field(j, "slot"),
                                    int_field(j, "at"));
  if (kind == "card.hide")
    return stage_.apply_remote_hide(e.room, str_field(j, "product_id"), int_field(j, "at"));
  if (kind == "card.presented") {
    std::optional<double> pts;
    if (auto it = j.find("pts"); it != j.end() && it->is_number()) pts = it->get<double>();
    std::optional<std::string> pdt;
    if (auto it = j.find("program_date_time"); it != j.end() && it->is_string()) pdt = it->get<std::string>();
    return stage_.apply_remote_presented(e.room, str_field(j, "product_id"), pts, pdt);
  }
  if (kind == "snapshot") {
    StageSnapshot snap;
    snap.changed_at_ms = int_field(j, "at");
    if (auto it = j.find("cards"); it != j.end() && it->is_array())
      for (const json& c : *it)
        if (c.is_object()) snap.cards.emplace_back(str_field(c, "product_id"), str_field(c, "slot"));
    return stage_.apply_snapshot(e.room, snap);
  }
}

// After a (re)connect: what the others may have missed while we (or Redis) were away, and a
// request for theirs. Snapshots are idempotent, so hearing one twice does no harm.
void RoomRelay::on_connected() {
  log::info("bus_resync").kv("node", bus_.node_id()).kv("rooms", stage_.staged_rooms().size());
  local_sent_.clear();
  publish_snapshots();
  for (const std::string& room : audience_.occupied_rooms())
    local_viewers(room, static_cast<int>(audience_.members(room).size()));
  publish(kNodesRoom, "sync", "-", "");
  for (auto& hook : reconnect_hooks_) hook();
}

void RoomRelay::publish_snapshots() {
  for (const std::string& room : stage_.staged_rooms()) {
    const StageSnapshot snap = stage_.snapshot(room);
    json cards = json::array();
    for (const auto& [product_id, slot] : snap.cards)
      cards.push_back({{"product_id", product_id}, {"slot", slot}});
    publish(room, "snapshot", "-", json{{"at", snap.changed_at_ms}, {"cards", cards}}.dump());
  }
}

void RoomRelay::heartbeat() {
  heartbeat_timer_ = loop_.run_after(kHeartbeat, [this] { heartbeat(); });
  // Ours: every room we have (or had) connections in, so the others keep counting them.
  for (auto it = local_sent_.begin(); it != local_sent_.end();) {
    const int now = static_cast<int>(audience_.members(it->first).size());
    publish(it->first, "viewers", "-", std::to_string(now));
    if (now == 0) {
      it = local_sent_.erase(it);
    } else {
      it->second = now;
      ++it;
    }
  }
  // Theirs: nodes gone quiet stop counting.
  const auto deadline = Steady::now() - kNodeTimeout;
  for (auto& [room, nodes] : remote_) {
    const size_t before = nodes.size();
    std::erase_if(nodes, [&](const auto& kv) { return kv.second.heard < deadline; });
    if (nodes.size() != before) monitor_.viewers_changed(room);
  }
}

}  // namespace harvest::realtime

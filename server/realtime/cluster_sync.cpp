#include "realtime/cluster_sync.h"

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "realtime/room_relay.h"

namespace harvest::realtime {

using nlohmann::json;
using Change = StreamRegistry::Change;
using commerce::ShopNews;

namespace {
constexpr auto kHeartbeat = std::chrono::seconds(2);
constexpr auto kHoldTimeout = std::chrono::seconds(6);  // three heartbeats unheard: the node is gone

const char* change_name(Change c) {
  switch (c) {
    case Change::created: return "created";
    case Change::details: return "details";
    case Change::key_rotated: return "key_rotated";
    case Change::ended: return "ended";
    default: return "";
  }
}

std::optional<Change> change_from(const std::string& name) {
  if (name == "created") return Change::created;
  if (name == "details") return Change::details;
  if (name == "key_rotated") return Change::key_rotated;
  if (name == "ended") return Change::ended;
  return std::nullopt;
}

const char* news_name(ShopNews::What w) {
  switch (w) {
    case ShopNews::What::order_stored: return "order_stored";
    case ShopNews::What::order_changed: return "order_changed";
    case ShopNews::What::shop_changed: return "shop_changed";
  }
  return "";
}
}  // namespace

ClusterSync::ClusterSync(EventLoop& loop, RoomRelay& relay, StreamRegistry& streams,
                         commerce::CommerceService& commerce)
    : loop_(loop), relay_(relay), streams_(streams), commerce_(commerce),
      self_(std::make_shared<ClusterSync*>(this)) {}

ClusterSync::~ClusterSync() {
  *self_ = nullptr;
  commerce_.set_news_listener(nullptr);
  if (heartbeat_timer_ != 0) loop_.cancel(heartbeat_timer_);
}

void ClusterSync::start() {
  streams_.add_listener([self = self_](const StreamState& s, Change change) {
    if (*self != nullptr) (*self)->stream_changed(s, change);
  });
  commerce_.set_news_listener([this](const ShopNews& news) {
    json body{{"what", news_name(news.what)}};
    if (news.order_id != 0) body["order_id"] = news.order_id;
    if (news.stock_left >= 0) body["stock_left"] = news.stock_left;
    if (news.stock_returned) body["stock_returned"] = true;
    relay_.publish_kind(news.stream_id, "shop", body.dump());
  });
  relay_.on_kind("stream", [this](const bus::Envelope& e) { on_stream(e); });
  relay_.on_kind("shop", [this](const bus::Envelope& e) { on_shop(e); });
  relay_.on_reconnect([this] { announce_held(); });
  heartbeat_timer_ = loop_.run_after(kHeartbeat, [this] { heartbeat(); });
}

// ---------------------------------------------------------------- this node's changes

void ClusterSync::stream_changed(const StreamState& s, Change change) {
  if (applying_remote_) return;  // it came from another node: not ours to repeat
  const std::string& id = s.record.id;
  if (const char* name = change_name(change); *name != '\0')
    return relay_.publish_kind(id, "stream", json{{"op", "record"}, {"change", name}}.dump());
  if (!s.ingest_node.empty()) return;  // another node's ingest: that node tells
  if (change == Change::live) return announce_live(s);
  if (change == Change::offline) return relay_.publish_kind(id, "stream", R"({"op":"offline"})");
}

void ClusterSync::announce_live(const StreamState& s) {
  relay_.publish_kind(s.record.id, "stream", json{{"op", "live"}, {"ingest", s.ingest}}.dump());
}

// Every stream this node's ingest holds: repeated, so late or reconnected nodes learn it.
void ClusterSync::announce_held() {
  for (const StreamState* s : streams_.all())
    if (s->live && s->ingest_node.empty()) announce_live(*s);
}

void ClusterSync::heartbeat() {
  heartbeat_timer_ = loop_.run_after(kHeartbeat, [this] { heartbeat(); });
  announce_held();
  // A node that stopped announcing a stream (crashed, or cut off) no longer holds it.
  const auto deadline = Steady::now() - kHoldTimeout;
  for (auto it = remote_.begin(); it != remote_.end();) {
    if (it->second.heard >= deadline) {
      ++it;
      continue;
    }
    const std::string id = it->first, node = it->second.node;
    it = remote_.erase(it);
    log::info("remote_ingest_lost").kv("stream", id).kv("node", node);
    applying_remote_ = true;
    streams_.set_remote_live(id, node, false);
    applying_remote_ = false;
  }
}

// ---------------------------------------------------------------- other nodes' changes

void ClusterSync::on_stream(const bus::Envelope& e) {
  const json j = json::parse(e.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("op") || !j["op"].is_string()) return;
  const std::string op = j["op"].get<std::string>();
  applying_remote_ = true;
  if (op == "record") {
    auto c = j.find("change");
    auto change = c != j.end() && c->is_string() ? change_from(c->get<std::string>()) : std::nullopt;
    if (change) {
      // With a store of its own (SQLite) a node does not have the others' streams: nothing to do.
      if (auto st = streams_.refresh(e.room, *change); !st)
        log::debug("remote_stream_not_read").kv("stream", e.room).kv("reason", st.message());
    }
  } else if (op == "live") {
    remote_[e.room] = RemoteHold{e.origin, Steady::now()};
    streams_.set_remote_live(e.room, e.origin, true);
    if (const StreamState* s = streams_.find(e.room); s != nullptr && s->ingest_node == e.origin) {
      if (auto it = j.find("ingest"); it != j.end() && it->is_object() && *it != s->ingest)
        streams_.set_ingest_stats(e.room, *it);
    }
  } else if (op == "offline") {
    if (auto it = remote_.find(e.room); it != remote_.end() && it->second.node == e.origin) remote_.erase(it);
    streams_.set_remote_live(e.room, e.origin, false);
  }
  applying_remote_ = false;
}

void ClusterSync::on_shop(const bus::Envelope& e) {
  const json j = json::parse(e.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return;
  ShopNews news;
  auto w = j.find("what");
  const std::string what = w != j.end() && w->is_string() ? w->get<std::string>() : std::string();
  if (what == "order_stored") news.what = ShopNews::What::order_stored;
  else if (what == "order_changed") news.what = ShopNews::What::order_changed;
  else if (what == "shop_changed") news.what = ShopNews::What::shop_changed;
  else return;
  news.stream_id = e.room;
  auto integer = [&j](const char* key, int64_t fallback) {
    auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
  };
  news.order_id = integer("order_id", 0);
  news.stock_left = integer("stock_left", -1);
  auto returned = j.find("stock_returned");
  news.stock_returned = returned != j.end() && returned->is_boolean() && returned->get<bool>();
  if (news.what != ShopNews::What::shop_changed && news.order_id <= 0) return;
  commerce_.apply_remote(news);
}

}  // namespace harvest::realtime

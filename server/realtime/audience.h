#pragma once
// The audience of every room: the websocket connections, who each one is (viewer, host or
// admin; live or watching a replay), its rate limits, and fan-out to a room, to its hosts or by
// role. The other room parts decide what to say; this one knows who hears it. Loop thread only.
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/token_bucket.h"
#include "realtime/access.h"
#include "realtime/http_server.h"
#include "realtime/room_options.h"

namespace harvest::realtime {

class RoomRelay;

// One websocket connection.
struct Member {
  ConnId id = 0;
  std::string stream_id;  // its room; "" when refused (in no room)
  std::string viewer_id;    // the buyer id its buyer token carries
  std::string buyer_token;  // server-issued (access.h buyer_for); the client keeps it
  std::string replay_session;  // "" live; else the replay session it watches
  Identity identity;
  // Host or admin of its stream (a replay connection too; it is a viewer for commands).
  bool manages() const { return identity.may_manage(stream_id); }
};

// The key under which a superseding update replaces an older one still queued.
uint64_t supersede_key(std::string_view kind, std::string_view product_id);

class Audience {
public:
  Audience(HttpServer& http, const RoomOptions& options) : http_(http), options_(options) {}

  // A connection opened; it is in no room until join().
  Member& add(Member member);
  // Puts the member in its stream's room. Live hosts and admins also hear the hosts' events.
  void join(ConnId id);
  // Forgets the connection. Returns the stream whose room it left ("" none).
  std::string remove(ConnId id);
  Member* find(ConnId id);

  // The rate limits of one message (and of a chat message): false when over budget.
  bool admit(ConnId id, bool chat);
  // A rate_limited answer went out; enough of them within the window close with 1008.
  void strike(ConnId id);

  const std::vector<ConnId>& members(const std::string& stream_id) const;
  const std::vector<ConnId>& hosts(const std::string& stream_id) const;
  // Whether a host may hear a to_hosts(): one here, or (with a relay) one on another node.
  bool hosts_listening(const std::string& stream_id) const { return relay_ != nullptr || !hosts(stream_id).empty(); }
  // The connections of one buyer (their buyer token's id), in any room: a phone and a laptop.
  std::vector<ConnId> buyer_connections(const std::string& viewer_id) const;
  size_t connection_count() const { return conns_.size(); }
  // Streams with at least one connection.
  std::vector<std::string> occupied_rooms() const;

  // --- output ---
  void send(ConnId id, std::string text) { http_.send(id, std::move(text)); }
  void send(ConnId id, const Payload& payload, Delivery delivery, uint64_t key) {
    http_.send(id, payload, delivery, key);
  }
  // To everyone in the room but `except`. One serialisation for everyone; a send never edits
  // the room synchronously (a slow connection that is cut off is reported closed later).
  // With a relay (the bus spans nodes) the room on the other nodes hears it too.
  void broadcast(const std::string& stream_id, const Payload& payload, Delivery delivery = Delivery::reliable,
                 uint64_t key = 0, ConnId except = 0);
  void to_hosts(const std::string& stream_id, const Payload& payload);
  // `for_hosts` to the room's hosts and admins, `for_viewers` to everyone else, but `except`.
  void by_role(const std::string& stream_id, const std::string& for_hosts, const std::string& for_viewers,
               ConnId except);
  // The same, to this node's connections only: for what other nodes make themselves (cards,
  // viewer counts) and for what came from another node.
  void broadcast_here(const std::string& stream_id, const Payload& payload, Delivery delivery = Delivery::reliable,
                      uint64_t key = 0, ConnId except = 0);
  void to_hosts_here(const std::string& stream_id, const Payload& payload);
  void by_role_here(const std::string& stream_id, const std::string& for_hosts, const std::string& for_viewers,
                    ConnId except);
  void set_relay(RoomRelay* relay) { relay_ = relay; }
  // `message` with "re" set to the client's id (when it sent one).
  void reply(ConnId id, nlohmann::json message, const std::string& id_json);
  void send_error(ConnId id, const std::string& code, const std::string& message, const std::string& id_json);
  void close(ConnId id, int status, const std::string& reason) {
    http_.close(id, status, reason, /*flush_first=*/true);
  }
  void set_batching(ConnId id, bool on) { http_.set_batching(id, on); }

private:
  struct Entry {
    Member member;
    TokenBucket messages;
    TokenBucket chat;
    int strikes = 0;
    std::chrono::steady_clock::time_point strike_window_start;
    size_t room_index = 0;
  };
  struct Room {
    std::vector<ConnId> conns;
    std::vector<ConnId> hosts;  // live host/admin connections (few)
  };

  HttpServer& http_;
  const RoomOptions& options_;
  RoomRelay* relay_ = nullptr;  // nullptr: one node (the in-process bus)
  std::unordered_map<ConnId, Entry> conns_;
  std::map<std::string, Room> rooms_;
  std::unordered_multimap<std::string, ConnId> buyers_;  // viewer_id -> its connections
  // Chat per buyer (viewer_id), shared by all of a buyer's connections on this node: without
  // it a buyer opening N connections chats N times as fast to everyone in the room. Dropped
  // with the buyer's last connection.
  std::unordered_map<std::string, TokenBucket> buyer_chat_;
};

}  // namespace harvest::realtime

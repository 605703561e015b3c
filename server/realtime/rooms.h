#pragma once
// Rooms: one per stream, on the control-plane thread. Implements Protocol v1 (docs/protocol.md) over
// HttpServer's websockets. RoomService admits connections, parses their frames and hands each
// command to the part that owns its concept:
//
//   Audience     connections, roles, rate limits, fan-out (audience.h)
//   ChatRoom     chat and moderation (chat_room.h)
//   ShowChannel  the cards on screen: show::Show on the websockets, the media seam (show_channel.h)
//   SellingDesk  catalog, flash sales and their timers, buys, coalesced stock (selling_desk.h)
//   HostMonitor  viewer counts, peak viewers, stream.health (host_monitor.h)
//   RoomRelay    the same rooms on the other nodes, when the bus spans nodes (room_relay.h)
//   ClusterSync  the streams and the shop caches on the other nodes, with it (cluster_sync.h)
//
// The parts talk through plain values (Member, ClientMessage, show::CardEvent, commerce types);
// JSON is made only where a message leaves for a websocket.
#include <memory>

#include "bus/bus.h"
#include "commerce/commerce_service.h"
#include "core/event_loop.h"
#include "core/stream_registry.h"
#include "realtime/access.h"
#include "realtime/audience.h"
#include "realtime/chat_room.h"
#include "realtime/host_monitor.h"
#include "realtime/http_server.h"
#include "realtime/protocol.h"
#include "realtime/room_options.h"
#include "realtime/cluster_sync.h"
#include "realtime/room_relay.h"
#include "realtime/selling_desk.h"
#include "realtime/show_channel.h"
#include "show/show.h"

namespace harvest::realtime {

class RoomService final : public WebSocketHandler {
public:
  RoomService(EventLoop& loop, HttpServer& http, StreamRegistry& streams, const AccessConfig& access,
              commerce::CommerceService& commerce, RoomOptions options = RoomOptions::from_environment(),
              bus::Bus* bus = nullptr);
  ~RoomService() override;

  // Loads every stream's shop, arms the timers of running sales and starts the health ticks.
  void start();

  bool on_open(ConnId conn, const HttpRequest& upgrade) override;
  void on_message(ConnId conn, std::string_view text) override;
  void on_close(ConnId conn) override;

  // The parts, for the HTTP API, the media link and the app's wiring (loop thread).
  Audience& audience() { return audience_; }
  ShowChannel& stage() { return stage_; }  // the media link's show::CardStage
  SellingDesk& selling() { return selling_; }
  HostMonitor& monitor() { return monitor_; }

private:
  void handle(Member& c, const ClientMessage& m);
  std::string welcome_json(const Member& c);

  StreamRegistry& streams_;
  const AccessConfig& access_;
  RoomOptions options_;
  Audience audience_;
  show::Show show_;
  ShowChannel stage_;
  SellingDesk selling_;
  ChatRoom chat_;
  HostMonitor monitor_;
  std::unique_ptr<RoomRelay> relay_;  // with a bus that spans nodes only; destroyed first
  std::unique_ptr<ClusterSync> cluster_;  // streams and shop caches across nodes (with the relay)
};

}  // namespace harvest::realtime

#pragma once
// The Redis bus (--bus redis://host:port): every node PUBLISHes its room events on
// "harvest:room:<stream id>" and PSUBSCRIBEs "harvest:room:*". hiredis' async client runs on a
// libuv loop in a thread of its own (the control-plane loop is libwebsockets'), with two
// connections: a subscribed connection can only subscribe. Received envelopes are posted to the
// control-plane loop; publishes are queued to the bus thread.
//
// Reconnects with backoff (100 ms doubling to 5 s) when either connection drops; the state
// change is logged once (bus_up / bus_down), not each attempt. While down, publishes are
// dropped and counted; on reconnect on_connected runs so rooms re-publish their state.
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "bus/bus.h"

namespace harvest::bus {

class RedisBus final : public Bus {
 public:
  RedisBus(EventLoop& loop, RedisAddress address, std::string node_id);
  ~RedisBus() override;

  bool spans_nodes() const override { return true; }
  const std::string& node_id() const override { return node_id_; }
  void set_handlers(EventHandler on_event, ConnectedHandler on_connected) override;
  void publish(Envelope e) override;
  void start() override;
  void stop() override;

  // Where the bus thread's state lives (libuv and hiredis handles); redis_bus.cpp only.
  struct Thread;

 private:
  // Shared with tasks posted to the loop: `open` false after stop(), so none runs late.
  struct Delivery {
    bool open = true;
    EventHandler on_event;
    ConnectedHandler on_connected;
  };

  EventLoop& loop_;
  RedisAddress address_;
  std::string node_id_;
  std::shared_ptr<Delivery> delivery_ = std::make_shared<Delivery>();
  std::unique_ptr<Thread> thread_;
};

}  // namespace harvest::bus

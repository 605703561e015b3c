#pragma once
// The bus: room events between the nodes that serve one platform. One interface, two backends
// (one file each): the in-process bus (`--bus local`, the default: one node, nothing crosses)
// and Redis pub/sub (`--bus redis://host:port`, redis_bus.h).
//
// A node still fans its own events out to its own websockets directly; the bus only carries
// them to the OTHER nodes. So the in-process bus does nothing at all, and callers ask
// spans_nodes() before they make an envelope: the single-node path costs one branch.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "bus/envelope.h"
#include "core/event_loop.h"

namespace harvest::bus {

class Bus {
 public:
  using EventHandler = std::function<void(const Envelope&)>;
  using ConnectedHandler = std::function<void()>;
  virtual ~Bus() = default;

  // False for the in-process bus: there are no other nodes to tell.
  virtual bool spans_nodes() const = 0;
  // This node's id, the origin of what it publishes (random per process start).
  virtual const std::string& node_id() const = 0;
  // Loop thread, before start(). `on_event` gets every other node's envelope; `on_connected`
  // runs each time the bus (re)connects, after its subscription is in place: the moment to
  // re-publish this node's room state (what other nodes missed while it was away). Both run on
  // the loop thread.
  virtual void set_handlers(EventHandler on_event, ConnectedHandler on_connected) = 0;
  // Loop thread. Tells the other nodes; `e.origin` is set here. While the bus is disconnected
  // the envelope is dropped (the resync on reconnect restores room state; events are not
  // replayed).
  virtual void publish(Envelope e) = 0;
  virtual void start() = 0;
  // Stops delivering and disconnects; no handler runs after it returns.
  virtual void stop() = 0;
};

// Where a Redis bus connects.
struct RedisAddress {
  std::string host;
  int port = 6379;
};
// "redis://host[:port][/]" (no password, no database number: not supported, refused).
// nullopt and `error` set otherwise. Pure.
std::optional<RedisAddress> parse_redis_url(const std::string& url, std::string& error);

// `spec` is --bus: "local" or a redis:// URL. nullptr and `error` set when it is neither.
std::unique_ptr<Bus> open_bus(const std::string& spec, EventLoop& loop, std::string& error);

}  // namespace harvest::bus

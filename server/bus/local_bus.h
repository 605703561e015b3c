#pragma once
// The in-process bus (--bus local): one node, so nothing crosses. Every method is a no-op;
// rooms ask spans_nodes() and never build an envelope.
#include "bus/bus.h"

namespace harvest::bus {

class LocalBus final : public Bus {
 public:
  bool spans_nodes() const override { return false; }
  const std::string& node_id() const override { return id_; }
  void set_handlers(EventHandler, ConnectedHandler) override {}
  void publish(Envelope) override {}
  void start() override {}
  void stop() override {}

 private:
  std::string id_ = "local";
};

}  // namespace harvest::bus

#pragma once
// Delivers a GStreamer bus's messages to the control-plane EventLoop thread.
// GStreamer posts from its streaming threads; a sync handler forwards each message
// (with a reference) to EventLoop::post, so pipeline state and room state are handled
// on the same thread and need no locks.
#include <gst/gst.h>

#include <functional>
#include <memory>

#include "core/event_loop.h"

namespace harvest::media {

class GstBusBridge {
public:
  using Handler = std::function<void(GstMessage*)>;

  // Starts forwarding `bus` messages to `handler` on `loop`'s thread.
  GstBusBridge(EventLoop& loop, GstBus* bus, Handler handler);
  // Stops forwarding; messages already queued are dropped without calling the handler.
  ~GstBusBridge();
  GstBusBridge(const GstBusBridge&) = delete;
  GstBusBridge& operator=(const GstBusBridge&) = delete;

private:
  struct Shared;
  GstBus* bus_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace harvest::media

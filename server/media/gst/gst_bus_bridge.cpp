#include "media/gst/gst_bus_bridge.h"

#include <atomic>

namespace harvest::media {

struct GstBusBridge::Shared {
  EventLoop* loop;
  Handler handler;
  std::atomic<bool> alive{true};
};

GstBusBridge::GstBusBridge(EventLoop& loop, GstBus* bus, Handler handler)
    : bus_(GST_BUS(gst_object_ref(bus))), shared_(std::make_shared<Shared>()) {
  shared_->loop = &loop;
  shared_->handler = std::move(handler);
  auto* holder = new std::shared_ptr<Shared>(shared_);
  gst_bus_set_sync_handler(
      bus_,
      [](GstBus*, GstMessage* message, gpointer data) -> GstBusSyncReply {
        auto shared = *static_cast<std::shared_ptr<Shared>*>(data);
        if (!shared->alive.load()) return GST_BUS_DROP;
        // Still in the posting thread: the wall clock now is when the element posted it.
        if (!GST_CLOCK_TIME_IS_VALID(GST_MESSAGE_TIMESTAMP(message)))
          GST_MESSAGE_TIMESTAMP(message) = static_cast<GstClockTime>(g_get_real_time()) * 1000;
        GstMessage* ref = gst_message_ref(message);
        shared->loop->post([shared, ref] {
          if (shared->alive.load()) shared->handler(ref);
          gst_message_unref(ref);
        });
        return GST_BUS_DROP;
      },
      holder, [](gpointer data) { delete static_cast<std::shared_ptr<Shared>*>(data); });
}

GstBusBridge::~GstBusBridge() {
  shared_->alive.store(false);
  gst_bus_set_sync_handler(bus_, nullptr, nullptr, nullptr);
  gst_object_unref(bus_);
}

}  // namespace harvest::media

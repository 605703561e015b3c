#pragma once
// Shared by the loadable module (plugin_module.cpp) and static registration
// (register_static.cpp): one place that lists the plugin's elements.
#include <gst/gst.h>

#define LIVECOMMERCE_PLUGIN_NAME "livecommerce"
#define LIVECOMMERCE_DESCRIPTION \
  "Live-commerce product cards: productoverlay (draws) and productcue (H.264 SEI cues)"
#define LIVECOMMERCE_VERSION "0.1.0"
#define LIVECOMMERCE_LICENSE "LGPL"
#define LIVECOMMERCE_PACKAGE "harvest-live"
#define LIVECOMMERCE_ORIGIN "https://harvest.live"

gboolean livecommerce_plugin_init(GstPlugin* plugin);

// The loadable plugin: libgstlivecommerce.so, found through GST_PLUGIN_PATH.
#include "plugin.h"

#define PACKAGE LIVECOMMERCE_PACKAGE

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, livecommerce, LIVECOMMERCE_DESCRIPTION,
                  livecommerce_plugin_init, LIVECOMMERCE_VERSION, LIVECOMMERCE_LICENSE, LIVECOMMERCE_PACKAGE,
                  LIVECOMMERCE_ORIGIN)

// Static registration for programs that link livecommerce_static.
#include <mutex>

#include "livecommerce.h"
#include "plugin.h"

extern "C" bool harvest_livecommerce_register(void) {
  // gst_plugin_register_static must run once per process; a second plugin of
  // the same name would be rejected.
  static std::once_flag once;
  static bool registered = false;
  std::call_once(once, [] {
    registered = gst_plugin_register_static(GST_VERSION_MAJOR, GST_VERSION_MINOR, LIVECOMMERCE_PLUGIN_NAME,
                                            LIVECOMMERCE_DESCRIPTION, livecommerce_plugin_init,
                                            LIVECOMMERCE_VERSION, LIVECOMMERCE_LICENSE, LIVECOMMERCE_PACKAGE,
                                            LIVECOMMERCE_PACKAGE, LIVECOMMERCE_ORIGIN);
  });
  return registered;
}

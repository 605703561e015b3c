#include "plugin.h"

#include "gstproductcue.h"
#include "gstproductoverlay.h"

gboolean livecommerce_plugin_init(GstPlugin* plugin) {
  gboolean ok = GST_ELEMENT_REGISTER(productoverlay, plugin);
  ok = GST_ELEMENT_REGISTER(productcue, plugin) && ok;
  return ok;
}

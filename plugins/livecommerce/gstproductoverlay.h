#pragma once
// productoverlay: draws product cards onto raw video. See docs/plugin-livecommerce.md.
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_PRODUCT_OVERLAY (gst_product_overlay_get_type())
G_DECLARE_FINAL_TYPE(GstProductOverlay, gst_product_overlay, GST, PRODUCT_OVERLAY, GstElement)

GST_ELEMENT_REGISTER_DECLARE(productoverlay);

G_END_DECLS

#pragma once
// productcue: writes card cues into parsed H.264 as SEI. See docs/plugin-livecommerce.md.
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_PRODUCT_CUE (gst_product_cue_get_type())
G_DECLARE_FINAL_TYPE(GstProductCue, gst_product_cue, GST, PRODUCT_CUE, GstElement)

GST_ELEMENT_REGISTER_DECLARE(productcue);

G_END_DECLS

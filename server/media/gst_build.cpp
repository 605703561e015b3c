#include "media/gst_build.h"

namespace harvest::media {

GstElement* add_element(GstElement* bin, const char* factory, const char* name, std::string& error) {
  GstElement* e = gst_element_factory_make(factory, name);
  if (e == nullptr) {
    if (error.empty()) error = std::string("element missing: ") + factory;
    return nullptr;
  }
  gst_bin_add(GST_BIN(bin), e);
  return e;
}

bool link_pads(GstPad* src, GstPad* sink) {
  const bool ok = src != nullptr && sink != nullptr && gst_pad_link(src, sink) == GST_PAD_LINK_OK;
  if (src != nullptr) gst_object_unref(src);
  if (sink != nullptr) gst_object_unref(sink);
  return ok;
}

}  // namespace harvest::media

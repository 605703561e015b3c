#include "media/gst/gst_build.h"

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

void add_probe(GstElement* e, const char* pad_name, GstPadProbeCallback cb, gpointer data, GDestroyNotify destroy) {
  GstPad* pad = gst_element_get_static_pad(e, pad_name);
  gst_pad_add_probe(pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST), cb,
                    data, destroy);
  gst_object_unref(pad);
}

guint64 buffers_in(GstPadProbeInfo* info) {
  if ((GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) != 0)
    return gst_buffer_list_length(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
  return 1;
}

GstPadProbeReturn count_probe(GstPad*, GstPadProbeInfo* info, gpointer counter) {
  static_cast<std::atomic<uint64_t>*>(counter)->fetch_add(buffers_in(info));
  return GST_PAD_PROBE_OK;
}

void for_each_element(GstElement* bin, const std::function<void(GstElement*, std::string_view factory)>& visit) {
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(bin));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* element = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory* factory = gst_element_get_factory(element);
    visit(element, factory != nullptr ? GST_OBJECT_NAME(factory) : "");
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
}

uint64_t queue_level(GstElement* queue) {
  guint level = 0;
  if (queue != nullptr) g_object_get(queue, "current-level-buffers", &level, nullptr);
  return level;
}

namespace {

// On videocrop's sink pad, before the element sees the new caps: its crop then applies to them.
GstPadProbeReturn crop_odd_edge(GstPad* pad, GstPadProbeInfo* info, gpointer) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
  GstCaps* caps = nullptr;
  gst_event_parse_caps(event, &caps);
  int width = 0;
  int height = 0;
  if (const GstStructure* st = caps != nullptr ? gst_caps_get_structure(caps, 0) : nullptr) {
    gst_structure_get_int(st, "width", &width);
    gst_structure_get_int(st, "height", &height);
  }
  if (GstObject* crop = gst_pad_get_parent(pad)) {
    g_object_set(crop, "right", width & 1, "bottom", height & 1, nullptr);
    gst_object_unref(crop);
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

void crop_to_even(GstElement* videocrop) {
  GstPad* pad = gst_element_get_static_pad(videocrop, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, crop_odd_edge, nullptr, nullptr);
  gst_object_unref(pad);
}

}  // namespace harvest::media

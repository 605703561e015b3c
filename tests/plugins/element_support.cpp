#include "plugins/element_support.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "livecommerce.h"

namespace harvest::test {

void init_livecommerce() {
  static std::once_flag once;
  std::call_once(once, [] {
    gst_init(nullptr, nullptr);
    if (!harvest_livecommerce_register()) throw std::runtime_error("livecommerce registration failed");
  });
}

Harness::Harness(const char* what, bool parse) {
  init_livecommerce();
  h_ = parse ? gst_harness_new_parse(what) : gst_harness_new(what);
  if (!h_) throw std::runtime_error(std::string("cannot create harness for ") + what);
  bus_ = gst_bus_new();
  gst_element_set_bus(h_->element, bus_);
}

Harness::~Harness() {
  drain();
  for (GstMessage* m : messages_) gst_message_unref(m);
  gst_harness_teardown(h_);
  // Teardown's state-change messages would keep the element alive through the
  // bus queue (bus -> message -> element -> bus): drop them.
  gst_bus_set_flushing(bus_, TRUE);
  gst_object_unref(bus_);
}

GstVideoInfo Harness::set_video_caps(const char* format, int width, int height, int fps_n) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format), static_cast<guint>(width),
                            static_cast<guint>(height));
  info.fps_n = fps_n;
  info.fps_d = 1;
  GstCaps* caps = gst_video_info_to_caps(&info);
  gst_harness_set_src_caps(h_, caps);  // takes ownership; also pushes a TIME segment
  return info;
}

BufferPtr Harness::push_pull(GstBuffer* frame) {
  return BufferPtr(gst_harness_push_and_pull(h_, gst_buffer_copy_deep(frame)));
}

void Harness::drain() {
  while (GstMessage* m = gst_bus_pop(bus_)) messages_.push_back(m);
}

std::vector<StructurePtr> Harness::take_element_messages(const char* name) {
  drain();
  std::vector<StructurePtr> out;
  for (auto it = messages_.begin(); it != messages_.end();) {
    const GstStructure* s = gst_message_get_structure(*it);
    if (GST_MESSAGE_TYPE(*it) == GST_MESSAGE_ELEMENT && s && gst_structure_has_name(s, name)) {
      out.emplace_back(gst_structure_copy(s));
      gst_message_unref(*it);
      it = messages_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::vector<std::string> Harness::take_warnings() {
  drain();
  std::vector<std::string> out;
  for (auto it = messages_.begin(); it != messages_.end();) {
    if (GST_MESSAGE_TYPE(*it) == GST_MESSAGE_WARNING) {
      GError* error = nullptr;
      gst_message_parse_warning(*it, &error, nullptr);
      out.emplace_back(error ? error->message : "");
      g_clear_error(&error);
      gst_message_unref(*it);
      it = messages_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

BufferPtr make_frame(const GstVideoInfo& info, GstClockTime pts, std::uint8_t seed) {
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstVideoFrame frame;
  gst_video_frame_map(&frame, &info, buffer, GST_MAP_WRITE);
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&frame); ++p) {
    auto* data = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, p));
    const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p);
    const int rows = GST_VIDEO_FRAME_COMP_HEIGHT(&frame, p == 0 ? 0 : 1);
    for (int y = 0; y < rows; ++y) {
      for (int x = 0; x < stride; ++x) {
        data[y * stride + x] = static_cast<std::uint8_t>(x * 7 + y * 13 + static_cast<int>(p) * 31 + seed);
      }
    }
  }
  gst_video_frame_unmap(&frame);
  GST_BUFFER_PTS(buffer) = pts;
  GST_BUFFER_DURATION(buffer) = kFrame;
  return BufferPtr(buffer);
}

CardRect rect_of(const GstStructure* s) {
  CardRect r;
  gst_structure_get_int(s, "x", &r.x);
  gst_structure_get_int(s, "y", &r.y);
  gst_structure_get_int(s, "width", &r.width);
  gst_structure_get_int(s, "height", &r.height);
  return r;
}

namespace {

// Calls `visit(plane, byte_a, byte_b, luma_x, luma_y)` for every byte of every
// plane's visible samples.
template <typename Visit>
void each_byte(const GstVideoInfo& info, GstBuffer* a, GstBuffer* b, Visit visit) {
  GstVideoFrame fa, fb;
  gst_video_frame_map(&fa, &info, a, GST_MAP_READ);
  gst_video_frame_map(&fb, &info, b, GST_MAP_READ);
  const GstVideoFormatInfo* f = info.finfo;
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&fa); ++p) {
    // The component stored in this plane decides subsampling and sample size.
    guint comp = 0;
    for (guint c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS(f); ++c) {
      if (f->plane[c] == p) {
        comp = c;
        break;
      }
    }
    const int w = GST_VIDEO_FRAME_COMP_WIDTH(&fa, comp);
    const int h = GST_VIDEO_FRAME_COMP_HEIGHT(&fa, comp);
    const int pstride = GST_VIDEO_FRAME_COMP_PSTRIDE(&fa, comp);
    const auto* da = static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&fa, p));
    const auto* db = static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&fb, p));
    const int sa = GST_VIDEO_FRAME_PLANE_STRIDE(&fa, p);
    const int sb = GST_VIDEO_FRAME_PLANE_STRIDE(&fb, p);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w * pstride; ++x) {
        const int luma_x = (x / pstride) << f->w_sub[comp];
        const int luma_y = y << f->h_sub[comp];
        visit(p, da[y * sa + x], db[y * sb + x], luma_x, luma_y);
      }
    }
  }
  gst_video_frame_unmap(&fa);
  gst_video_frame_unmap(&fb);
}

}  // namespace

FrameDiff diff_frames(const GstVideoInfo& info, GstBuffer* a, GstBuffer* b,
                      const std::vector<CardRect>& rects) {
  FrameDiff diff;
  each_byte(info, a, b, [&](guint, std::uint8_t va, std::uint8_t vb, int x, int y) {
    if (va == vb) return;
    bool inside = false;
    for (const auto& r : rects) inside = inside || r.contains(x, y);
    (inside ? diff.changed_inside : diff.changed_outside) += 1;
  });
  return diff;
}

std::size_t diff_in_rect(const GstVideoInfo& info, GstBuffer* a, GstBuffer* b, const CardRect& rect) {
  std::size_t n = 0;
  each_byte(info, a, b, [&](guint, std::uint8_t va, std::uint8_t vb, int x, int y) {
    if (va != vb && rect.contains(x, y)) ++n;
  });
  return n;
}

std::size_t bytes_differing_by_more_than(const GstVideoInfo& info, GstBuffer* a, GstBuffer* b,
                                         int tolerance) {
  std::size_t n = 0;
  each_byte(info, a, b, [&](guint, std::uint8_t va, std::uint8_t vb, int, int) {
    if (std::abs(static_cast<int>(va) - static_cast<int>(vb)) > tolerance) ++n;
  });
  return n;
}

std::size_t dark_pixels(const GstVideoInfo& info, GstBuffer* frame, const CardRect& rect, int threshold) {
  std::size_t n = 0;
  each_byte(info, frame, frame, [&](guint plane, std::uint8_t v, std::uint8_t, int x, int y) {
    if (plane == 0 && v < threshold && rect.contains(x, y)) ++n;
  });
  return n;
}

void write_test_png(const std::string& path, int size) {
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, size, size);
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 0.45, 0.7, 1.0);
  cairo_paint(cr);
  cairo_set_source_rgb(cr, 0.8, 0.85, 0.2);
  cairo_arc(cr, size / 2.0, size / 2.0, size * 0.4, 0, 2 * 3.14159265358979);
  cairo_fill(cr);
  cairo_destroy(cr);
  if (cairo_surface_write_to_png(surface, path.c_str()) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surface);
    throw std::runtime_error("cannot write " + path);
  }
  cairo_surface_destroy(surface);
}

std::string string_field(const GstStructure* s, const char* field) {
  const gchar* v = gst_structure_get_string(s, field);
  return v ? v : "";
}

std::uint64_t uint64_field(const GstStructure* s, const char* field) {
  guint64 v = 0;
  gst_structure_get_uint64(s, field, &v);
  return v;
}

}  // namespace harvest::test

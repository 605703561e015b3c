#pragma once
// Helpers for the livecommerce element tests: GstHarness ownership, raw frames
// with known timestamps and content, product images made on the fly, and bus
// messages posted by the elements.
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace harvest::test {

struct StructureFree {
  void operator()(GstStructure* s) const { gst_structure_free(s); }
};
using StructurePtr = std::unique_ptr<GstStructure, StructureFree>;
struct BufferUnref {
  void operator()(GstBuffer* b) const { gst_buffer_unref(b); }
};
using BufferPtr = std::unique_ptr<GstBuffer, BufferUnref>;

// gst_init + static registration of the plugin (no GST_PLUGIN_PATH needed).
void init_livecommerce();

// A GstHarness with a bus on the element so posted messages can be read.
class Harness {
 public:
  explicit Harness(const char* element_or_launch, bool parse = false);
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  GstHarness* get() const { return h_; }
  GstElement* element() const { return h_->element; }
  GstBus* bus() const { return bus_; }

  // Sets src caps for raw video; returns the video info of those caps.
  GstVideoInfo set_video_caps(const char* format, int width, int height, int fps_n = 30);
  // Pushes a copy of `frame` and pulls the output (caller owns it).
  BufferPtr push_pull(GstBuffer* frame);

  // Element messages named `name` (drained from the bus), and warnings' texts.
  std::vector<StructurePtr> take_element_messages(const char* name);
  std::vector<std::string> take_warnings();

 private:
  void drain();
  GstHarness* h_;
  GstBus* bus_;
  std::vector<GstMessage*> messages_;
};

// A frame of `info` filled with a deterministic non-uniform pattern (so a
// blend that touches a wrong pixel is visible), stamped with `pts`.
BufferPtr make_frame(const GstVideoInfo& info, GstClockTime pts, std::uint8_t seed = 0);

struct CardRect {
  int x = 0, y = 0, width = 0, height = 0;
  bool contains(int px, int py) const { return px >= x && py >= y && px < x + width && py < y + height; }
};
CardRect rect_of(const GstStructure* card_message);

struct FrameDiff {
  std::size_t changed_inside = 0;   // bytes changed inside the rectangles
  std::size_t changed_outside = 0;  // bytes changed outside them
};
// Compares two frames byte by byte, attributing each plane sample to the
// luma-resolution pixel it covers.
FrameDiff diff_frames(const GstVideoInfo& info, GstBuffer* a, GstBuffer* b,
                      const std::vector<CardRect>& rects);

// Bytes that differ between two frames inside `rect` only.
std::size_t diff_in_rect(const GstVideoInfo& info, GstBuffer* a, GstBuffer* b, const CardRect& rect);

// How many bytes of two frames differ by more than `tolerance` levels.
std::size_t bytes_differing_by_more_than(const GstVideoInfo& info, GstBuffer* a, GstBuffer* b, int tolerance);

// Luma (or mean RGB) below `threshold` inside `rect` of an I420/NV12 frame: "ink".
std::size_t dark_pixels(const GstVideoInfo& info, GstBuffer* frame, const CardRect& rect, int threshold = 90);

// Writes a PNG (a coloured disc) to `path` with cairo.
void write_test_png(const std::string& path, int size);

std::string string_field(const GstStructure* s, const char* field);
std::uint64_t uint64_field(const GstStructure* s, const char* field);

constexpr GstClockTime kFrame = GST_SECOND / 30;

}  // namespace harvest::test

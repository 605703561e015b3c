// ns per 1080p frame for one 600x300 product card, in I420 and NV12:
// productoverlay against gdkpixbufoverlay and cairooverlay (which only draws on
// BGRx, so it needs a videoconvert on each side) showing the same picture, plus
// a plain copy of the card's area as the floor. Each contender runs in a
// GstHarness on the calling thread, so only the element's own work is timed;
// `identity` shows the harness' share. Prints figures, never fails on time.
//
//   build/bench/overlay/bench_overlay [frames]
#include <cairo.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "card_layout.h"
#include "card_renderer.h"
#include "livecommerce.h"

using namespace harvest::livecommerce;

namespace {

constexpr int kWidth = 1920;
constexpr int kHeight = 1080;
constexpr int kRounds = 5;  // best of: the machine is shared

struct Contender {
  std::string name;
  std::string launch;                          // gst_harness_new_parse() line
  std::function<void(GstElement*)> configure;  // after creation, before caps
};

struct Result {
  double ns_per_frame = 0;
  double mean_diff = -1;  // mean |Y difference| inside the card vs productoverlay (-1: the reference)
};

std::string make_product_image(const std::string& dir) {
  const std::string path = dir + "/pear.png";
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 400, 400);
  cairo_t* cr = cairo_create(s);
  cairo_set_source_rgb(cr, 0.45, 0.7, 1.0);
  cairo_paint(cr);
  cairo_set_source_rgb(cr, 0.8, 0.85, 0.2);
  cairo_arc(cr, 200, 220, 150, 0, 2 * 3.14159265358979);
  cairo_fill(cr);
  cairo_destroy(cr);
  cairo_surface_write_to_png(s, path.c_str());
  cairo_surface_destroy(s);
  return path;
}

// The card exactly as productoverlay draws it, as a PNG for the other elements.
std::string write_card_png(const CardBitmap& card, const std::string& dir) {
  const std::string path = dir + "/card.png";
  cairo_surface_t* s =
      cairo_image_surface_create_for_data(const_cast<unsigned char*>(card.pixels.data()), CAIRO_FORMAT_ARGB32,
                                          card.width, card.height, card.stride);
  cairo_surface_write_to_png(s, path.c_str());
  cairo_surface_destroy(s);
  return path;
}

GstBuffer* make_frame(const GstVideoInfo& info) {
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstMapInfo map;
  gst_buffer_map(buffer, &map, GST_MAP_WRITE);
  for (gsize i = 0; i < map.size; ++i) map.data[i] = static_cast<guint8>((i * 7) ^ (i >> 11));
  gst_buffer_unmap(buffer, &map);
  return buffer;
}

double mean_luma_diff(const GstVideoInfo& info, GstBuffer* a, GstBuffer* b, const Rect& r) {
  GstMapInfo ma, mb;
  gst_buffer_map(a, &ma, GST_MAP_READ);
  gst_buffer_map(b, &mb, GST_MAP_READ);
  const auto stride = static_cast<std::size_t>(GST_VIDEO_INFO_PLANE_STRIDE(&info, 0));
  double sum = 0;
  for (int y = r.y; y < r.y + r.height; ++y) {
    for (int x = r.x; x < r.x + r.width; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * stride + static_cast<std::size_t>(x);
      sum += std::abs(static_cast<int>(ma.data[i]) - static_cast<int>(mb.data[i]));
    }
  }
  gst_buffer_unmap(a, &ma);
  gst_buffer_unmap(b, &mb);
  return sum / (static_cast<double>(r.width) * r.height);
}

// Pushes the same frame through the harness `frames` times (it stays writable:
// after each pull we own the only reference) and returns ns per frame.
double time_frames(GstHarness* h, GstBuffer** frame, int frames, GstClockTime& pts) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < frames; ++i) {
    GST_BUFFER_PTS(*frame) = pts;
    GST_BUFFER_DURATION(*frame) = GST_SECOND / 30;
    pts += GST_SECOND / 30;
    *frame = gst_harness_push_and_pull(h, *frame);
  }
  const auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  return ns / frames;
}

Result run(const Contender& c, const char* format, int frames, GstBuffer* reference, const Rect& card) {
  GstHarness* h = gst_harness_new_parse(c.launch.c_str());
  if (c.configure) c.configure(h->element);
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format), kWidth, kHeight);
  info.fps_n = 30;
  info.fps_d = 1;
  gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
  GstBuffer* pristine = make_frame(info);
  GstBuffer* frame = gst_buffer_copy_deep(pristine);
  GstClockTime pts = 0;
  time_frames(h, &frame, 10, pts);  // warm-up: first render, caches, negotiation
  Result result;
  result.ns_per_frame = 1e18;
  for (int round = 0; round < kRounds; ++round) {
    result.ns_per_frame = std::min(result.ns_per_frame, time_frames(h, &frame, frames, pts));
  }
  // One fresh frame to compare pictures.
  gst_buffer_unref(frame);
  GstBuffer* check = gst_harness_push_and_pull(h, gst_buffer_copy_deep(pristine));
  if (reference) result.mean_diff = mean_luma_diff(info, reference, check, card);
  gst_buffer_unref(check);
  gst_buffer_unref(pristine);
  gst_harness_teardown(h);
  return result;
}

// The floor: copying the card's area of every plane, which is what blending an
// opaque card amounts to.
double time_card_copy(const char* format, const Rect& r, int frames) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format), kWidth, kHeight);
  std::vector<guint8> frame(GST_VIDEO_INFO_SIZE(&info), 1);
  struct PlaneCopy {
    guint8* dst;
    std::size_t stride, rows, bytes;
    std::vector<guint8> src;
  };
  std::vector<PlaneCopy> planes;
  for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES(&info); ++p) {
    const guint comp = p;  // I420 and NV12: plane p starts with component p
    const int wsub = static_cast<int>(info.finfo->w_sub[comp]);
    const int hsub = static_cast<int>(info.finfo->h_sub[comp]);
    const auto pstride = static_cast<std::size_t>(GST_VIDEO_INFO_COMP_PSTRIDE(&info, comp));
    PlaneCopy pc;
    pc.stride = static_cast<std::size_t>(GST_VIDEO_INFO_PLANE_STRIDE(&info, p));
    pc.rows = static_cast<std::size_t>(r.height >> hsub);
    pc.bytes = static_cast<std::size_t>(r.width >> wsub) * pstride;
    pc.dst = frame.data() + GST_VIDEO_INFO_PLANE_OFFSET(&info, p) +
             static_cast<std::size_t>(r.y >> hsub) * pc.stride +
             static_cast<std::size_t>(r.x >> wsub) * pstride;
    pc.src.assign(pc.rows * pc.bytes, 2);
    planes.push_back(std::move(pc));
  }
  double best = 1e18;
  for (int round = 0; round < kRounds; ++round) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < frames; ++i) {
      for (auto& pc : planes) {
        for (std::size_t row = 0; row < pc.rows; ++row) {
          std::memcpy(pc.dst + row * pc.stride, pc.src.data() + row * pc.bytes, pc.bytes);
        }
      }
      asm volatile("" : : "r"(frame.data()) : "memory");  // the copies must happen
    }
    const auto ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    best = std::min(best, ns / frames);
  }
  return best;
}

cairo_surface_t* g_card_surface = nullptr;

void draw_card(GstElement*, cairo_t* cr, guint64, guint64, gpointer rect) {
  const auto* r = static_cast<const Rect*>(rect);
  cairo_set_source_surface(cr, g_card_surface, r->x, r->y);
  cairo_paint(cr);
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (!harvest_livecommerce_register()) {
    std::fprintf(stderr, "cannot register livecommerce\n");
    return 1;
  }
  const int frames = argc > 1 ? std::max(10, std::atoi(argv[1])) : 300;

  char dir_template[] = "/tmp/bench-overlay-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  const std::string image = make_product_image(dir);

  Rect card = *layout_cards(kWidth, kHeight, {Slot::kBottom})[0];
  Card pear;
  pear.product_id = "pear-yulu";
  pear.title = "隰县玉露香梨 5斤装";
  pear.price_fen = 3990;
  pear.image = image;
  pear.stock = 120;
  pear.sold = 35;
  CardRenderer renderer;
  const CardPicture picture = renderer.render_card(pear, card.width, card.height);
  const std::string card_png = write_card_png(*picture.bitmap, dir);
  g_card_surface = cairo_image_surface_create_from_png(card_png.c_str());

  const std::string scene =
      R"({"cards":[{"product_id":"pear-yulu","title":"隰县玉露香梨 5斤装","price":3990,"image":")" + image +
      R"(","stock":120,"sold":35}]})";
  const std::string scene_countdown = scene.substr(0, scene.size() - 3) + R"(,"sale_ends_at":3600}]})";
  // Harness launch lines become bins: the overlay is found by its name.
  auto scene_setter = [](std::string json) {
    return [json](GstElement* bin) {
      GstElement* overlay = gst_bin_get_by_name(GST_BIN(bin), "overlay");
      g_object_set(overlay, "scene", json.c_str(), "fade-duration", 0u, nullptr);
      gst_object_unref(overlay);
    };
  };
  const std::string position = " offset-x=" + std::to_string(card.x) + " offset-y=" + std::to_string(card.y);

  std::printf("productoverlay benchmark: %dx%d, one %dx%d card at (%d,%d), best of %d x %d frames\n", kWidth,
              kHeight, card.width, card.height, card.x, card.y, kRounds, frames);
  // "x time": this row's time over productoverlay's; "|dY|": mean luma difference inside the
  // card from productoverlay's picture (same picture: well below 1).
  std::printf("%-6s %-52s %12s %10s %10s\n", "format", "element", "ns/frame", "x time", "|dY|");
  for (const char* format : {"I420", "NV12"}) {
    const std::string back_to = std::string(" ! capsfilter caps=\"video/x-raw,format=") + format + "\"";
    const std::vector<Contender> contenders = {
        {"identity (harness overhead)", "identity", nullptr},
        {"productoverlay", "productoverlay name=overlay", scene_setter(scene)},
        {"productoverlay + live countdown", "productoverlay name=overlay", scene_setter(scene_countdown)},
        {"gdkpixbufoverlay", "gdkpixbufoverlay location=" + card_png + position, nullptr},
        {"videoconvert ! cairooverlay ! videoconvert",
         "videoconvert ! capsfilter caps=\"video/x-raw,format=BGRx\" ! cairooverlay name=c ! videoconvert" +
             back_to,
         [&card](GstElement* bin) {
           GstElement* c = gst_bin_get_by_name(GST_BIN(bin), "c");
           g_signal_connect(c, "draw", G_CALLBACK(draw_card), &card);
           gst_object_unref(c);
         }},
    };
    GstBuffer* reference = nullptr;
    {
      GstHarness* h = gst_harness_new_parse("productoverlay name=overlay");
      scene_setter(scene)(h->element);
      GstVideoInfo info;
      gst_video_info_set_format(&info, gst_video_format_from_string(format), kWidth, kHeight);
      info.fps_n = 30;
      info.fps_d = 1;
      gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
      reference = gst_harness_push_and_pull(h, make_frame(info));
      gst_harness_teardown(h);
    }
    std::vector<Result> results;
    double ours = 1.0;  // productoverlay's ns/frame: the unit of the "x faster" column
    for (const auto& c : contenders) {
      // identity draws nothing; the countdown card is a different picture on purpose.
      const bool compare =
          c.name.find("identity") == std::string::npos && c.name.find("countdown") == std::string::npos;
      // cairooverlay converts two full frames per frame: fewer frames keep the run short.
      const Result r = run(c, format, c.name.find("cairo") != std::string::npos ? frames / 3 : frames,
                           compare ? reference : nullptr, card);
      if (c.name == "productoverlay") ours = r.ns_per_frame;
      results.push_back(r);
    }
    for (std::size_t i = 0; i < contenders.size(); ++i) {
      char diff[32] = "-";
      if (results[i].mean_diff >= 0) std::snprintf(diff, sizeof diff, "%.2f", results[i].mean_diff);
      std::printf("%-6s %-52s %12.0f %10.1f %10s\n", format, contenders[i].name.c_str(),
                  results[i].ns_per_frame, results[i].ns_per_frame / ours, diff);
    }
    const double copy = time_card_copy(format, card, frames);
    std::printf("%-6s %-52s %12.0f %10.2f %10s\n", format, "memcpy of the card area (floor)", copy,
                copy / ours, "-");
    gst_buffer_unref(reference);
  }
  cairo_surface_destroy(g_card_surface);
  std::filesystem::remove_all(dir);
  return 0;
}

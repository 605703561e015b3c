// productoverlay element tests (GstHarness). Time comes only from buffer
// timestamps, so every test is deterministic.
#include <catch2/catch.hpp>

#include <gdk-pixbuf/gdk-pixbuf.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "card_layout.h"
#include "plugins/element_support.h"
#include "support/temp_dir.h"

using namespace harvest::test;

namespace {

constexpr const char* kCardMessage = "productoverlay-card";

std::string card_json(const std::string& id, const std::string& extra = "") {
  std::string json =
      R"({"product_id":")" + id + R"(","title":"隰县玉露香梨 5斤装","price":3990,"stock":120,"sold":35)";
  if (!extra.empty()) json += "," + extra;
  return json + "}";
}

std::string scene_json(const std::vector<std::string>& cards) {
  std::string json = R"({"cards":[)";
  for (std::size_t i = 0; i < cards.size(); ++i) json += (i ? "," : "") + cards[i];
  return json + "]}";
}

void set_scene(Harness& h, const std::string& json) {
  g_object_set(h.element(), "scene", json.c_str(), nullptr);
}

gboolean emit(Harness& h, const char* signal, const char* arg) {
  gboolean ok = FALSE;
  g_signal_emit_by_name(h.element(), signal, arg, &ok);
  return ok;
}

bool any_contains(const std::vector<std::string>& texts, const std::string& needle) {
  for (const auto& t : texts) {
    if (t.find(needle) != std::string::npos) return true;
  }
  return false;
}

GstClockTime at(int frame) { return static_cast<GstClockTime>(frame) * kFrame; }

}  // namespace

TEST_CASE("card pixels change inside the card rectangle and every pixel outside is bit-identical",
          "[productoverlay]") {
  const std::string format =
      GENERATE(as<std::string>{}, "I420", "NV12", "BGRA", "BGRx", "RGBA", "YV12", "AYUV");
  TempDir dir;
  const std::string image = dir.path() + "/pear.png";
  write_test_png(image, 160);
  Harness h("productoverlay");
  g_object_set(h.element(), "fade-duration", 0u, nullptr);
  set_scene(h, scene_json({card_json("pear", R"("image":")" + image + R"(","sale_ends_at":95.0)")}));
  const GstVideoInfo info = h.set_video_caps(format.c_str(), 640, 360);

  auto in = make_frame(info, 0);
  auto out = h.push_pull(in.get());
  auto messages = h.take_element_messages(kCardMessage);
  REQUIRE(messages.size() == 1);
  const CardRect rect = rect_of(messages[0].get());
  REQUIRE(rect.width > 0);
  const FrameDiff diff = diff_frames(info, in.get(), out.get(), {rect});
  INFO("format " << format);
  CHECK(diff.changed_outside == 0);
  // Nearly every sample of the card differs from the patterned input.
  CHECK(diff.changed_inside > static_cast<std::size_t>(rect.width * rect.height) / 2);
  CHECK(h.take_warnings().empty());
}

TEST_CASE("frames pass through untouched, without a copy, when no card is visible", "[productoverlay]") {
  Harness h("productoverlay");
  g_object_set(h.element(), "fade-duration", 0u, nullptr);
  const GstVideoInfo info = h.set_video_caps("I420", 320, 240);

  auto frame = make_frame(info, at(0));
  gst_buffer_ref(frame.get());  // we keep a reference: the element must not write into it
  BufferPtr out(gst_harness_push_and_pull(h.get(), frame.get()));
  CHECK(out.get() == frame.get());

  // A visible card on a shared (non-writable) frame: output is a new buffer, input unchanged.
  set_scene(h, scene_json({card_json("pear")}));
  auto pristine = BufferPtr(gst_buffer_copy_deep(frame.get()));
  gst_buffer_ref(frame.get());
  GST_BUFFER_PTS(frame.get()) = at(1);
  out.reset(gst_harness_push_and_pull(h.get(), frame.get()));
  CHECK(out.get() != frame.get());
  CHECK(diff_frames(info, frame.get(), pristine.get(), {}).changed_outside == 0);

  // Hidden again: straight back to passthrough.
  REQUIRE(emit(h, "hide-card", "pear"));
  auto later = make_frame(info, at(2));
  gst_buffer_ref(later.get());
  out.reset(gst_harness_push_and_pull(h.get(), later.get()));
  CHECK(out.get() == later.get());
}

TEST_CASE("a Chinese title is drawn with real glyphs", "[productoverlay]") {
  auto title_ink = [](const std::string& title, std::vector<std::string>& warnings) {
    Harness h("productoverlay");
    g_object_set(h.element(), "fade-duration", 0u, nullptr);
    set_scene(h, scene_json({R"({"product_id":"pear","title":")" + title + R"(","price":3990})"}));
    const GstVideoInfo info = h.set_video_caps("I420", 1280, 720);
    auto in = make_frame(info, 0);
    auto out = h.push_pull(in.get());
    auto messages = h.take_element_messages(kCardMessage);
    REQUIRE(messages.size() == 1);
    const CardRect card = rect_of(messages[0].get());
    const auto g = harvest::livecommerce::card_geometry(card.width, card.height);
    // The title's two lines occupy the top quarter of the text column.
    const CardRect title_box{card.x + g.text.x, card.y + g.text.y, g.text.width, card.height / 4};
    warnings = h.take_warnings();
    return dark_pixels(info, out.get(), title_box);
  };
  std::vector<std::string> warnings;
  const std::size_t chinese = title_ink("隰县玉露香梨", warnings);
  CHECK(warnings.empty());  // the element warns when a font lacks glyphs (they would be boxes)
  const std::size_t none = title_ink("", warnings);
  CHECK(none == 0);
  CHECK(chinese > 400);
  // Different characters give different ink: glyphs, not identical boxes.
  const std::size_t other = title_ink("重庆火锅底料", warnings);
  CHECK(warnings.empty());
  CHECK(other > 400);
  CHECK(other != chinese);
}

TEST_CASE("the element message carries the PTS of the first frame that shows or hides the card",
          "[productoverlay]") {
  Harness h("productoverlay");  // default fade: 200 ms
  const GstVideoInfo info = h.set_video_caps("I420", 320, 240);
  for (int i = 0; i < 5; ++i) {
    auto in = make_frame(info, at(i));
    auto out = h.push_pull(in.get());
    CHECK(diff_frames(info, in.get(), out.get(), {}).changed_outside == 0);
  }
  CHECK(h.take_element_messages(kCardMessage).empty());

  set_scene(h, scene_json({card_json("pear")}));
  auto in5 = make_frame(info, at(5));
  auto out5 = h.push_pull(in5.get());
  auto shown = h.take_element_messages(kCardMessage);
  REQUIRE(shown.size() == 1);
  CHECK(string_field(shown[0].get(), "product-id") == "pear");
  CHECK(string_field(shown[0].get(), "action") == "shown");
  CHECK(uint64_field(shown[0].get(), "pts") == at(5));
  CHECK(uint64_field(shown[0].get(), "running-time") == at(5));
  const CardRect rect = rect_of(shown[0].get());
  // The first frame of the fade already shows the card, partly.
  CHECK(diff_in_rect(info, in5.get(), out5.get(), rect) > 0);

  BufferPtr full;
  for (int i = 6; i < 14; ++i) {
    auto in = make_frame(info, at(i));
    full = h.push_pull(in.get());
  }
  CHECK(h.take_element_messages(kCardMessage).empty());
  // After the fade the card is opaque: different from the faint first frame.
  CHECK(diff_in_rect(info, out5.get(), full.get(), rect) > 0);

  REQUIRE(emit(h, "hide-card", "pear"));
  auto in14 = make_frame(info, at(14));
  auto out14 = h.push_pull(in14.get());
  auto hidden = h.take_element_messages(kCardMessage);
  REQUIRE(hidden.size() == 1);
  CHECK(string_field(hidden[0].get(), "action") == "hidden");
  CHECK(uint64_field(hidden[0].get(), "pts") == at(14));
  CHECK(diff_in_rect(info, full.get(), out14.get(), rect) > 0);  // fading out is visible

  // After the fade-out the frame is untouched again.
  BufferPtr last_in, last_out;
  for (int i = 15; i < 24; ++i) {
    last_in = make_frame(info, at(i));
    last_out = h.push_pull(last_in.get());
  }
  CHECK(diff_frames(info, last_in.get(), last_out.get(), {}).changed_outside == 0);
  CHECK(h.take_element_messages(kCardMessage).empty());
}

TEST_CASE("an update set between two frames is on the very next frame", "[productoverlay]") {
  Harness h("productoverlay");
  g_object_set(h.element(), "fade-duration", 0u, nullptr);
  set_scene(h, scene_json({card_json("pear")}));
  const GstVideoInfo info = h.set_video_caps("NV12", 640, 360);
  auto in0 = make_frame(info, at(0));
  auto out0 = h.push_pull(in0.get());
  auto shown = h.take_element_messages(kCardMessage);
  REQUIRE(shown.size() == 1);
  const CardRect rect = rect_of(shown[0].get());

  REQUIRE(emit(h, "update-card", R"({"product_id":"pear","price":2990,"stock":119})"));
  auto in1 = make_frame(info, at(1));
  auto out1 = h.push_pull(in1.get());
  CHECK(diff_in_rect(info, out0.get(), out1.get(), rect) > 0);
  auto updated = h.take_element_messages(kCardMessage);
  REQUIRE(updated.size() == 1);
  CHECK(string_field(updated[0].get(), "action") == "updated");
  CHECK(uint64_field(updated[0].get(), "pts") == at(1));

  // Exactly what an element that had the new content from the start draws.
  Harness reference("productoverlay");
  g_object_set(reference.element(), "fade-duration", 0u, nullptr);
  set_scene(
      reference,
      scene_json(
          {R"({"product_id":"pear","title":"隰县玉露香梨 5斤装","price":2990,"stock":119,"sold":35})"}));
  reference.set_video_caps("NV12", 640, 360);
  auto expected = reference.push_pull(in1.get());
  const FrameDiff diff = diff_frames(info, expected.get(), out1.get(), {});
  CHECK(diff.changed_outside == 0);

  // The scene property applies atomically at the next frame too.
  set_scene(h, scene_json({card_json("pear"), card_json("crab", R"("slot":"top")")}));
  auto in2 = make_frame(info, at(2));
  auto out2 = h.push_pull(in2.get());
  auto messages = h.take_element_messages(kCardMessage);
  REQUIRE(messages.size() == 2);  // crab shown, pear updated back
  for (const auto& m : messages) CHECK(uint64_field(m.get(), "pts") == at(2));
}

TEST_CASE("the countdown text changes when running time crosses a second", "[productoverlay]") {
  Harness h("productoverlay");
  g_object_set(h.element(), "fade-duration", 0u, nullptr);
  set_scene(h, scene_json({card_json("pear", R"("sale_ends_at":10.0)")}));
  const GstVideoInfo info = h.set_video_caps("I420", 640, 360);
  auto frame_at = [&](GstClockTime pts) {
    auto in = make_frame(info, pts);
    return h.push_pull(in.get());
  };
  auto a = frame_at(5'900 * GST_MSECOND);  // 4.1 s left: shows 00:05
  auto b = frame_at(5'990 * GST_MSECOND);  // 4.01 s left: 00:05
  auto c = frame_at(6'000 * GST_MSECOND);  // 4.0 s left: 00:04
  auto messages = h.take_element_messages(kCardMessage);
  REQUIRE(messages.size() == 1);
  const CardRect card = rect_of(messages[0].get());
  const auto g = harvest::livecommerce::card_geometry(card.width, card.height);
  const CardRect strip{card.x + g.countdown.x, card.y + g.countdown.y, g.countdown.width, g.countdown.height};

  CHECK(diff_in_rect(info, a.get(), b.get(), strip) == 0);
  CHECK(diff_in_rect(info, b.get(), c.get(), strip) > 0);
  // Only the strip is redrawn: the rest of the card stays the same.
  CHECK(diff_frames(info, a.get(), c.get(), {strip}).changed_outside == 0);
}

TEST_CASE("invalid scene JSON keeps the current scene and posts a warning naming the error",
          "[productoverlay]") {
  Harness h("productoverlay");
  g_object_set(h.element(), "fade-duration", 0u, nullptr);
  set_scene(h, scene_json({card_json("pear")}));
  const GstVideoInfo info = h.set_video_caps("I420", 320, 240);
  auto in = make_frame(info, at(0));
  auto before = h.push_pull(in.get());
  REQUIRE(h.take_element_messages(kCardMessage).size() == 1);

  set_scene(h, R"({"cards":[{"product_id":"crab","price":"cheap"}]})");
  set_scene(h, "{not json");
  set_scene(h, R"({"cards":[{"product_id":"a"},{"product_id":"a"}]})");
  auto warnings = h.take_warnings();
  CHECK(any_contains(warnings, "cards[0].price"));
  CHECK(any_contains(warnings, "not valid JSON"));
  CHECK(any_contains(warnings, "cards[1].product_id: duplicated"));

  auto in1 = make_frame(info, at(1));
  auto after = h.push_pull(in1.get());
  CHECK(diff_frames(info, before.get(), after.get(), {}).changed_outside == 0);
  CHECK(h.take_element_messages(kCardMessage).empty());
  gchar* scene = nullptr;
  g_object_get(h.element(), "scene", &scene, nullptr);
  CHECK(std::string(scene).find("\"pear\"") != std::string::npos);
  g_free(scene);

  // Bad signal arguments: refused, warned, nothing changes.
  CHECK_FALSE(emit(h, "show-card", "[1,2"));
  CHECK_FALSE(emit(h, "update-card", R"({"product_id":"nobody","price":1})"));
  CHECK_FALSE(emit(h, "update-card", R"({"product_id":"pear","price":-5})"));
  CHECK_FALSE(emit(h, "hide-card", "nobody"));
  CHECK(h.take_warnings().size() == 4);
}

TEST_CASE("a missing or corrupt image draws the card without the picture and posts a warning",
          "[productoverlay]") {
  TempDir dir;
  const std::string corrupt = dir.path() + "/corrupt.png";
  std::ofstream(corrupt) << "\x89PNG\r\n\x1a\n this is not really a png";
  auto render = [](const std::string& image_field, std::vector<std::string>& warnings) {
    Harness h("productoverlay");
    g_object_set(h.element(), "fade-duration", 0u, nullptr);
    set_scene(h, scene_json({card_json("pear", image_field)}));
    const GstVideoInfo info = h.set_video_caps("I420", 320, 240);
    auto in = make_frame(info, 0);
    auto out = h.push_pull(in.get());
    warnings = h.take_warnings();
    REQUIRE(h.take_element_messages(kCardMessage).size() == 1);
    return std::pair{info, std::move(out)};
  };
  std::vector<std::string> warnings;
  auto [info, no_image] = render("", warnings);
  CHECK(warnings.empty());
  auto [info2, missing] = render(R"("image":"/nonexistent/pear.png")", warnings);
  CHECK(any_contains(warnings, "drawn without its picture"));
  CHECK(any_contains(warnings, "/nonexistent/pear.png"));
  auto [info3, broken] = render(R"("image":")" + corrupt + "\"", warnings);
  CHECK(any_contains(warnings, "drawn without its picture"));
  // Both draw exactly the card without a picture.
  CHECK(diff_frames(info, no_image.get(), missing.get(), {}).changed_outside == 0);
  CHECK(diff_frames(info, no_image.get(), broken.get(), {}).changed_outside == 0);
}

TEST_CASE("PNG and JPEG product pictures are drawn inside the card", "[productoverlay]") {
  TempDir dir;
  const std::string png = dir.path() + "/pear.png";
  const std::string jpeg = dir.path() + "/pear.jpg";
  write_test_png(png, 300);
  GError* error = nullptr;
  GdkPixbuf* pixbuf = gdk_pixbuf_new_from_file(png.c_str(), &error);
  REQUIRE(pixbuf);
  REQUIRE(gdk_pixbuf_save(pixbuf, jpeg.c_str(), "jpeg", &error, "quality", "90", nullptr));
  g_object_unref(pixbuf);

  auto render = [](const std::string& image_field) {
    Harness h("productoverlay");
    g_object_set(h.element(), "fade-duration", 0u, nullptr);
    set_scene(h, scene_json({card_json("pear", image_field)}));
    const GstVideoInfo info = h.set_video_caps("I420", 640, 360);
    auto in = make_frame(info, 0);
    auto out = h.push_pull(in.get());
    CHECK(h.take_warnings().empty());
    auto messages = h.take_element_messages(kCardMessage);
    REQUIRE(messages.size() == 1);
    return std::tuple{info, std::move(out), rect_of(messages[0].get())};
  };
  auto [info, without, card] = render("");
  const auto g = harvest::livecommerce::card_geometry(card.width, card.height);
  const CardRect picture{card.x + g.image.x, card.y + g.image.y, g.image.width, g.image.height};
  for (const auto& path : {png, jpeg}) {
    auto [info2, with, card2] = render(R"("image":")" + path + "\"");
    INFO(path);
    CHECK(diff_in_rect(info, without.get(), with.get(), picture) >
          static_cast<std::size_t>(picture.width * picture.height) / 2);
    CHECK(diff_frames(info, without.get(), with.get(), {picture}).changed_outside == 0);
  }
}

TEST_CASE("show-card, update-card and hide-card drive the scene", "[productoverlay]") {
  Harness h("productoverlay");
  g_object_set(h.element(), "fade-duration", 0u, nullptr);
  const GstVideoInfo info = h.set_video_caps("BGRA", 320, 240);
  REQUIRE(emit(h, "show-card", card_json("pear").c_str()));
  REQUIRE(emit(h, "show-card", card_json("crab", R"("slot":"left")").c_str()));
  REQUIRE(emit(h, "update-card", R"({"product_id":"crab","stock":0})"));  // sold out badge
  auto in = make_frame(info, at(0));
  auto out = h.push_pull(in.get());
  auto messages = h.take_element_messages(kCardMessage);
  REQUIRE(messages.size() == 2);
  std::vector<CardRect> rects{rect_of(messages[0].get()), rect_of(messages[1].get())};
  CHECK(diff_frames(info, in.get(), out.get(), rects).changed_outside == 0);

  REQUIRE(emit(h, "hide-card", nullptr));  // no id: every card
  auto in1 = make_frame(info, at(1));
  auto out1 = h.push_pull(in1.get());
  CHECK(h.take_element_messages(kCardMessage).size() == 2);
  CHECK(diff_frames(info, in1.get(), out1.get(), {}).changed_outside == 0);
}

TEST_CASE("cards in every slot fit portrait and landscape frames inside safe margins", "[productoverlay]") {
  const auto [width, height] = GENERATE(std::pair{360, 640}, std::pair{640, 360});
  Harness h("productoverlay");
  g_object_set(h.element(), "fade-duration", 0u, nullptr);
  set_scene(h, scene_json({card_json("a", R"("slot":"bottom")"), card_json("b", R"("slot":"top")"),
                           card_json("c", R"("slot":"left")"), card_json("d", R"("slot":"right")")}));
  const GstVideoInfo info = h.set_video_caps("I420", width, height);
  auto in = make_frame(info, 0);
  auto out = h.push_pull(in.get());
  auto messages = h.take_element_messages(kCardMessage);
  REQUIRE(messages.size() == 4);
  std::vector<CardRect> rects;
  for (const auto& m : messages) {
    const CardRect r = rect_of(m.get());
    INFO(string_field(m.get(), "slot") << " " << r.x << "," << r.y << " " << r.width << "x" << r.height);
    CHECK(r.x >= width / 20);
    CHECK(r.y >= height / 20);
    CHECK(r.x + r.width <= width - width / 20);
    CHECK(r.y + r.height <= height - height / 20);
    CHECK(r.width == 2 * r.height);
    rects.push_back(r);
  }
  CHECK(diff_frames(info, in.get(), out.get(), rects).changed_outside == 0);
}

TEST_CASE("the overlay composition meta is attached instead of blending when downstream renders it",
          "[productoverlay]") {
  Harness h("productoverlay");
  g_object_set(h.element(), "fade-duration", 0u, nullptr);
  gst_harness_set_sink_caps_str(h.get(),
                                "video/x-raw(memory:SystemMemory,meta:GstVideoOverlayComposition),"
                                "format=I420,width=320,height=240,framerate=30/1");
  gst_harness_add_propose_allocation_meta(h.get(), GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, nullptr);
  set_scene(h, scene_json({card_json("pear", R"("sale_ends_at":30)")}));
  const GstVideoInfo info = h.set_video_caps("I420", 320, 240);
  auto in = make_frame(info, 0);
  auto out = h.push_pull(in.get());
  auto messages = h.take_element_messages(kCardMessage);
  REQUIRE(messages.size() == 1);
  const CardRect rect = rect_of(messages[0].get());

  CHECK(diff_frames(info, in.get(), out.get(), {}).changed_outside == 0);  // pixels untouched
  GstVideoOverlayCompositionMeta* meta = gst_buffer_get_video_overlay_composition_meta(out.get());
  REQUIRE(meta != nullptr);
  REQUIRE(gst_video_overlay_composition_n_rectangles(meta->overlay) == 2);  // card + countdown
  GstVideoOverlayRectangle* card = gst_video_overlay_composition_get_rectangle(meta->overlay, 0);
  gint x = 0, y = 0;
  guint w = 0, hgt = 0;
  gst_video_overlay_rectangle_get_render_rectangle(card, &x, &y, &w, &hgt);
  CHECK(CardRect{x, y, static_cast<int>(w), static_cast<int>(hgt)}.x == rect.x);
  CHECK(y == rect.y);
  CHECK(static_cast<int>(w) == rect.width);
  CHECK(static_cast<int>(hgt) == rect.height);

  // Blending the attached composition gives the same picture the element blends itself.
  Harness blend("productoverlay");
  g_object_set(blend.element(), "fade-duration", 0u, nullptr);
  set_scene(blend, scene_json({card_json("pear", R"("sale_ends_at":30)")}));
  blend.set_video_caps("I420", 320, 240);
  auto blended = blend.push_pull(in.get());
  BufferPtr composed(gst_buffer_copy_deep(out.get()));
  GstVideoFrame frame;
  REQUIRE(gst_video_frame_map(&frame, &info, composed.get(), GST_MAP_READWRITE));
  gst_video_overlay_composition_blend(meta->overlay, &frame);
  gst_video_frame_unmap(&frame);
  const FrameDiff diff = diff_frames(info, blended.get(), composed.get(), {rect});
  CHECK(diff.changed_outside == 0);
  // GStreamer's generic blender rounds (and subsamples chroma) a little differently.
  // Only antialiased edges differ by more than a few levels.
  const auto card_bytes = static_cast<std::size_t>(rect.width * rect.height) * 3 / 2;
  CHECK(bytes_differing_by_more_than(info, blended.get(), composed.get(), 4) < card_bytes / 10);
}

TEST_CASE("the scene can be changed from another thread while frames flow", "[productoverlay]") {
  Harness h("productoverlay");
  const GstVideoInfo info = h.set_video_caps("I420", 320, 240);
  std::atomic<bool> done{false};
  std::thread control([&h, &done] {
    for (int i = 0; i < 60 && !done; ++i) {
      set_scene(h, scene_json({card_json("pear", i % 2 ? R"("slot":"top")" : R"("sale_ends_at":3)")}));
      gboolean ok = FALSE;
      g_signal_emit_by_name(h.element(), "update-card", R"({"product_id":"pear","stock":7})", &ok);
      if (i % 3 == 0) g_signal_emit_by_name(h.element(), "hide-card", "pear", &ok);
    }
  });
  for (int i = 0; i < 60; ++i) {
    auto in = make_frame(info, at(i));
    auto out = h.push_pull(in.get());
    REQUIRE(out);
  }
  done = true;
  control.join();
  gchar* scene = nullptr;
  g_object_get(h.element(), "scene", &scene, nullptr);
  CHECK(std::string(scene).rfind("{\"cards\":", 0) == 0);
  g_free(scene);
}

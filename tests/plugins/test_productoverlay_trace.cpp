// productoverlay with issue 18's fields (GstHarness): a card with a trace_url is laid out with
// its QR panel and draws the QR there; update-card "trace_url": null takes the QR away on the
// very next frame and the card is 2:1 again; nothing outside the cards is touched.
#include <catch2/catch.hpp>

#include "card_layout.h"
#include "plugins/element_support.h"

using namespace harvest::test;

namespace {

constexpr const char* kCardMessage = "productoverlay-card";
constexpr const char* kTracedCard =
    R"({"product_id":"pear","title":"隰县玉露香梨","price":3990,"stock":120,"origin_place":"隰县",)"
    R"("harvest_date":"2026-09-12","trace_url":"https://192.168.1.20:8443/trace/XJ-2026-0001"})";

}  // namespace

TEST_CASE("a card with a trace URL carries its QR panel until update-card removes it", "[productoverlay]") {
  Harness h("productoverlay");
  g_object_set(h.element(), "fade-duration", 0u, nullptr);
  g_object_set(h.element(), "scene", (std::string(R"({"cards":[)") + kTracedCard + "]}").c_str(), nullptr);
  const GstVideoInfo info = h.set_video_caps("I420", 720, 1280);

  auto in = make_frame(info, 0);
  auto out = h.push_pull(in.get());
  auto shown = h.take_element_messages(kCardMessage);
  REQUIRE(shown.size() == 1);
  const CardRect wide = rect_of(shown[0].get());
  CHECK(wide.height == 200);
  CHECK(wide.width == harvest::livecommerce::qr_card_width(wide.height));
  CHECK(diff_frames(info, in.get(), out.get(), {wide}).changed_outside == 0);
  const auto g = harvest::livecommerce::card_geometry(wide.width, wide.height, true);
  const CardRect panel{wide.x + g.qr.x, wide.y + g.qr.y, g.qr.width, g.qr.height};
  const std::size_t qr_ink = dark_pixels(info, out.get(), panel);
  // A QR is about half dark: thousands of pixels in a 176 px square.
  CHECK(qr_ink > static_cast<std::size_t>(panel.width * panel.height) / 5);
  CHECK(h.take_warnings().empty());

  gboolean ok = FALSE;
  g_signal_emit_by_name(h.element(), "update-card", R"({"product_id":"pear","trace_url":null})", &ok);
  REQUIRE(ok);
  auto next = make_frame(info, kFrame);
  auto after = h.push_pull(next.get());
  // The card is 2:1 again, centred: the old panel area is video again (it held the QR).
  const int plain_w = 2 * wide.height;
  const CardRect plain{(720 - plain_w) / 2 / 2 * 2, wide.y, plain_w, wide.height};
  CHECK(diff_frames(info, next.get(), after.get(), {plain}).changed_outside == 0);
  CHECK(diff_in_rect(info, next.get(), after.get(), plain) >
        static_cast<std::size_t>(plain_w * wide.height) / 2);
}

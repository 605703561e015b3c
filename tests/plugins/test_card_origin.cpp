// Issue 18 on the burned-in card: the origin line under the title and the QR of the trace
// page. The QR encoder's structure and error correction (jsQR decodes its symbols in
// tests/plugins/js/qr_jsqr.mjs), the scene fields, the layout with a QR panel, and the
// rendered card read back pixel by pixel.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>

#include "card_layout.h"
#include "card_picture_cache.h"
#include "card_renderer.h"
#include "card_text.h"
#include "qr_code.h"
#include "scene.h"

using namespace harvest::livecommerce;

namespace {

const std::string kTraceUrl = "https://192.168.1.20:8443/trace/XJ-2026-0001";

Card origin_card() {
  return std::get<Card>(parse_card(R"({"product_id":"pear","title":"隰县玉露香梨 5斤装","price":3990,
    "stock":120,"origin_place":"隰县","harvest_date":"2026-09-12",
    "trace_url":"https://192.168.1.20:8443/trace/XJ-2026-0001"})"));
}

bool dark_pixel(const CardBitmap& b, int x, int y) {
  const std::uint8_t* p = b.pixel(x, y);
  return p[0] < 96 && p[1] < 96 && p[2] < 96 && p[3] > 200;
}

// Pixels whose colour differs between two equally sized bitmaps inside `r`.
int differing(const CardBitmap& a, const CardBitmap& b, const Rect& r) {
  int n = 0;
  for (int y = r.y; y < r.y + r.height; ++y)
    for (int x = r.x; x < r.x + r.width; ++x)
      for (int c = 0; c < 4; ++c)
        if (std::abs(a.pixel(x, y)[c] - b.pixel(x, y)[c]) > 40) {
          ++n;
          break;
        }
  return n;
}

}  // namespace

TEST_CASE("Reed-Solomon: the 1-M codewords of HELLO WORLD (ISO 18004 Annex I / thonky.com)", "[qr]") {
  const std::vector<std::uint8_t> data = {32, 91, 11,  120, 209, 114, 220, 77,
                                          67, 64, 236, 17,  236, 17,  236, 17};
  CHECK(reed_solomon_remainder(data, 10) ==
        std::vector<std::uint8_t>{196, 35, 39, 119, 235, 215, 231, 226, 93, 23});
}

TEST_CASE("QR: smallest version, finder patterns, format bits naming level M and the mask", "[qr]") {
  CHECK(QrCode::byte_capacity(1) == 14);
  CHECK(QrCode::byte_capacity(4) == 62);
  CHECK(QrCode::byte_capacity(10) == 213);
  CHECK(QrCode::encode(std::string(14, 'a'))->version() == 1);
  CHECK(QrCode::encode(std::string(15, 'a'))->version() == 2);
  CHECK(QrCode::encode(std::string(213, 'a'))->version() == 10);
  CHECK_FALSE(QrCode::encode(std::string(214, 'a')).has_value());
  CHECK_FALSE(QrCode::encode("x", 8).has_value());

  auto qr = QrCode::encode(kTraceUrl);
  REQUIRE(qr);
  CHECK(qr->version() == 4);
  CHECK(qr->size() == 33);
  // The three finder patterns: dark ring, light ring, dark 3x3 centre.
  for (auto [cx, cy] : {std::pair{3, 3}, std::pair{qr->size() - 4, 3}, std::pair{3, qr->size() - 4}}) {
    CHECK(qr->dark(cx, cy));
    CHECK(qr->dark(cx - 3, cy - 3));
    CHECK_FALSE(qr->dark(cx - 2, cy));
    CHECK(qr->dark(cx + 1, cy + 1));
  }
  // Format information around the top-left finder (bits 14..0, XOR 0x5412): level M is 00,
  // then the mask, then a BCH code whose remainder is 0.
  int bits = 0;
  for (int i = 0; i <= 5; ++i) bits |= qr->dark(8, i) << i;
  bits |= qr->dark(8, 7) << 6;
  bits |= qr->dark(8, 8) << 7;
  bits |= qr->dark(7, 8) << 8;
  for (int i = 9; i < 15; ++i) bits |= qr->dark(14 - i, 8) << i;
  bits ^= 0x5412;
  CHECK((bits >> 13) == 0);  // level M
  CHECK(((bits >> 10) & 7) == qr->mask());
  int rem = bits;
  for (int i = 14; i >= 10; --i)
    if ((rem >> i) & 1) rem ^= 0x537 << (i - 10);
  CHECK(rem == 0);
  // Each forced mask gives a different symbol for the same text.
  CHECK(QrCode::encode(kTraceUrl, 0)->dark(11, 10) !=
        QrCode::encode(kTraceUrl, 1)->dark(11, 10));  // mask 1 flips it, 0 does not
}

TEST_CASE("scene: origin_place, harvest_date and trace_url parse, round-trip and clear", "[scene]") {
  const Card c = origin_card();
  CHECK(c.origin_place == "隰县");
  CHECK(c.harvest_date == "2026-09-12");
  CHECK(c.trace_url == kTraceUrl);
  CardScene scene;
  scene.cards.push_back(c);
  CHECK(std::get<CardScene>(parse_scene(scene_to_json(scene))) == scene);

  auto error_of = [](const std::string& fields) {
    auto r = parse_card(R"({"product_id":"a",)" + fields + "}");
    REQUIRE(std::holds_alternative<ParseError>(r));
    return std::get<ParseError>(r).message;
  };
  CHECK(error_of(R"("harvest_date":"2026-9-12")") == "harvest_date: expected a date as YYYY-MM-DD");
  CHECK(error_of(R"("harvest_date":"2026-02-29")") == "harvest_date: expected a date as YYYY-MM-DD");
  CHECK(std::holds_alternative<Card>(parse_card(R"({"product_id":"a","harvest_date":"2028-02-29"})")));
  CHECK(error_of(R"("trace_url":"/trace/XJ")") == "trace_url: expected an absolute http:// or https:// URL");
  CHECK(error_of(R"("trace_url":"http://a b")") == "trace_url: contains a space or a control character");
  CHECK(error_of(R"("trace_url":"http://)" + std::string(210, 'x') + "\"") ==
        "trace_url: longer than 213 bytes (does not fit the QR)");
  CHECK(error_of(R"("origin_place":7)") == "origin_place: expected a string");

  // update-card: null removes the line's parts and the QR; absent keeps them.
  auto kept = std::get<Card>(apply_card_update(c, R"({"product_id":"pear","price":1990})"));
  CHECK(kept.trace_url == kTraceUrl);
  CHECK(kept.same_picture_as(c) == false);  // the price changed
  auto cleared = std::get<Card>(apply_card_update(
      c, R"({"product_id":"pear","origin_place":null,"harvest_date":null,"trace_url":null})"));
  CHECK(cleared.origin_place.empty());
  CHECK(cleared.harvest_date.empty());
  CHECK(cleared.trace_url.empty());
  CHECK_FALSE(cleared.same_picture_as(c));
  // The picture cache tells the two apart.
  CHECK(CardPictureCache::key(c, 400, 200, Locale::kZhCN) !=
        CardPictureCache::key(cleared, 400, 200, Locale::kZhCN));
  Card other_code = c;
  other_code.trace_url += "2";
  CHECK(CardPictureCache::key(c, 400, 200, Locale::kZhCN) !=
        CardPictureCache::key(other_code, 400, 200, Locale::kZhCN));
}

TEST_CASE("origin line: place as typed and the harvest date per locale", "[text]") {
  const CardLabels zh{Locale::kZhCN}, en{Locale::kEn};
  CHECK(zh.origin("隰县", "2026-09-12") == "隰县 · 采摘于 9月12日");
  CHECK(en.origin("隰县", "2026-09-12") == "隰县 · picked 12 Sep");
  CHECK(en.origin("Xi County", "2026-12-01") == "Xi County · picked 1 Dec");
  CHECK(zh.origin("", "2026-01-05") == "采摘于 1月5日");
  CHECK(zh.origin("上庄村", "") == "上庄村");
  CHECK(zh.origin("", "").empty());
  CHECK(en.origin("隰县", "someday") == "隰县");
}

TEST_CASE("layout: a card with a QR gets a square panel, the QR's modules are >= 3 px at 720p", "[layout]") {
  const auto qr = QrCode::encode(kTraceUrl);
  for (auto [w, h] :
       {std::pair{1280, 720}, std::pair{720, 1280}, std::pair{1920, 1080}, std::pair{1080, 1920}}) {
    INFO(w << "x" << h);
    for (Slot slot : {Slot::kBottom, Slot::kTop, Slot::kLeft, Slot::kRight}) {
      const CardSize plain = card_size(w, h, slot);
      const CardSize wide = card_size(w, h, slot, true);
      CHECK(wide.width == qr_card_width(wide.height));
      CHECK(wide.height <= plain.height);  // smaller only where the wider shape would not fit
      if (slot == Slot::kBottom || slot == Slot::kTop) CHECK(wide.height == plain.height);
      CHECK(wide.width % 2 == 0);
      CHECK(wide.height % 2 == 0);
      const CardGeometry g = card_geometry(wide.width, wide.height, true);
      const CardGeometry p = card_geometry(plain.width, plain.height);
      CHECK(p.qr.empty());
      CHECK(g.qr.width == g.image.width);
      CHECK(g.qr.x + g.qr.width + g.padding == wide.width);
      CHECK(g.text.x + g.text.width + g.padding == g.qr.x);  // text stops a padding short of it
      if (wide.height == plain.height) CHECK(g.text.width == p.text.width);  // the same text column
      // Module size (with a 2-module quiet zone) at 720p for the top and bottom slots; portrait
      // side columns are narrow and their cards smaller (2 px at 720p, 3 px at 1080p).
      if (slot == Slot::kBottom || slot == Slot::kTop || w > h)
        CHECK(g.qr.width / (qr->size() + 4) >= (std::min(w, h) >= 720 ? 3 : 2));
    }
    // Mixed shapes in every slot: inside the frame, no overlap.
    const std::vector<CardShape> shapes{{Slot::kBottom, true},
                                        {Slot::kTop, false},
                                        {Slot::kLeft, true},
                                        {Slot::kRight, true},
                                        {Slot::kBottom, false}};
    const auto rects = layout_cards(w, h, shapes);
    for (std::size_t i = 0; i < 4; ++i) REQUIRE(rects[i].has_value());
    for (std::size_t i = 0; i < rects.size(); ++i) {
      if (!rects[i]) continue;
      const Rect& r = *rects[i];
      CHECK(r.x >= w / 20);
      CHECK(r.x + r.width <= w - w / 20);
      CHECK(r.y + r.height <= h - h / 20);
      CHECK(r.width == card_size(w, h, shapes[i].slot, shapes[i].with_qr).width);
      for (std::size_t j = 0; j < i; ++j)
        if (rects[j])
          CHECK_FALSE((r.x < rects[j]->x + rects[j]->width && rects[j]->x < r.x + r.width &&
                       r.y < rects[j]->y + rects[j]->height && rects[j]->y < r.y + r.height));
    }
  }
  // Cards without a QR are where they always were.
  CHECK(*layout_cards(1920, 1080, {CardShape{Slot::kBottom, false}})[0] == Rect{660, 726, 600, 300});
}

TEST_CASE("rendered card: the origin line under the title and a QR that reads back as the URL", "[render]") {
  CardRenderer renderer(Locale::kZhCN);
  const Card with = origin_card();
  Card without = with;
  without.origin_place.clear();
  without.harvest_date.clear();
  without.trace_url.clear();
  // 720p: the bottom card is 200 px high.
  const CardSize wide = card_size(1280, 720, Slot::kBottom, true);
  const CardSize plain = card_size(1280, 720, Slot::kBottom);
  REQUIRE(wide.height == 200);

  using Clock = std::chrono::steady_clock;
  auto timed = [&](const Card& card, CardSize size, double& ms) {
    renderer.render_card(card, size.width, size.height);  // fonts and caches warm
    const auto t0 = Clock::now();
    constexpr int kRuns = 20;
    CardPicture pic;
    for (int i = 0; i < kRuns; ++i) pic = renderer.render_card(card, size.width, size.height);
    ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / kRuns;
    return pic;
  };
  double ms_with = 0, ms_without = 0;
  const CardPicture a = timed(with, wide, ms_with);
  const CardPicture b = timed(without, plain, ms_without);
  std::printf(
      "render_card at 720p (ASan build when run by ctest): with QR + origin line %.2f ms (%dx%d), "
      "without %.2f ms (%dx%d)\n",
      ms_with, wide.width, wide.height, ms_without, plain.width, plain.height);
  REQUIRE(a.bitmap->width == wide.width);
  CHECK(a.qr_error.empty());
  CHECK(a.missing_glyphs == 0);

  // The QR: find its dark bounding box in the panel and sample each module's centre.
  const CardGeometry g = card_geometry(wide.width, wide.height, true);
  int x0 = g.qr.x + g.qr.width, y0 = g.qr.y + g.qr.height, x1 = -1, y1 = -1;
  for (int y = g.qr.y; y < g.qr.y + g.qr.height; ++y)
    for (int x = g.qr.x; x < g.qr.x + g.qr.width; ++x)
      if (dark_pixel(*a.bitmap, x, y)) {
        x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
      }
  const auto qr = QrCode::encode(kTraceUrl);
  const int span = x1 - x0 + 1;
  REQUIRE(span == y1 - y0 + 1);
  REQUIRE(span % qr->size() == 0);
  const int module = span / qr->size();
  CHECK(module >= 3);
  CHECK(x0 - g.qr.x >= 2 * module);  // quiet zone inside the panel
  CHECK(g.qr.x + g.qr.width - 1 - x1 >= 2 * module);
  int mismatches = 0;
  for (int y = 0; y < qr->size(); ++y)
    for (int x = 0; x < qr->size(); ++x)
      mismatches +=
          dark_pixel(*a.bitmap, x0 + x * module + module / 2, y0 + y * module + module / 2) != qr->dark(x, y);
  CHECK(mismatches == 0);

  // The origin line: the band under the first title line differs from the card without it;
  // the picture column does not.
  const Rect band{g.text.x, g.text.y + static_cast<int>(wide.height * 0.15), g.text.width,
                  static_cast<int>(wide.height * 0.10)};
  const int band_diff = differing(*a.bitmap, *b.bitmap, band);
  INFO("origin band pixels differing: " << band_diff);
  CHECK(band_diff > 100);
  CHECK(differing(*a.bitmap, *b.bitmap, g.image) == 0);
  // No QR on the card without a trace URL: no panel, the 2:1 card as before.
  CHECK(b.bitmap->width == 2 * b.bitmap->height);
}

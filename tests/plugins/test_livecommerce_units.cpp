// Pure parts of the livecommerce plugin: scene JSON, card text, layout, SEI
// builder/parser and the blend kernels.
#include <catch2/catch.hpp>

#include "card_blender.h"
#include "card_layout.h"
#include "card_text.h"
#include "scene.h"
#include "sei.h"

using namespace harvest::livecommerce;

TEST_CASE("parse_scene reads the documented scene JSON", "[scene]") {
  auto result =
      parse_scene(R"({"cards": [{"product_id": "pear-yulu", "slot": "bottom", "title": "隰县玉露香梨 5斤装",
      "price": 3990, "currency": "CNY", "image": "/path/pear.png", "stock": 120, "sold": 35,
      "sale_ends_at": 95.0, "unknown": {"ignored": true}}]})");
  REQUIRE(std::holds_alternative<CardScene>(result));
  const auto& scene = std::get<CardScene>(result);
  REQUIRE(scene.cards.size() == 1);
  const Card& c = scene.cards[0];
  CHECK(c.product_id == "pear-yulu");
  CHECK(c.slot == Slot::kBottom);
  CHECK(c.title == "隰县玉露香梨 5斤装");
  CHECK(c.price_fen == 3990);
  CHECK(c.image == "/path/pear.png");
  CHECK(c.stock == 120);
  CHECK(c.sold == 35);
  CHECK(c.sale_ends_at == 95.0);
  CHECK(std::get<CardScene>(parse_scene(R"({"cards": []})")).cards.empty());
  // Round trip through the property getter's serialisation.
  CHECK(std::get<CardScene>(parse_scene(scene_to_json(scene))) == scene);
}

TEST_CASE("parse_scene names the offending field", "[scene]") {
  auto error_of = [](const char* json) {
    auto r = parse_scene(json);
    REQUIRE(std::holds_alternative<ParseError>(r));
    return std::get<ParseError>(r).message;
  };
  CHECK(error_of("{") == "not valid JSON");
  CHECK(error_of("[]") == "expected a JSON object");
  CHECK(error_of("{}") == "cards: required");
  CHECK(error_of(R"({"cards": [{"title": "x"}]})") == "cards[0].product_id: required, a non-empty string");
  CHECK(error_of(R"({"cards": [{"product_id": "a", "price": 39.9}]})") ==
        "cards[0].price: expected a non-negative integer");
  CHECK(error_of(R"({"cards": [{"product_id": "a", "stock": -1}]})") ==
        "cards[0].stock: must not be negative");
  CHECK(error_of(R"({"cards": [{"product_id": "a", "slot": "middle"}]})") ==
        "cards[0].slot: expected bottom, top, left or right");
  CHECK(error_of(R"({"cards": [{"product_id": "a", "sale_ends_at": "soon"}]})") ==
        "cards[0].sale_ends_at: expected a number of seconds");
  CHECK(error_of(R"({"cards": [{"product_id": "a"}, {"product_id": "a"}]})") ==
        "cards[1].product_id: duplicated");
  CHECK(error_of(R"({"cards": [1]})") == "cards[0]: expected an object");
}

TEST_CASE("apply_card_update changes only the given fields", "[scene]") {
  const Card card =
      std::get<Card>(parse_card(R"({"product_id":"a","title":"t","price":100,"sale_ends_at":9})"));
  auto updated = apply_card_update(card, R"({"product_id":"a","price":90,"sale_ends_at":null,"stock":3})");
  REQUIRE(std::holds_alternative<Card>(updated));
  const Card& u = std::get<Card>(updated);
  CHECK(u.title == "t");
  CHECK(u.price_fen == 90);
  CHECK(u.stock == 3);
  CHECK_FALSE(u.sale_ends_at.has_value());
  CHECK(std::holds_alternative<ParseError>(apply_card_update(card, R"({"product_id":"b","price":1})")));
}

TEST_CASE("card text: prices from fen, countdown rounding, labels", "[text]") {
  CHECK(format_price(3990, "CNY") == "¥39.90");
  CHECK(format_price(5, "CNY") == "¥0.05");
  CHECK(format_price(129900, "USD") == "$1299.00");
  CHECK(format_price(100, "HKD") == "HKD 1.00");
  CHECK(seconds_left(0, seconds_to_ns(95.0)) == 95);
  CHECK(seconds_left(seconds_to_ns(90.9), seconds_to_ns(95.0)) == 5);
  CHECK(seconds_left(seconds_to_ns(91.0), seconds_to_ns(95.0)) == 4);
  CHECK(seconds_left(seconds_to_ns(96.0), seconds_to_ns(95.0)) == 0);
  CHECK(format_countdown(95) == "01:35");
  CHECK(format_countdown(0) == "00:00");
  CHECK(format_countdown(7500) == "125:00");
  CHECK(CardLabels{Locale::kEn}.bought(35) == "35 bought");
  CHECK(CardLabels{Locale::kZhCN}.stock(120) == "剩 120 件");
}

TEST_CASE("layout: even rectangles inside safe margins, portrait and landscape", "[layout]") {
  for (auto [w, h] :
       {std::pair{1920, 1080}, std::pair{1080, 1920}, std::pair{1280, 720}, std::pair{720, 1280}}) {
    const std::vector<Slot> slots{Slot::kBottom, Slot::kTop, Slot::kLeft, Slot::kRight, Slot::kBottom};
    const auto rects = layout_cards(w, h, slots);
    INFO(w << "x" << h);
    // One card per slot always fits; a second bottom card only where there is room.
    for (std::size_t i = 0; i < 4; ++i) REQUIRE(rects[i].has_value());
    for (std::size_t i = 0; i < rects.size(); ++i) {
      if (!rects[i]) continue;
      const Rect& r = *rects[i];
      CHECK(r.x % 2 == 0);
      CHECK(r.y % 2 == 0);
      CHECK(r.width % 2 == 0);
      CHECK(r.height % 2 == 0);
      CHECK(r.x >= w / 20);
      CHECK(r.y >= h / 20);
      CHECK(r.x + r.width <= w - w / 20);
      CHECK(r.y + r.height <= h - h / 20);
      for (std::size_t j = 0; j < i; ++j) {
        if (!rects[j]) continue;
        const Rect& o = *rects[j];
        const bool overlap =
            r.x < o.x + o.width && o.x < r.x + r.width && r.y < o.y + o.height && o.y < r.y + r.height;
        CHECK_FALSE(overlap);
      }
    }
  }
  // The benchmark's card: 600x300 at the bottom of a 1080p frame.
  CHECK(*layout_cards(1920, 1080, {Slot::kBottom})[0] == Rect{660, 726, 600, 300});
  // Too many cards for a slot: the extra ones do not fit.
  CHECK_FALSE(layout_cards(1920, 1080, std::vector<Slot>(5, Slot::kBottom))[4].has_value());
  // A landscape bottom stack stops before it would cover a side card.
  CHECK_FALSE(layout_cards(1920, 1080, {Slot::kLeft, Slot::kBottom, Slot::kBottom})[2].has_value());
  // Portrait frames are tall enough for two.
  CHECK(layout_cards(1080, 1920, {Slot::kLeft, Slot::kBottom, Slot::kBottom})[2].has_value());
}

TEST_CASE("SEI cue NAL units round-trip through byte-stream and avc access units", "[sei]") {
  const Cue cue{"pear-yulu", "shown"};
  const auto nal = build_cue_sei_nal(cue);
  CHECK(nal[0] == 0x06);
  CHECK(parse_cue_sei_nal(nal) == std::vector<Cue>{cue});
  CHECK(cue_to_json(cue) == R"({"product_id":"pear-yulu","action":"shown"})");

  // AUD, SPS-like, IDR slice with 4- and 3-byte start codes.
  const std::vector<std::uint8_t> au{0,    0, 0, 1, 0x09, 0x10, 0,    0,    0,   1,
                                     0x67, 1, 2, 0, 0,    1,    0x65, 0x88, 0x80};
  auto with = insert_sei(au, AccessUnitFormat{}, nal);
  REQUIRE(with);
  const auto units = split_nal_units(*with, AccessUnitFormat{});
  REQUIRE(units.size() == 4);
  CHECK(((*with)[units[2].offset] & 0x1f) == 6);  // before the slice, after SPS
  CHECK(((*with)[units[3].offset] & 0x1f) == 5);
  CHECK(find_cues(*with, AccessUnitFormat{}) == std::vector<Cue>{cue});

  const std::vector<std::uint8_t> avc{0, 0, 0, 2, 0x09, 0x10, 0, 0, 0, 3, 0x65, 0x88, 0x80};
  const AccessUnitFormat avc_format{H264Framing::kAvc, 4};
  auto avc_with = insert_sei(avc, avc_format, nal);
  REQUIRE(avc_with);
  CHECK(find_cues(*avc_with, avc_format) == std::vector<Cue>{cue});
  CHECK(avc_with->size() == avc.size() + 4 + nal.size());
}

TEST_CASE("emulation prevention bytes are added and removed", "[sei]") {
  const std::vector<std::uint8_t> rbsp{0, 0, 0, 0, 0, 1, 0, 0, 3, 0xff};
  const auto escaped = escape_rbsp(rbsp);
  CHECK(escaped == std::vector<std::uint8_t>{0, 0, 3, 0, 0, 3, 0, 1, 0, 0, 3, 3, 0xff});
  CHECK(unescape_rbsp(escaped) == rbsp);
  // A product id full of zero bytes still survives (JSON escapes them, but the
  // UUID and sizes can produce 00 00 sequences).
  const Cue odd{std::string(300, 'x'), "hidden"};
  CHECK(parse_cue_sei_nal(build_cue_sei_nal(odd)) == std::vector<Cue>{odd});
}

TEST_CASE("blending an opaque card is a copy; transparent pixels are untouched", "[blend]") {
  CardBitmap bitmap;
  bitmap.width = 4;
  bitmap.height = 2;
  bitmap.stride = 16;
  bitmap.pixels.assign(32, 0);
  // Left half opaque white, right half fully transparent.
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 2; ++x) {
      std::fill_n(bitmap.pixels.begin() + y * 16 + x * 4, 4, std::uint8_t{255});
    }
  }
  FrameFormat gray;
  gray.planes.push_back(PlaneFormat{1, 0, 0, {Channel::kY}});
  gray.matrix.full_range = true;
  std::vector<std::uint8_t> frame(8 * 4, 77);
  FramePlanes planes;
  planes.data[0] = frame.data();
  planes.stride[0] = 8;
  planes.width = 8;
  planes.height = 4;
  PreparedCard(bitmap, gray).blend(planes, 2, 1, 255);
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 8; ++x) {
      const bool card = y >= 1 && y < 3 && x >= 2 && x < 4;
      INFO(x << "," << y);
      CHECK(frame[static_cast<std::size_t>(y * 8 + x)] == (card ? 255 : 77));
    }
  }
  // Half opacity: halfway between frame and card.
  std::fill(frame.begin(), frame.end(), 0);
  PreparedCard(bitmap, gray).blend(planes, 0, 0, 128);
  CHECK(frame[0] == 128);
  // Clipped at the frame's edge without touching memory outside.
  PreparedCard(bitmap, gray).blend(planes, 6, 3, 255);
  CHECK(frame[3 * 8 + 6] == 255);
  PreparedCard(bitmap, gray).blend(planes, -2, -1, 255);
}

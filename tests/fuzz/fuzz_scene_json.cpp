// libFuzzer target: the scene JSON parser and card updates must never crash,
// and whatever parses must survive a serialise/parse round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "scene.h"

using namespace harvest::livecommerce;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto scene = parse_scene(text);
  if (auto* parsed = std::get_if<CardScene>(&scene)) {
    auto again = parse_scene(scene_to_json(*parsed));
    if (!std::holds_alternative<CardScene>(again) || !(std::get<CardScene>(again) == *parsed)) std::abort();
  }
  auto card = parse_card(text);
  Card base;
  base.product_id = "pear";
  (void)apply_card_update(base, text);
  (void)parse_product_id(text);
  if (auto* c = std::get_if<Card>(&card)) (void)apply_card_update(*c, text);
  return 0;
}

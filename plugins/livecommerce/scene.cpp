#include "scene.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace harvest::livecommerce {
namespace {

using nlohmann::json;

// Scene JSON comes from the host console through the server; these bounds keep a
// broken or hostile client from making the streaming thread render megabytes.
constexpr std::size_t kMaxSceneBytes = 64 * 1024;
constexpr std::size_t kMaxCards = 16;
constexpr std::size_t kMaxTextBytes = 512;

json parse_object(std::string_view text, std::string& error) {
  if (text.size() > kMaxSceneBytes) {
    error = "JSON larger than 64 KiB";
    return {};
  }
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    error = "not valid JSON";
    return {};
  }
  if (!doc.is_object()) {
    error = "expected a JSON object";
    return {};
  }
  return doc;
}

// Each reader returns an error message (empty: fine) and writes the value when present.
std::string read_string(const json& obj, const char* key, const std::string& where, std::string& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return {};
  if (!it->is_string()) return where + key + ": expected a string";
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > kMaxTextBytes) return where + key + ": longer than 512 bytes";
  out = s;
  return {};
}

std::string read_count(const json& obj, const char* key, const std::string& where,
                       std::optional<std::int64_t>& out, bool null_clears) {
  auto it = obj.find(key);
  if (it == obj.end()) return {};
  if (it->is_null() && null_clears) {
    out.reset();
    return {};
  }
  if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(INT64_MAX / 1000)) return where + key + ": too large";
    out = static_cast<std::int64_t>(v);
    return {};
  }
  if (it->is_number_integer()) return where + key + ": must not be negative";
  return where + key + ": expected a non-negative integer";
}

std::string read_seconds(const json& obj, const char* key, const std::string& where,
                         std::optional<double>& out, bool null_clears) {
  auto it = obj.find(key);
  if (it == obj.end()) return {};
  if (it->is_null() && null_clears) {
    out.reset();
    return {};
  }
  if (!it->is_number()) return where + key + ": expected a number of seconds";
  const double v = it->get<double>();
  // A running time: non-negative and well inside what GstClockTime holds.
  if (!std::isfinite(v) || v < 0 || v > 1e9) return where + key + ": out of range";
  out = v;
  return {};
}

std::string read_slot(const json& obj, const std::string& where, Slot& out) {
  std::string name;
  if (auto err = read_string(obj, "slot", where, name); !err.empty()) return err;
  if (name.empty()) return {};
  auto slot = slot_from_name(name);
  if (!slot) return where + "slot: expected bottom, top, left or right";
  out = *slot;
  return {};
}

// Reads every card field present in `obj` into `card`. With `is_update`, null
// clears the optional fields.
std::string read_card_fields(const json& obj, const std::string& where, Card& card, bool is_update) {
  std::optional<std::int64_t> price = card.price_fen;
  for (const auto& err : {
           read_string(obj, "title", where, card.title),
           read_string(obj, "currency", where, card.currency),
           read_string(obj, "image", where, card.image),
           read_slot(obj, where, card.slot),
           read_count(obj, "price", where, price, false),
           read_count(obj, "stock", where, card.stock, is_update),
           read_count(obj, "sold", where, card.sold, is_update),
           read_seconds(obj, "sale_ends_at", where, card.sale_ends_at, is_update),
       }) {
    if (!err.empty()) return err;
  }
  card.price_fen = price.value_or(0);
  if (card.currency.empty() || card.currency.size() > 8) return where + "currency: expected an ISO 4217 code";
  return {};
}

std::string read_product_id(const json& obj, const std::string& where, std::string& out) {
  if (auto err = read_string(obj, "product_id", where, out); !err.empty()) return err;
  if (out.empty()) return where + "product_id: required, a non-empty string";
  if (out.size() > 128) return where + "product_id: longer than 128 bytes";
  return {};
}

std::string read_card(const json& obj, const std::string& where, Card& card) {
  if (!obj.is_object()) return where.substr(0, where.size() - 1) + ": expected an object";
  if (auto err = read_product_id(obj, where, card.product_id); !err.empty()) return err;
  return read_card_fields(obj, where, card, /*is_update=*/false);
}

}  // namespace

std::string_view slot_name(Slot slot) {
  switch (slot) {
    case Slot::kBottom:
      return "bottom";
    case Slot::kTop:
      return "top";
    case Slot::kLeft:
      return "left";
    case Slot::kRight:
      return "right";
  }
  return "bottom";
}

std::optional<Slot> slot_from_name(std::string_view name) {
  for (Slot s : {Slot::kBottom, Slot::kTop, Slot::kLeft, Slot::kRight}) {
    if (slot_name(s) == name) return s;
  }
  return std::nullopt;
}

bool Card::same_picture_as(const Card& other) const {
  // sale_ends_at only moves the countdown, which is its own small rectangle;
  // whether there is a countdown at all does change the card's layout.
  return product_id == other.product_id && slot == other.slot && title == other.title &&
         price_fen == other.price_fen && currency == other.currency && image == other.image &&
         stock == other.stock && sold == other.sold &&
         sale_ends_at.has_value() == other.sale_ends_at.has_value();
}

const Card* CardScene::find(std::string_view product_id) const {
  for (const auto& card : cards) {
    if (card.product_id == product_id) return &card;
  }
  return nullptr;
}

ParseResult<CardScene> parse_scene(std::string_view text) {
  std::string error;
  json doc = parse_object(text, error);
  if (!error.empty()) return ParseError{error};
  auto it = doc.find("cards");
  if (it == doc.end()) return ParseError{"cards: required"};
  if (!it->is_array()) return ParseError{"cards: expected an array"};
  if (it->size() > kMaxCards) return ParseError{"cards: more than 16 cards"};
  CardScene scene;
  for (std::size_t i = 0; i < it->size(); ++i) {
    Card card;
    const std::string where = "cards[" + std::to_string(i) + "].";
    if (auto err = read_card((*it)[i], where, card); !err.empty()) return ParseError{err};
    if (scene.find(card.product_id)) return ParseError{where + "product_id: duplicated"};
    scene.cards.push_back(std::move(card));
  }
  return scene;
}

ParseResult<Card> parse_card(std::string_view text) {
  std::string error;
  json doc = parse_object(text, error);
  if (!error.empty()) return ParseError{error};
  Card card;
  if (auto err = read_card(doc, "", card); !err.empty()) return ParseError{err};
  return card;
}

ParseResult<std::string> parse_product_id(std::string_view text) {
  std::string error;
  json doc = parse_object(text, error);
  if (!error.empty()) return ParseError{error};
  std::string id;
  if (auto err = read_product_id(doc, "", id); !err.empty()) return ParseError{err};
  return id;
}

ParseResult<Card> apply_card_update(const Card& card, std::string_view text) {
  std::string error;
  json doc = parse_object(text, error);
  if (!error.empty()) return ParseError{error};
  std::string id;
  if (auto err = read_product_id(doc, "", id); !err.empty()) return ParseError{err};
  if (id != card.product_id) return ParseError{"product_id: does not match the card"};
  Card updated = card;
  if (auto err = read_card_fields(doc, "", updated, /*is_update=*/true); !err.empty()) return ParseError{err};
  return updated;
}

std::string scene_to_json(const CardScene& scene) {
  json cards = json::array();
  for (const auto& c : scene.cards) {
    json j = {{"product_id", c.product_id},
              {"slot", slot_name(c.slot)},
              {"title", c.title},
              {"price", c.price_fen},
              {"currency", c.currency}};
    if (!c.image.empty()) j["image"] = c.image;
    if (c.stock) j["stock"] = *c.stock;
    if (c.sold) j["sold"] = *c.sold;
    if (c.sale_ends_at) j["sale_ends_at"] = *c.sale_ends_at;
    cards.push_back(std::move(j));
  }
  // Invalid UTF-8 in a title must not throw out of a property getter.
  return json{{"cards", std::move(cards)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace harvest::livecommerce

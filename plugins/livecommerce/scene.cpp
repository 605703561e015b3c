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

// An optional text field: null clears it in an update (a show-card has no nulls).
std::string read_optional_string(const json& obj, const char* key, const std::string& where, std::string& out,
                                 bool null_clears) {
  auto it = obj.find(key);
  if (it != obj.end() && it->is_null() && null_clears) {
    out.clear();
    return {};
  }
  return read_string(obj, key, where, out);
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// "YYYY-MM-DD", a real calendar date ("" is no date).
std::string check_date(const std::string& date, const std::string& where) {
  if (date.empty()) return {};
  const std::string err = where + "harvest_date: expected a date as YYYY-MM-DD";
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return err;
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
    if (date[i] < '0' || date[i] > '9') return err;
  const int y = std::stoi(date.substr(0, 4)), m = std::stoi(date.substr(5, 2)),
            d = std::stoi(date.substr(8, 2));
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > kDays[m - 1] + (m == 2 && is_leap(y) ? 1 : 0)) return err;
  return {};
}

// An absolute http(s) URL without spaces or control characters, short enough for the QR.
std::string check_trace_url(const std::string& url, const std::string& where) {
  if (url.empty()) return {};
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return where + "trace_url: expected an absolute http:// or https:// URL";
  if (url.size() > kMaxTraceUrlBytes) return where + "trace_url: longer than 213 bytes (does not fit the QR)";
  for (char ch : url)
    if (const auto c = static_cast<unsigned char>(ch); c <= 0x20 || c == 0x7f)
      return where + "trace_url: contains a space or a control character";
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
           read_optional_string(obj, "origin_place", where, card.origin_place, is_update),
           read_optional_string(obj, "harvest_date", where, card.harvest_date, is_update),
           read_optional_string(obj, "trace_url", where, card.trace_url, is_update),
       }) {
    if (!err.empty()) return err;
  }
  if (auto err = check_date(card.harvest_date, where); !err.empty()) return err;
  if (auto err = check_trace_url(card.trace_url, where); !err.empty()) return err;
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
         stock == other.stock && sold == other.sold && origin_place == other.origin_place &&
         harvest_date == other.harvest_date && trace_url == other.trace_url &&
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
    if (!c.origin_place.empty()) j["origin_place"] = c.origin_place;
    if (!c.harvest_date.empty()) j["harvest_date"] = c.harvest_date;
    if (!c.trace_url.empty()) j["trace_url"] = c.trace_url;
    cards.push_back(std::move(j));
  }
  // Invalid UTF-8 in a title must not throw out of a property getter.
  return json{{"cards", std::move(cards)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace harvest::livecommerce

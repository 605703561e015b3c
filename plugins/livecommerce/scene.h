#pragma once
// CardScene: what the host wants on screen, as parsed from the `scene` JSON
// (see docs/plugin-livecommerce.md "Scene JSON").
// Pure data and pure functions: no GStreamer, no rendering, so it can be unit
// tested and fuzzed on its own.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace harvest::livecommerce {

enum class Slot { kBottom, kTop, kLeft, kRight };

std::string_view slot_name(Slot slot);
std::optional<Slot> slot_from_name(std::string_view name);

// One product card. Money is integer fen; sale_ends_at is a running time in seconds.
struct Card {
  std::string product_id;
  Slot slot = Slot::kBottom;
  std::string title;
  std::int64_t price_fen = 0;
  std::string currency = "CNY";
  std::string image;  // local file path (PNG/JPEG); empty: no picture
  std::optional<std::int64_t> stock;
  std::optional<std::int64_t> sold;
  std::optional<double> sale_ends_at;
  // Where it comes from (issue 18): a short line under the title and a QR of its
  // public trace page. Empty: not shown.
  std::string origin_place;  // as the farmer typed it, e.g. "隰县"
  std::string harvest_date;  // "YYYY-MM-DD", a valid calendar date
  std::string trace_url;     // absolute http(s) URL; at most kMaxTraceUrlBytes

  // Everything the rendered card picture depends on except the countdown,
  // which is drawn separately once a second.
  bool same_picture_as(const Card& other) const;
  bool operator==(const Card& other) const = default;
};

// The longest trace URL a card takes: what a version-10 QR holds at level M
// (QrCode::byte_capacity(10)), the largest that still scans from a 720p card.
inline constexpr std::size_t kMaxTraceUrlBytes = 213;

struct CardScene {
  std::vector<Card> cards;  // drawing order; product_id is unique within a scene

  const Card* find(std::string_view product_id) const;
  bool operator==(const CardScene& other) const = default;
};

struct ParseError {
  std::string message;  // names the offending field, e.g. "cards[1].price: expected an integer"
};

template <typename T>
using ParseResult = std::variant<T, ParseError>;

// Parses a whole scene: {"cards": [...]}. Unknown fields are ignored; a
// duplicated product_id is an error (cards are addressed by it).
ParseResult<CardScene> parse_scene(std::string_view json);

// Parses one card object as used by the show-card signal: product_id is required.
ParseResult<Card> parse_card(std::string_view json);

// Applies a partial card (update-card signal) on top of `card`: only the fields
// present in `json` change; "sale_ends_at": null removes the countdown,
// "stock": null / "sold": null remove those lines, "origin_place" / "harvest_date" /
// "trace_url": null remove the origin line's parts and the QR. product_id must match.
ParseResult<Card> apply_card_update(const Card& card, std::string_view json);

// Reads only "product_id" from a card object (to find the card to update).
ParseResult<std::string> parse_product_id(std::string_view json);

std::string scene_to_json(const CardScene& scene);

}  // namespace harvest::livecommerce

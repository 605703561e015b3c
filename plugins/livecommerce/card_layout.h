#pragma once
// Where cards go on a frame: slots (bottom, top, left, right) with safe margins,
// sized from the frame so a card looks the same on 9:16 portrait and 16:9
// landscape video. Pure integer geometry; every coordinate and size is even so a
// card covers whole chroma samples in 4:2:0 frames and the pixels around it stay
// bit-identical.
#include <optional>
#include <vector>

#include "scene.h"

namespace harvest::livecommerce {

struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
  bool operator==(const Rect&) const = default;
  bool empty() const { return width <= 0 || height <= 0; }
  bool contains(int px, int py) const { return px >= x && py >= y && px < x + width && py < y + height; }
};

// Inner parts of a card, relative to its top-left corner.
struct CardGeometry {
  int width = 0, height = 0;
  int padding = 0;
  Rect image;      // square picture on the left
  Rect text;       // title, origin line, price, stock / bought lines
  Rect countdown;  // flash-sale countdown strip; drawn as its own rectangle
  Rect qr;         // trace QR square on the right; empty for a card without one
};

// A card with a trace QR is wider than 2:1 by a square panel on its right
// (width qr_card_width(height)); the picture and text keep their places.
CardGeometry card_geometry(int card_width, int card_height, bool with_qr = false);
int qr_card_width(int card_height);

// What the layout needs to know of a card.
struct CardShape {
  Slot slot = Slot::kBottom;
  bool with_qr = false;
};

// The size of a card in `slot` on a frame of this size (before it is known
// whether it fits): pictures can be rendered before the layout is final.
struct CardSize {
  int width = 0, height = 0;
};
CardSize card_size(int frame_width, int frame_height, Slot slot, bool with_qr = false);

// The rectangle of each card, in the order given, or nullopt for a card that does
// not fit in its slot (too many cards in one slot, or a tiny frame). Cards of a slot
// are stacked at one pitch; a card with a QR that would be too wide for its slot is
// made smaller and centred in its row.
std::vector<std::optional<Rect>> layout_cards(int frame_width, int frame_height,
                                              const std::vector<CardShape>& cards);
std::vector<std::optional<Rect>> layout_cards(int frame_width, int frame_height,
                                              const std::vector<Slot>& slots);

}  // namespace harvest::livecommerce

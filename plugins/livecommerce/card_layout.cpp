#include "card_layout.h"

#include <algorithm>
#include <cmath>

namespace harvest::livecommerce {
namespace {

int even(double v) { return static_cast<int>(std::floor(v / 2.0)) * 2; }

// A card is 2:1; at 1080 lines (either orientation) it is 600x300.
constexpr double kCardHeightPerShortSide = 300.0 / 1080.0;
// Title-safe area: 5% of each dimension (EBU R 95 uses 5%/10%; 5% suits phones).
constexpr double kSafeMargin = 0.05;
constexpr int kMinCardHeight = 32;  // below this nothing legible fits

struct SlotFrame {
  int frame_w, frame_h, margin_x, margin_y, card_w, card_h, gap, max_w;
};

int card_padding(int card_h) { return std::max(2, even(card_h * 0.06)); }

SlotFrame slot_frame(int fw, int fh, Slot slot) {
  SlotFrame f{fw, fh, even(fw * kSafeMargin), even(fh * kSafeMargin), 0, 0, 0, 0};
  int card_h = even(std::min(fw, fh) * kCardHeightPerShortSide);
  int card_w = card_h * 2;
  const bool side = slot == Slot::kLeft || slot == Slot::kRight;
  const int gap = even(card_h * 0.06);
  // Side cards share the width with the other side; top/bottom use the safe width.
  const int max_w = side ? even((fw - 2 * f.margin_x - gap) / 2.0) : fw - 2 * f.margin_x;
  if (card_w > max_w) {
    card_h = even(max_w / 2.0);
    card_w = card_h * 2;
  }
  f.card_w = card_w;
  f.card_h = card_h;
  f.gap = even(card_h * 0.06);
  f.max_w = max_w;
  return f;
}

// A card of the slot: plain cards are the slot's 2:1 size; one with a QR keeps the
// slot's height when its wider shape fits, else the tallest height that does.
CardSize shape_size(const SlotFrame& f, bool with_qr) {
  if (!with_qr) return CardSize{f.card_w, f.card_h};
  int h = f.card_h;
  while (h > 0 && qr_card_width(h) > f.max_w) h -= 2;
  return CardSize{qr_card_width(h), h};
}

// Position of the `index`-th card (0-based) of `count` in a slot, if it fits. Rows
// are the slot's card height apart; a smaller card is centred in its row.
std::optional<Rect> place(const SlotFrame& f, Slot slot, int index, int count, CardSize size) {
  if (size.height < kMinCardHeight) return std::nullopt;
  const int step = f.card_h + f.gap;
  const int usable_h = f.frame_h - 2 * f.margin_y;
  const int fits = (usable_h + f.gap) / step;
  if (index >= fits) return std::nullopt;
  const int centered_x = even((f.frame_w - size.width) / 2.0);
  const int inset = even((f.card_h - size.height) / 2.0);
  switch (slot) {
    case Slot::kBottom:
      return Rect{centered_x, f.frame_h - f.margin_y - f.card_h - index * step + inset, size.width,
                  size.height};
    case Slot::kTop:
      return Rect{centered_x, f.margin_y + index * step + inset, size.width, size.height};
    case Slot::kLeft:
    case Slot::kRight: {
      const int shown = std::min(count, fits);
      const int total = shown * step - f.gap;
      const int y0 = even((f.frame_h - total) / 2.0);
      const int x = slot == Slot::kLeft ? f.margin_x : f.frame_w - f.margin_x - size.width;
      return Rect{x, y0 + index * step + inset, size.width, size.height};
    }
  }
  return std::nullopt;
}

}  // namespace

CardSize card_size(int frame_width, int frame_height, Slot slot, bool with_qr) {
  return shape_size(slot_frame(frame_width, frame_height, slot), with_qr);
}

int qr_card_width(int card_height) {
  // The QR square is as tall as the picture (height - 2 * padding), after a padding-wide gap.
  return 2 * card_height + card_height - card_padding(card_height);
}

CardGeometry card_geometry(int w, int h, bool with_qr) {
  CardGeometry g;
  g.width = w;
  g.height = h;
  g.padding = card_padding(h);
  const int p = g.padding;
  g.image = Rect{p, p, h - 2 * p, h - 2 * p};
  if (with_qr) g.qr = Rect{w - p - (h - 2 * p), p, h - 2 * p, h - 2 * p};
  const int text_x = h;
  const int text_end = with_qr ? g.qr.x - p : w - p;
  g.text = Rect{text_x, p, std::max(0, text_end - text_x), h - 2 * p};
  const int strip_h = std::max(2, even(h * 0.16));
  g.countdown = Rect{text_x, h - p - strip_h, g.text.width, strip_h};
  return g;
}

static bool overlaps(const Rect& a, const Rect& b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

std::vector<std::optional<Rect>> layout_cards(int frame_width, int frame_height,
                                              const std::vector<CardShape>& cards) {
  std::vector<std::optional<Rect>> rects(cards.size());
  if (frame_width <= 0 || frame_height <= 0) return rects;
  std::vector<Rect> placed;
  // Side columns first: a top or bottom stack that would grow into them stops
  // (its further cards do not fit) instead of covering them.
  for (Slot slot : {Slot::kLeft, Slot::kRight, Slot::kBottom, Slot::kTop}) {
    const int count = static_cast<int>(
        std::count_if(cards.begin(), cards.end(), [slot](const CardShape& c) { return c.slot == slot; }));
    const SlotFrame f = slot_frame(frame_width, frame_height, slot);
    int index = 0;
    bool full = false;
    for (std::size_t i = 0; i < cards.size(); ++i) {
      if (cards[i].slot != slot || full) continue;
      auto rect = place(f, slot, index++, count, shape_size(f, cards[i].with_qr));
      if (rect &&
          std::any_of(placed.begin(), placed.end(), [&](const Rect& p) { return overlaps(*rect, p); })) {
        rect.reset();
      }
      if (!rect) {
        full = true;
        continue;
      }
      placed.push_back(*rect);
      rects[i] = rect;
    }
  }
  return rects;
}

std::vector<std::optional<Rect>> layout_cards(int frame_width, int frame_height,
                                              const std::vector<Slot>& slots) {
  std::vector<CardShape> cards;
  for (Slot s : slots) cards.push_back(CardShape{s, false});
  return layout_cards(frame_width, frame_height, cards);
}

}  // namespace harvest::livecommerce

#pragma once
// CardRenderer draws a card (picture, title, origin line, price, stock, "N bought",
// sold-out badge, trace QR) and the flash-sale countdown strip into premultiplied BGRA bitmaps with
// cairo + pango (any script: fontconfig falls back to Noto CJK for Chinese). It
// knows nothing of GStreamer. Thread-safe: one render at a time per renderer.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "card_text.h"
#include "scene.h"

typedef struct _PangoFontMap PangoFontMap;

namespace harvest::livecommerce {

// Premultiplied alpha, B G R A byte order (cairo ARGB32 on little-endian), rows of
// `stride` bytes. This is GStreamer's GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB.
struct CardBitmap {
  int width = 0;
  int height = 0;
  int stride = 0;
  std::vector<std::uint8_t> pixels;

  const std::uint8_t* pixel(int x, int y) const {
    return pixels.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(stride) +
           static_cast<std::size_t>(x) * 4;
  }
};

struct CardPicture {
  std::shared_ptr<const CardBitmap> bitmap;
  std::string image_error;  // non-empty: the product image could not be used (card drawn without it)
  int missing_glyphs = 0;   // glyphs no installed font could draw (would show as boxes)
  std::string qr_error;     // non-empty: the card has a trace URL but no QR could be drawn
};

class CardRenderer {
 public:
  explicit CardRenderer(Locale locale = Locale::kZhCN);
  ~CardRenderer();
  CardRenderer(const CardRenderer&) = delete;
  CardRenderer& operator=(const CardRenderer&) = delete;

  // The card without its countdown (the strip's area is left as card background).
  CardPicture render_card(const Card& card, int width, int height);

  // The countdown strip: "限时 01:35" / "Ends in 01:35".
  std::shared_ptr<const CardBitmap> render_countdown(std::int64_t seconds_left, int width, int height);

  Locale locale() const { return labels_.locale; }

 private:
  struct ImageCache;
  std::mutex mutex_;
  CardLabels labels_;
  PangoFontMap* font_map_ = nullptr;
  std::unique_ptr<ImageCache> images_;
};

}  // namespace harvest::livecommerce

#include "card_renderer.h"

#include <cairo.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <pango/pangocairo.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <list>
#include <numbers>

#include "card_layout.h"
#include "qr_code.h"

namespace harvest::livecommerce {
namespace {

// Fontconfig picks the first family that has each glyph: Noto CJK covers
// Chinese, Japanese and Korean, the others Latin, Cyrillic, Arabic...
constexpr const char* kFontFamilies = "Noto Sans CJK SC, Noto Sans, DejaVu Sans, Sans";

struct Color {
  double r, g, b, a = 1.0;
};
constexpr Color kCardBackground{1, 1, 1};
constexpr Color kTitleColor{0.13, 0.13, 0.13};
constexpr Color kPriceColor{0.878, 0.180, 0.141};  // the red buyers know from shopping apps
constexpr Color kInfoColor{0.45, 0.45, 0.45};
constexpr Color kPlaceholder{0.92, 0.92, 0.92};
constexpr Color kBadgeColor{0.2, 0.2, 0.2, 0.85};
constexpr Color kWhite{1, 1, 1};

constexpr double kPi = std::numbers::pi;

// Decoded images are large; a handful of products are on a stream at once.
constexpr std::size_t kMaxCachedImages = 16;
constexpr long long kMaxImagePixels = 40'000'000;  // refuse decompression bombs

void set_color(cairo_t* cr, const Color& c) { cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a); }

void rounded_rect(cairo_t* cr, double x, double y, double w, double h, double r) {
  r = std::min({r, w / 2, h / 2});
  cairo_new_sub_path(cr);
  cairo_arc(cr, x + w - r, y + r, r, -kPi / 2, 0);
  cairo_arc(cr, x + w - r, y + h - r, r, 0, kPi / 2);
  cairo_arc(cr, x + r, y + h - r, r, kPi / 2, kPi);
  cairo_arc(cr, x + r, y + r, r, kPi, 3 * kPi / 2);
  cairo_close_path(cr);
}

using SurfacePtr = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using CairoPtr = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

SurfacePtr new_surface(int w, int h) {
  return SurfacePtr(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h), cairo_surface_destroy);
}

std::shared_ptr<const CardBitmap> to_bitmap(cairo_surface_t* surface) {
  cairo_surface_flush(surface);
  auto bitmap = std::make_shared<CardBitmap>();
  bitmap->width = cairo_image_surface_get_width(surface);
  bitmap->height = cairo_image_surface_get_height(surface);
  bitmap->stride = cairo_image_surface_get_stride(surface);
  const std::uint8_t* data = cairo_image_surface_get_data(surface);
  bitmap->pixels.assign(
      data, data + static_cast<std::size_t>(bitmap->stride) * static_cast<std::size_t>(bitmap->height));
  return bitmap;
}

// GdkPixbuf is straight-alpha RGBA; cairo wants premultiplied native-endian ARGB32.
SurfacePtr pixbuf_to_surface(GdkPixbuf* pixbuf) {
  const int w = gdk_pixbuf_get_width(pixbuf);
  const int h = gdk_pixbuf_get_height(pixbuf);
  const int channels = gdk_pixbuf_get_n_channels(pixbuf);
  const bool has_alpha = gdk_pixbuf_get_has_alpha(pixbuf);
  const auto src_stride = static_cast<std::size_t>(gdk_pixbuf_get_rowstride(pixbuf));
  const guint8* src = gdk_pixbuf_read_pixels(pixbuf);
  auto surface = new_surface(w, h);
  cairo_surface_flush(surface.get());
  std::uint8_t* dst = cairo_image_surface_get_data(surface.get());
  const auto dst_stride = static_cast<std::size_t>(cairo_image_surface_get_stride(surface.get()));
  for (std::size_t y = 0; y < static_cast<std::size_t>(h); ++y) {
    const guint8* s = src + y * src_stride;
    auto* d = reinterpret_cast<std::uint32_t*>(dst + y * dst_stride);
    for (int x = 0; x < w; ++x, s += channels) {
      const std::uint32_t a = has_alpha ? s[3] : 255u;
      auto pm = [a](std::uint32_t c) { return (c * a + 127) / 255; };
      d[x] = (a << 24) | (pm(s[0]) << 16) | (pm(s[1]) << 8) | pm(s[2]);
    }
  }
  cairo_surface_mark_dirty(surface.get());
  return surface;
}

struct TextStyle {
  double size_px;
  bool bold;
  Color color;
  int max_lines = 1;
};

}  // namespace

// Decoded, scaled product images by (path, size, file identity), so a price or
// stock update re-renders the card without decoding the JPEG again.
struct CardRenderer::ImageCache {
  struct Entry {
    std::string key;
    cairo_surface_t* surface;
  };
  std::list<Entry> entries;  // most recently used first

  ~ImageCache() {
    for (auto& e : entries) cairo_surface_destroy(e.surface);
  }

  static std::string key_for(const std::string& path, int size) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    return path + '\n' + std::to_string(size) + '\n' + std::to_string(st.st_mtime) + '\n' +
           std::to_string(st.st_size);
  }

  // Returns a new reference, or nullptr with `error` set.
  cairo_surface_t* load(const std::string& path, int size, std::string& error) {
    const std::string key = key_for(path, size);
    if (key.empty()) {
      error = "cannot open image " + path;
      return nullptr;
    }
    for (auto it = entries.begin(); it != entries.end(); ++it) {
      if (it->key == key) {
        entries.splice(entries.begin(), entries, it);
        return cairo_surface_reference(it->surface);
      }
    }
    auto surface = decode_cover(path, size, error);
    if (!surface) return nullptr;
    entries.push_front(Entry{key, cairo_surface_reference(surface.get())});
    if (entries.size() > kMaxCachedImages) {
      cairo_surface_destroy(entries.back().surface);
      entries.pop_back();
    }
    return surface.release();
  }

  // Decodes at the scale where the shorter side is `size` ("cover"): the card
  // crops the longer side to a square.
  static SurfacePtr decode_cover(const std::string& path, int size, std::string& error) {
    int w = 0, h = 0;
    if (!gdk_pixbuf_get_file_info(path.c_str(), &w, &h) || w <= 0 || h <= 0) {
      error = "not a readable image: " + path;
      return SurfacePtr(nullptr, cairo_surface_destroy);
    }
    if (static_cast<long long>(w) * h > kMaxImagePixels) {
      error = "image too large: " + path;
      return SurfacePtr(nullptr, cairo_surface_destroy);
    }
    const double scale = static_cast<double>(size) / std::min(w, h);
    const int tw = std::max(1, static_cast<int>(std::ceil(w * scale)));
    const int th = std::max(1, static_cast<int>(std::ceil(h * scale)));
    GError* err = nullptr;
    GdkPixbuf* pixbuf = gdk_pixbuf_new_from_file_at_scale(path.c_str(), tw, th, FALSE, &err);
    if (!pixbuf) {
      error = "cannot decode image " + path + ": " + (err ? err->message : "unknown error");
      g_clear_error(&err);
      return SurfacePtr(nullptr, cairo_surface_destroy);
    }
    g_clear_error(&err);
    auto surface = pixbuf_to_surface(pixbuf);
    g_object_unref(pixbuf);
    return surface;
  }
};

namespace {

class TextPainter {
 public:
  TextPainter(cairo_t* cr, PangoFontMap* font_map) : cr_(cr) {
    context_ = pango_font_map_create_context(font_map);
    cairo_font_options_t* options = cairo_font_options_create();
    // Grey antialiasing: subpixel colour fringes look wrong once scaled and chroma-subsampled.
    cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_SLIGHT);
    pango_cairo_context_set_font_options(context_, options);
    cairo_font_options_destroy(options);
    pango_cairo_update_context(cr_, context_);
  }
  ~TextPainter() { g_object_unref(context_); }
  TextPainter(const TextPainter&) = delete;
  TextPainter& operator=(const TextPainter&) = delete;

  // Draws `text` with its top-left at (x, y) within `width`, ellipsized; returns its height.
  double draw(const std::string& text, double x, double y, double width, const TextStyle& style,
              PangoAlignment align = PANGO_ALIGN_LEFT) {
    PangoLayout* layout = pango_layout_new(context_);
    PangoFontDescription* font = pango_font_description_from_string(kFontFamilies);
    pango_font_description_set_weight(font, style.bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_font_description_set_absolute_size(font, style.size_px * PANGO_SCALE);
    pango_layout_set_font_description(layout, font);
    pango_font_description_free(font);
    pango_layout_set_width(layout, static_cast<int>(width * PANGO_SCALE));
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
    pango_layout_set_height(layout, -style.max_lines);
    pango_layout_set_alignment(layout, align);
    pango_layout_set_text(layout, text.c_str(), -1);
    missing_glyphs_ += pango_layout_get_unknown_glyphs_count(layout);
    int w = 0, h = 0;
    pango_layout_get_pixel_size(layout, &w, &h);
    set_color(cr_, style.color);
    cairo_move_to(cr_, x, y);
    pango_cairo_show_layout(cr_, layout);
    g_object_unref(layout);
    return h;
  }

  int missing_glyphs() const { return missing_glyphs_; }

 private:
  cairo_t* cr_;
  PangoContext* context_ = nullptr;
  int missing_glyphs_ = 0;
};

void draw_picture(cairo_t* cr, cairo_surface_t* image, const Rect& box, double radius) {
  cairo_save(cr);
  rounded_rect(cr, box.x, box.y, box.width, box.height, radius);
  cairo_clip(cr);
  if (image) {
    const int iw = cairo_image_surface_get_width(image);
    const int ih = cairo_image_surface_get_height(image);
    const double scale = static_cast<double>(box.width) / std::min(iw, ih);
    cairo_translate(cr, box.x + (box.width - iw * scale) / 2, box.y + (box.height - ih * scale) / 2);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, image, 0, 0);
    cairo_paint(cr);
  } else {
    set_color(cr, kPlaceholder);
    cairo_paint(cr);
  }
  cairo_restore(cr);
}

void draw_sold_out_badge(cairo_t* cr, TextPainter& text, const Rect& image, std::string_view label) {
  const double size = image.height * 0.11;
  const double pad = size * 0.45;
  const double w = image.width * 0.62;
  const double h = size + 2 * pad * 0.6;
  const double x = image.x + pad;
  const double y = image.y + pad;
  set_color(cr, kBadgeColor);
  rounded_rect(cr, x, y, w, h, h / 2);
  cairo_fill(cr);
  text.draw(std::string(label), x, y + (h - size * 1.45) / 2, w, TextStyle{size, true, kWhite},
            PANGO_ALIGN_CENTER);
}

// The QR of `url`, centred in `box` on white, whole pixels per module so no module
// edge is blurred before the encoder sees it; at least 2 modules of white inside the
// box (the card's own white padding adds to the quiet zone). Written straight into the
// surface's pixels: cairo filling hundreds of unantialiased squares took ~10 ms a 1080p
// card. False when it cannot be drawn.
bool draw_qr(cairo_surface_t* surface, const std::string& url, const Rect& box) {
  auto qr = QrCode::encode(url);
  if (!qr) return false;
  const int n = qr->size();
  const int module = std::min(box.width, box.height) / (n + 4);
  if (module < 1) return false;
  const int x0 = box.x + (box.width - n * module) / 2;
  const int y0 = box.y + (box.height - n * module) / 2;
  cairo_surface_flush(surface);
  std::uint8_t* data = cairo_image_surface_get_data(surface);
  const auto stride = static_cast<std::size_t>(cairo_image_surface_get_stride(surface));
  // Opaque white and black in premultiplied native-endian ARGB32.
  constexpr std::uint32_t kOpaqueWhite = 0xFFFFFFFFu, kOpaqueBlack = 0xFF000000u;
  for (int y = box.y; y < box.y + box.height; ++y) {
    auto* row = reinterpret_cast<std::uint32_t*>(data + static_cast<std::size_t>(y) * stride);
    const int my = (y - y0) / module;
    for (int x = box.x; x < box.x + box.width; ++x) {
      const bool inside = y >= y0 && x >= x0 && y < y0 + n * module && x < x0 + n * module;
      row[x] = inside && qr->dark((x - x0) / module, my) ? kOpaqueBlack : kOpaqueWhite;
    }
  }
  cairo_surface_mark_dirty(surface);
  return true;
}

}  // namespace

CardRenderer::CardRenderer(Locale locale)
    : labels_{locale}, font_map_(pango_cairo_font_map_new()), images_(std::make_unique<ImageCache>()) {}

CardRenderer::~CardRenderer() { g_object_unref(font_map_); }

CardPicture CardRenderer::render_card(const Card& card, int width, int height) {
  std::lock_guard lock(mutex_);
  CardPicture result;
  const CardGeometry g = card_geometry(width, height, !card.trace_url.empty());
  auto surface = new_surface(width, height);
  CairoPtr cr(cairo_create(surface.get()), cairo_destroy);

  set_color(cr.get(), kCardBackground);
  rounded_rect(cr.get(), 0, 0, width, height, height * 0.08);
  cairo_fill(cr.get());

  cairo_surface_t* image = nullptr;
  if (!card.image.empty()) image = images_->load(card.image, g.image.width, result.image_error);
  draw_picture(cr.get(), image, g.image, height * 0.05);
  if (image) cairo_surface_destroy(image);

  TextPainter text(cr.get(), font_map_);
  const double h = height;
  const Rect& t = g.text;
  // The origin line takes the title's second line: a long title is elided to one.
  const std::string origin = labels_.origin(card.origin_place, card.harvest_date);
  text.draw(card.title, t.x, t.y, t.width, TextStyle{h * 0.095, true, kTitleColor, origin.empty() ? 2 : 1});
  if (!origin.empty())
    text.draw(origin, t.x, t.y + h * 0.15, t.width, TextStyle{h * 0.07, false, kInfoColor});
  text.draw(format_price(card.price_fen, card.currency), t.x, t.y + h * 0.30, t.width,
            TextStyle{h * 0.15, true, kPriceColor});
  std::string info;
  if (card.stock) info = labels_.stock(*card.stock);
  if (card.sold) info += (info.empty() ? "" : " · ") + labels_.bought(*card.sold);
  if (!info.empty()) text.draw(info, t.x, t.y + h * 0.53, t.width, TextStyle{h * 0.07, false, kInfoColor});
  if (card.stock && *card.stock == 0) draw_sold_out_badge(cr.get(), text, g.image, labels_.sold_out());

  result.missing_glyphs = text.missing_glyphs();
  cr.reset();
  if (!g.qr.empty() && !draw_qr(surface.get(), card.trace_url, g.qr))
    result.qr_error = "trace QR not drawn: the URL does not fit a version-10 QR or the card is too small";
  result.bitmap = to_bitmap(surface.get());
  return result;
}

std::shared_ptr<const CardBitmap> CardRenderer::render_countdown(std::int64_t seconds, int width,
                                                                 int height) {
  std::lock_guard lock(mutex_);
  auto surface = new_surface(width, height);
  CairoPtr cr(cairo_create(surface.get()), cairo_destroy);
  // The strip sits on the card: paint the card background so it is opaque
  // and blends as a plain copy.
  set_color(cr.get(), kCardBackground);
  cairo_paint(cr.get());
  set_color(cr.get(), kPriceColor);
  rounded_rect(cr.get(), 0, 0, width, height, height / 2.0);
  cairo_fill(cr.get());
  TextPainter text(cr.get(), font_map_);
  const double size = height * 0.58;
  const std::string label = std::string(labels_.sale_ends_in()) + " " + format_countdown(seconds);
  text.draw(label, height * 0.4, (height - size * 1.45) / 2, width - height * 0.8,
            TextStyle{size, true, kWhite}, PANGO_ALIGN_CENTER);
  cr.reset();
  return to_bitmap(surface.get());
}

}  // namespace harvest::livecommerce

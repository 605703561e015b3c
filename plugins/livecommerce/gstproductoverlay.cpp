// productoverlay: product cards on raw video.
//
// Threads: the control plane (property setters, action signals) edits the
// desired CardScene under GST_OBJECT_LOCK and renders new card pictures ahead
// into a shared cache, outside the lock. The streaming thread picks the newest
// scene up at the start of each frame (so a change lands atomically on the next
// frame), reconciles it with what is on screen (fades, messages), renders only
// what is still missing (normally just the countdown strip, once a second), and
// either pushes the frame untouched (no card visible), attaches a
// GstVideoOverlayCompositionMeta (downstream renders it), or blends the card
// rectangles itself. Time is the buffer's running time, never the wall clock.
//
// Why one file of ~1,000 lines: it is one GStreamer element, and its parts (caps negotiation,
// the frame function, the scene reconcile, properties and signals) share the private state and
// the lock discipline above; split by file they would need that state in a header and the lock
// rules repeated. The pure parts live beside it: scene.cpp (JSON), card_layout.cpp, card_renderer.cpp,
// card_blender.cpp, card_picture_cache.cpp.
#include "gstproductoverlay.h"

#include <gst/video/video.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "card_blender.h"
#include "card_layout.h"
#include "card_picture_cache.h"
#include "card_renderer.h"
#include "card_text.h"
#include "scene.h"

GST_DEBUG_CATEGORY_STATIC(product_overlay_debug);
#define GST_CAT_DEFAULT product_overlay_debug

using namespace harvest::livecommerce;

#define PRODUCT_OVERLAY_FORMATS \
  "{ I420, YV12, NV12, NV21, Y42B, Y444, AYUV, BGRA, BGRx, RGBA, RGBx, ARGB, ABGR, xRGB, xBGR }"

namespace {

constexpr guint kDefaultFadeMs = 200;
constexpr guint kMaxFadeMs = 5000;
constexpr const char* kCardMessage = "productoverlay-card";
constexpr GstClockTime kDefaultFrameDuration = GST_SECOND / 30;

GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(PRODUCT_OVERLAY_FORMATS)));

GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(PRODUCT_OVERLAY_FORMATS) ";" GST_VIDEO_CAPS_MAKE_WITH_FEATURES(
        GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION, PRODUCT_OVERLAY_FORMATS)));

enum { PROP_0, PROP_SCENE, PROP_FADE_DURATION, PROP_LOCALE };
enum { SIGNAL_SHOW_CARD, SIGNAL_HIDE_CARD, SIGNAL_UPDATE_CARD, LAST_SIGNAL };
guint signals[LAST_SIGNAL];

struct RectangleUnref {
  void operator()(GstVideoOverlayRectangle* r) const { gst_video_overlay_rectangle_unref(r); }
};
using RectanglePtr = std::unique_ptr<GstVideoOverlayRectangle, RectangleUnref>;

// One picture on screen (a card, or its countdown strip) in both output forms:
// converted for our own blending, or as an overlay rectangle for downstream.
struct Layer {
  std::shared_ptr<const CardBitmap> bitmap;
  std::optional<PreparedCard> prepared;
  RectanglePtr rectangle;
  Rect where;

  void set(std::shared_ptr<const CardBitmap> b) {
    bitmap = std::move(b);
    prepared.reset();
    rectangle.reset();
  }
  void place(const Rect& r) {
    // Rectangles already attached to earlier buffers must not move: make a new one.
    if (!(r == where)) rectangle.reset();
    where = r;
  }
  void clear() { set(nullptr); }
};

enum class Phase { kFadingIn, kShown, kFadingOut };

struct ScreenCard {
  Card card;
  Phase phase = Phase::kFadingIn;
  GstClockTime phase_start = 0;  // running time of the first frame of this phase
  bool announced = false;        // "shown" posted and "hidden" not yet
  bool hide_pending = false;     // post "hidden" on this frame
  bool update_pending = false;   // post "updated" once the new content is drawn
  bool picture_dirty = true;
  std::optional<Rect> rect;  // nullopt: no room in its slot
  Layer picture;
  Layer countdown;
  std::int64_t countdown_seconds = -1;
  guint8 opacity = 0;  // for the current frame
};

struct FrameClock {
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  GstClockTime running_time = 0;
  GstClockTime stream_time = GST_CLOCK_TIME_NONE;
  GstClockTime duration = kDefaultFrameDuration;
};

}  // namespace

struct ProductOverlayPrivate {
  // Control plane, guarded by GST_OBJECT_LOCK.
  CardScene scene;
  std::uint64_t scene_version = 1;
  guint fade_ms = kDefaultFadeMs;
  Locale locale = Locale::kZhCN;
  std::shared_ptr<CardRenderer> renderer = std::make_shared<CardRenderer>(Locale::kZhCN);
  int frame_width = 0;  // of the negotiated caps, for rendering ahead
  int frame_height = 0;

  CardPictureCache pictures;  // has its own lock

  // Streaming thread only.
  GstVideoInfo info{};
  bool have_info = false;
  FrameFormat format;
  bool attach_meta = false;
  GstSegment segment{};
  std::uint64_t applied_version = 0;
  std::shared_ptr<CardRenderer> applied_renderer;
  std::vector<ScreenCard> screen;
  bool layout_dirty = true;
  GstClockTime last_running_time = 0;
};

struct _GstProductOverlay {
  GstElement parent;
  GstPad* sinkpad;
  GstPad* srcpad;
  ProductOverlayPrivate* priv;
};

// GObject's type boilerplate casts function pointers C-style.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
G_DEFINE_TYPE(GstProductOverlay, gst_product_overlay, GST_TYPE_ELEMENT)
#pragma GCC diagnostic pop
GST_ELEMENT_REGISTER_DEFINE(productoverlay, "productoverlay", GST_RANK_NONE, GST_TYPE_PRODUCT_OVERLAY)

namespace {

// ---------------------------------------------------------------- warnings

void warn_scene_error(GstProductOverlay* self, const char* what, const std::string& error) {
  GST_WARNING_OBJECT(self, "%s: %s", what, error.c_str());
  GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("%s: %s", what, error.c_str()), (nullptr));
}

void report_picture_problems(GstProductOverlay* self, const Card& card, const CardPicture& picture) {
  if (!picture.image_error.empty()) {
    GST_ELEMENT_WARNING(
        self, RESOURCE, OPEN_READ,
        ("Card %s drawn without its picture: %s", card.product_id.c_str(), picture.image_error.c_str()),
        (nullptr));
  }
  if (!picture.qr_error.empty()) {
    GST_ELEMENT_WARNING(self, RESOURCE, FAILED,
                        ("Card %s: %s", card.product_id.c_str(), picture.qr_error.c_str()), (nullptr));
  }
  if (picture.missing_glyphs > 0) {
    GST_ELEMENT_WARNING(self, RESOURCE, FAILED,
                        ("Card %s: no installed font has %d of its glyphs (install fonts-noto-cjk)",
                         card.product_id.c_str(), picture.missing_glyphs),
                        (nullptr));
  }
}

// ---------------------------------------------------------------- pictures

// From the cache, or rendered now (by whichever thread asks first).
CardPicture obtain_picture(GstProductOverlay* self, CardRenderer& renderer, const Card& card, CardSize size) {
  ProductOverlayPrivate& p = *self->priv;
  const std::string key = CardPictureCache::key(card, size.width, size.height, renderer.locale());
  if (auto hit = p.pictures.find(key)) return *hit;
  CardPicture picture = renderer.render_card(card, size.width, size.height);
  report_picture_problems(self, card, picture);
  p.pictures.insert(key, picture);
  return picture;
}

// ---------------------------------------------------------------- control plane

// An edit of the desired scene; returns an error message, or nullopt when applied.
using SceneEdit = std::function<std::optional<std::string>(CardScene&)>;

// Applies `edit` atomically. Pictures for the edited scene are rendered first,
// outside the lock, so the streaming thread finds them ready on the next frame.
bool edit_scene(GstProductOverlay* self, const char* what, const SceneEdit& edit) {
  ProductOverlayPrivate& p = *self->priv;
  CardScene preview;
  int frame_w = 0, frame_h = 0;
  std::shared_ptr<CardRenderer> renderer;
  GST_OBJECT_LOCK(self);
  preview = p.scene;
  frame_w = p.frame_width;
  frame_h = p.frame_height;
  renderer = p.renderer;
  GST_OBJECT_UNLOCK(self);

  if (auto error = edit(preview)) {
    warn_scene_error(self, what, *error);
    return false;
  }
  if (frame_w > 0 && frame_h > 0) {
    for (const auto& card : preview.cards) {
      obtain_picture(self, *renderer, card, card_size(frame_w, frame_h, card.slot, !card.trace_url.empty()));
    }
  }

  // Another thread may have edited meanwhile: apply the edit to the newest scene.
  GST_OBJECT_LOCK(self);
  CardScene next = p.scene;
  auto error = edit(next);
  if (!error) {
    p.scene = std::move(next);
    ++p.scene_version;
  }
  GST_OBJECT_UNLOCK(self);
  if (error) {
    warn_scene_error(self, what, *error);
    return false;
  }
  return true;
}

constexpr std::size_t kMaxCards = 16;

gboolean on_show_card(GstProductOverlay* self, const gchar* json) {
  auto parsed = parse_card(json ? json : "");
  if (auto* error = std::get_if<ParseError>(&parsed)) {
    warn_scene_error(self, "show-card: invalid card JSON", error->message);
    return FALSE;
  }
  const Card card = std::get<Card>(parsed);
  return edit_scene(self, "show-card", [&card](CardScene& scene) -> std::optional<std::string> {
    for (auto& existing : scene.cards) {
      if (existing.product_id == card.product_id) {
        existing = card;
        return std::nullopt;
      }
    }
    if (scene.cards.size() >= kMaxCards) return "more than 16 cards";
    scene.cards.push_back(card);
    return std::nullopt;
  });
}

gboolean on_hide_card(GstProductOverlay* self, const gchar* product_id) {
  const std::string id = product_id ? product_id : "";
  return edit_scene(self, "hide-card", [&id](CardScene& scene) -> std::optional<std::string> {
    if (id.empty()) {
      scene.cards.clear();  // no id: hide every card
      return std::nullopt;
    }
    auto it = std::find_if(scene.cards.begin(), scene.cards.end(),
                           [&id](const Card& c) { return c.product_id == id; });
    if (it == scene.cards.end()) return "no card with product_id " + id;
    scene.cards.erase(it);
    return std::nullopt;
  });
}

gboolean on_update_card(GstProductOverlay* self, const gchar* json) {
  const std::string text = json ? json : "";
  auto id = parse_product_id(text);
  if (auto* error = std::get_if<ParseError>(&id)) {
    warn_scene_error(self, "update-card: invalid card JSON", error->message);
    return FALSE;
  }
  return edit_scene(self, "update-card", [&text, &id](CardScene& scene) -> std::optional<std::string> {
    for (auto& card : scene.cards) {
      if (card.product_id != std::get<std::string>(id)) continue;
      auto updated = apply_card_update(card, text);
      if (auto* error = std::get_if<ParseError>(&updated)) return error->message;
      card = std::move(std::get<Card>(updated));
      return std::nullopt;
    }
    return "no card with product_id " + std::get<std::string>(id);
  });
}

void set_scene_json(GstProductOverlay* self, const gchar* json) {
  auto parsed = parse_scene(json ? json : "");
  if (auto* error = std::get_if<ParseError>(&parsed)) {
    warn_scene_error(self, "Invalid scene JSON, keeping the current scene", error->message);
    return;
  }
  CardScene scene = std::move(std::get<CardScene>(parsed));
  edit_scene(self, "scene", [&scene](CardScene& current) -> std::optional<std::string> {
    current = scene;
    return std::nullopt;
  });
}

void set_locale(GstProductOverlay* self, const gchar* name) {
  auto locale = locale_from_name(name ? name : "");
  if (!locale) {
    warn_scene_error(self, "locale",
                     std::string("unknown locale ") + (name ? name : "(null)") + ", use zh-CN or en");
    return;
  }
  auto renderer = std::make_shared<CardRenderer>(*locale);
  GST_OBJECT_LOCK(self);
  if (self->priv->locale != *locale) {
    self->priv->locale = *locale;
    self->priv->renderer = std::move(renderer);
    ++self->priv->scene_version;
  }
  GST_OBJECT_UNLOCK(self);
}

// ---------------------------------------------------------------- streaming: scene → screen

FrameClock frame_clock(ProductOverlayPrivate& p, GstBuffer* buffer) {
  FrameClock clock;
  clock.pts = GST_BUFFER_PTS(buffer);
  GstClockTime rt = GST_CLOCK_TIME_NONE;
  if (GST_CLOCK_TIME_IS_VALID(clock.pts)) {
    if (p.segment.format == GST_FORMAT_TIME) {
      rt = gst_segment_to_running_time(&p.segment, GST_FORMAT_TIME, clock.pts);
      clock.stream_time = gst_segment_to_stream_time(&p.segment, GST_FORMAT_TIME, clock.pts);
    } else {
      rt = clock.pts;
    }
  }
  // A frame without a usable timestamp shares the previous frame's time.
  clock.running_time = GST_CLOCK_TIME_IS_VALID(rt) ? rt : p.last_running_time;
  p.last_running_time = clock.running_time;
  if (p.info.fps_n > 0 && p.info.fps_d > 0) {
    clock.duration = gst_util_uint64_scale_int(GST_SECOND, p.info.fps_d, p.info.fps_n);
  } else if (GST_BUFFER_DURATION_IS_VALID(buffer)) {
    clock.duration = GST_BUFFER_DURATION(buffer);
  }
  return clock;
}

ScreenCard* find_on_screen(std::vector<ScreenCard>& screen, const std::string& product_id) {
  for (auto& sc : screen) {
    if (sc.card.product_id == product_id) return &sc;
  }
  return nullptr;
}

// Turns the desired scene into screen state: new cards start fading in, missing
// ones fading out, changed ones are marked for re-rendering.
void reconcile(ProductOverlayPrivate& p, const CardScene& scene, GstClockTime now) {
  std::vector<ScreenCard> next;
  for (const Card& card : scene.cards) {
    ScreenCard* old = find_on_screen(p.screen, card.product_id);
    if (!old) {
      ScreenCard fresh;
      fresh.card = card;
      fresh.phase_start = now;
      next.push_back(std::move(fresh));
      continue;
    }
    ScreenCard sc = std::move(*old);
    old->card.product_id.clear();  // moved out; not a leftover
    if (sc.phase == Phase::kFadingOut) {
      sc.phase = Phase::kFadingIn;
      sc.phase_start = now;
      sc.hide_pending = false;
    }
    if (!(sc.card == card)) {
      if (!sc.card.same_picture_as(card)) sc.picture_dirty = true;
      if (sc.card.sale_ends_at != card.sale_ends_at) sc.countdown_seconds = -1;
      sc.update_pending = sc.announced;
      sc.card = card;
    }
    next.push_back(std::move(sc));
  }
  for (auto& leftover : p.screen) {
    if (leftover.card.product_id.empty()) continue;
    if (leftover.phase != Phase::kFadingOut) {
      leftover.phase = Phase::kFadingOut;
      leftover.phase_start = now;
      leftover.hide_pending = true;
      leftover.update_pending = false;
    }
    next.push_back(std::move(leftover));
  }
  p.screen = std::move(next);
  p.layout_dirty = true;
}

void sync_scene(GstProductOverlay* self, GstClockTime now) {
  ProductOverlayPrivate& p = *self->priv;
  GST_OBJECT_LOCK(self);
  if (p.scene_version == p.applied_version) {
    GST_OBJECT_UNLOCK(self);
    return;
  }
  const CardScene scene = p.scene;
  p.applied_version = p.scene_version;
  const bool new_renderer = p.applied_renderer != p.renderer;
  p.applied_renderer = p.renderer;
  GST_OBJECT_UNLOCK(self);

  if (new_renderer) {
    for (auto& sc : p.screen) {
      sc.picture_dirty = true;
      sc.countdown_seconds = -1;
    }
  }
  reconcile(p, scene, now);
}

// Places the cards that are (still) wanted; cards fading out keep their place.
void layout_screen(ProductOverlayPrivate& p) {
  if (!p.layout_dirty) return;
  p.layout_dirty = false;
  std::vector<CardShape> shapes;
  std::vector<ScreenCard*> placed;
  for (auto& sc : p.screen) {
    if (sc.phase == Phase::kFadingOut) continue;
    shapes.push_back(CardShape{sc.card.slot, !sc.card.trace_url.empty()});
    placed.push_back(&sc);
  }
  const auto rects = layout_cards(p.info.width, p.info.height, shapes);
  for (std::size_t i = 0; i < placed.size(); ++i) {
    ScreenCard& sc = *placed[i];
    const bool resized =
        !sc.rect || !rects[i] || sc.rect->width != rects[i]->width || sc.rect->height != rects[i]->height;
    if (resized) {
      sc.picture_dirty = true;
      sc.countdown_seconds = -1;
    }
    sc.rect = rects[i];
  }
}

void prepare_layer(ProductOverlayPrivate& p, Layer& layer) {
  if (!layer.bitmap) return;
  if (p.attach_meta) {
    if (layer.rectangle) return;
    const CardBitmap& b = *layer.bitmap;
    const auto size = static_cast<gsize>(b.stride) * static_cast<gsize>(b.height);
    // The GstBuffer borrows the bitmap's pixels and keeps the bitmap alive.
    auto* keep = new std::shared_ptr<const CardBitmap>(layer.bitmap);
    GstBuffer* pixels = gst_buffer_new_wrapped_full(
        GST_MEMORY_FLAG_READONLY, const_cast<std::uint8_t*>(b.pixels.data()), size, 0, size, keep,
        [](gpointer data) { delete static_cast<std::shared_ptr<const CardBitmap>*>(data); });
    gsize offsets[GST_VIDEO_MAX_PLANES] = {0};
    gint strides[GST_VIDEO_MAX_PLANES] = {b.stride};
    gst_buffer_add_video_meta_full(pixels, GST_VIDEO_FRAME_FLAG_NONE,
                                   GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, static_cast<guint>(b.width),
                                   static_cast<guint>(b.height), 1, offsets, strides);
    layer.rectangle.reset(gst_video_overlay_rectangle_new_raw(
        pixels, layer.where.x, layer.where.y, static_cast<guint>(layer.where.width),
        static_cast<guint>(layer.where.height), GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA));
    gst_buffer_unref(pixels);
  } else if (!layer.prepared) {
    layer.prepared.emplace(*layer.bitmap, p.format);
  }
}

// Renders what changed: a card's picture when its content or size changed, its
// countdown strip when the displayed second changed.
void refresh_pictures(GstProductOverlay* self, const FrameClock& clock) {
  ProductOverlayPrivate& p = *self->priv;
  for (auto& sc : p.screen) {
    if (!sc.rect) {
      sc.picture.clear();
      sc.countdown.clear();
      continue;
    }
    if (sc.picture_dirty) {
      CardPicture picture =
          obtain_picture(self, *p.applied_renderer, sc.card, CardSize{sc.rect->width, sc.rect->height});
      sc.picture.set(picture.bitmap);
      sc.picture_dirty = false;
    }
    sc.picture.place(*sc.rect);
    prepare_layer(p, sc.picture);

    if (!sc.card.sale_ends_at) {
      sc.countdown.clear();
      sc.countdown_seconds = -1;
      continue;
    }
    const CardGeometry g = card_geometry(sc.rect->width, sc.rect->height, !sc.card.trace_url.empty());
    const std::int64_t left = seconds_left(clock.running_time, seconds_to_ns(*sc.card.sale_ends_at));
    if (left != sc.countdown_seconds) {
      sc.countdown.set(p.applied_renderer->render_countdown(left, g.countdown.width, g.countdown.height));
      sc.countdown_seconds = left;
    }
    sc.countdown.place(
        Rect{sc.rect->x + g.countdown.x, sc.rect->y + g.countdown.y, g.countdown.width, g.countdown.height});
    prepare_layer(p, sc.countdown);
  }
}

// Opacity of every card on this frame. The first frame of a fade already shows
// the change (partly), so messages can name it as the first frame showing it.
void update_fades(GstProductOverlay* self, const FrameClock& clock) {
  ProductOverlayPrivate& p = *self->priv;
  GST_OBJECT_LOCK(self);
  const GstClockTime fade = static_cast<GstClockTime>(p.fade_ms) * GST_MSECOND;
  GST_OBJECT_UNLOCK(self);
  for (auto& sc : p.screen) {
    const GstClockTime elapsed =
        clock.running_time > sc.phase_start ? clock.running_time - sc.phase_start : 0;
    const double progress = fade == 0 ? 1.0
                                      : std::min(1.0, static_cast<double>(elapsed + clock.duration) /
                                                          static_cast<double>(fade + clock.duration));
    switch (sc.phase) {
      case Phase::kFadingIn:
        sc.opacity = static_cast<guint8>(std::clamp(std::lround(255 * progress), 1L, 255L));
        if (progress >= 1.0) sc.phase = Phase::kShown;
        break;
      case Phase::kShown:
        sc.opacity = 255;
        break;
      case Phase::kFadingOut:
        sc.opacity = static_cast<guint8>(std::clamp(std::lround(255 * (1.0 - progress)), 0L, 255L));
        break;
    }
  }
}

bool drawn(const ScreenCard& sc) { return sc.rect && sc.opacity > 0 && sc.picture.bitmap; }

void post_card_message(GstProductOverlay* self, const ScreenCard& sc, const char* action,
                       const FrameClock& clock) {
  const Rect r = sc.rect.value_or(Rect{});
  GstStructure* s = gst_structure_new(
      kCardMessage, "product-id", G_TYPE_STRING, sc.card.product_id.c_str(), "action", G_TYPE_STRING, action,
      "running-time", G_TYPE_UINT64, clock.running_time, "pts", G_TYPE_UINT64, clock.pts, "stream-time",
      G_TYPE_UINT64, clock.stream_time, "slot", G_TYPE_STRING, std::string(slot_name(sc.card.slot)).c_str(),
      "x", G_TYPE_INT, r.x, "y", G_TYPE_INT, r.y, "width", G_TYPE_INT, r.width, "height", G_TYPE_INT,
      r.height, nullptr);
  GST_DEBUG_OBJECT(self, "card %s %s at %" GST_TIME_FORMAT, sc.card.product_id.c_str(), action,
                   GST_TIME_ARGS(clock.running_time));
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

// Posts the changes that become visible on this frame, then forgets cards whose
// fade-out has finished.
void announce_changes(GstProductOverlay* self, const FrameClock& clock) {
  ProductOverlayPrivate& p = *self->priv;
  for (auto& sc : p.screen) {
    if (sc.phase == Phase::kFadingOut) {
      if (sc.hide_pending && sc.announced) post_card_message(self, sc, "hidden", clock);
      sc.hide_pending = false;
      sc.announced = false;
      continue;
    }
    if (!drawn(sc)) continue;
    if (!sc.announced) {
      post_card_message(self, sc, "shown", clock);
      sc.announced = true;
      sc.update_pending = false;
    } else if (sc.update_pending) {
      post_card_message(self, sc, "updated", clock);
      sc.update_pending = false;
    }
  }
  std::erase_if(p.screen,
                [](const ScreenCard& sc) { return sc.phase == Phase::kFadingOut && sc.opacity == 0; });
}

// ---------------------------------------------------------------- streaming: output

void attach_composition(ProductOverlayPrivate& p, GstBuffer* buffer) {
  GstVideoOverlayComposition* composition = nullptr;
  auto add = [&composition](const Layer& layer, guint8 opacity) {
    if (!layer.rectangle) return;
    GstVideoOverlayRectangle* r = layer.rectangle.get();
    RectanglePtr faded;
    if (opacity < 255) {
      // A copy shares the pixels; the cached rectangle keeps full alpha.
      faded.reset(gst_video_overlay_rectangle_copy(r));
      gst_video_overlay_rectangle_set_global_alpha(faded.get(), static_cast<float>(opacity) / 255.0f);
      r = faded.get();
    }
    if (!composition)
      composition = gst_video_overlay_composition_new(r);
    else
      gst_video_overlay_composition_add_rectangle(composition, r);
  };
  for (const auto& sc : p.screen) {
    if (!drawn(sc)) continue;
    add(sc.picture, sc.opacity);
    add(sc.countdown, sc.opacity);
  }
  if (!composition) return;
  gst_buffer_add_video_overlay_composition_meta(buffer, composition);
  gst_video_overlay_composition_unref(composition);
}

bool blend_cards(GstProductOverlay* self, GstBuffer* buffer) {
  ProductOverlayPrivate& p = *self->priv;
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &p.info, buffer, GST_MAP_READWRITE)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map a video frame for writing"), (nullptr));
    return false;
  }
  FramePlanes planes;
  planes.width = GST_VIDEO_FRAME_WIDTH(&frame);
  planes.height = GST_VIDEO_FRAME_HEIGHT(&frame);
  for (guint i = 0; i < GST_VIDEO_FRAME_N_PLANES(&frame) && i < planes.data.size(); ++i) {
    planes.data[i] = static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, i));
    planes.stride[i] = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, i);
  }
  for (const auto& sc : p.screen) {
    if (!drawn(sc)) continue;
    for (const Layer* layer : {&sc.picture, &sc.countdown}) {
      if (layer->prepared) layer->prepared->blend(planes, layer->where.x, layer->where.y, sc.opacity);
    }
  }
  gst_video_frame_unmap(&frame);
  return true;
}

// ---------------------------------------------------------------- negotiation

bool is_overlay_feature_caps(GstCapsFeatures* f) {
  return f && !gst_caps_features_is_any(f) &&
         gst_caps_features_contains(f, GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
}

// `caps` with the overlay-composition feature added to every structure.
GstCaps* with_overlay_feature(GstCaps* caps) {
  GstCaps* out = gst_caps_copy(caps);
  for (guint i = 0; i < gst_caps_get_size(out); ++i) {
    GstCapsFeatures* f = gst_caps_get_features(out, i);
    if (f && !gst_caps_features_is_any(f) &&
        !gst_caps_features_contains(f, GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION)) {
      gst_caps_features_add(f, GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
    }
  }
  return out;
}

// `caps` with the overlay-composition feature removed (what we take upstream).
GstCaps* without_overlay_feature(GstCaps* caps) {
  GstCaps* out = gst_caps_copy(caps);
  for (guint i = 0; i < gst_caps_get_size(out); ++i) {
    GstCapsFeatures* f = gst_caps_get_features(out, i);
    if (!is_overlay_feature_caps(f)) continue;
    gst_caps_features_remove(f, GST_CAPS_FEATURE_META_GST_VIDEO_OVERLAY_COMPOSITION);
    // No feature left means plain system memory, which is spelled "no features".
    if (gst_caps_features_get_size(f) == 0) gst_caps_set_features(out, i, nullptr);
  }
  return gst_caps_simplify(out);
}

GstCaps* intersect_template(GstCaps* caps, GstPad* pad, GstCaps* filter) {
  GstCaps* templ = gst_pad_get_pad_template_caps(pad);
  GstCaps* result = gst_caps_is_any(caps) ? gst_caps_ref(templ) : gst_caps_intersect(caps, templ);
  gst_caps_unref(templ);
  if (filter) {
    GstCaps* filtered = gst_caps_intersect_full(filter, result, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(result);
    result = filtered;
  }
  return result;
}

// What upstream may send: whatever downstream takes, with or without the meta.
GstCaps* sink_query_caps(GstProductOverlay* self, GstCaps* filter) {
  GstCaps* down_filter = nullptr;
  if (filter) down_filter = gst_caps_merge(with_overlay_feature(filter), gst_caps_ref(filter));
  GstCaps* peer = gst_pad_peer_query_caps(self->srcpad, down_filter);
  if (down_filter) gst_caps_unref(down_filter);
  GstCaps* plain = gst_caps_is_any(peer) ? gst_caps_ref(peer) : without_overlay_feature(peer);
  gst_caps_unref(peer);
  GstCaps* result = intersect_template(plain, self->sinkpad, filter);
  gst_caps_unref(plain);
  return result;
}

// What we may output: what upstream offers, also with the meta feature.
GstCaps* src_query_caps(GstProductOverlay* self, GstCaps* filter) {
  GstCaps* up_filter = filter ? without_overlay_feature(filter) : nullptr;
  GstCaps* peer = gst_pad_peer_query_caps(self->sinkpad, up_filter);
  if (up_filter) gst_caps_unref(up_filter);
  GstCaps* both = gst_caps_is_any(peer) ? gst_caps_ref(peer)
                                        : gst_caps_merge(with_overlay_feature(peer), gst_caps_ref(peer));
  gst_caps_unref(peer);
  GstCaps* result = intersect_template(both, self->srcpad, filter);
  gst_caps_unref(both);
  return result;
}

std::optional<FrameFormat> frame_format_for(const GstVideoInfo& info) {
  const GstVideoFormatInfo* f = info.finfo;
  if (!f || GST_VIDEO_FORMAT_INFO_BITS(f) != 8) return std::nullopt;
  FrameFormat format;
  format.planes.resize(GST_VIDEO_FORMAT_INFO_N_PLANES(f));
  const bool yuv = GST_VIDEO_FORMAT_INFO_IS_YUV(f);
  constexpr Channel kYuv[] = {Channel::kY, Channel::kU, Channel::kV, Channel::kA};
  constexpr Channel kRgb[] = {Channel::kR, Channel::kG, Channel::kB, Channel::kA};
  for (guint c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS(f) && c < 4; ++c) {
    const auto plane = f->plane[c];
    const int offset = static_cast<int>(f->poffset[c]);
    if (plane >= format.planes.size() || offset >= 4 || f->pixel_stride[c] > 4) return std::nullopt;
    PlaneFormat& pf = format.planes[plane];
    pf.bytes_per_pixel = f->pixel_stride[c];
    pf.shift_x = static_cast<int>(f->w_sub[c]);
    pf.shift_y = static_cast<int>(f->h_sub[c]);
    pf.channels[static_cast<std::size_t>(offset)] = yuv ? kYuv[c] : kRgb[c];
  }
  double kr = 0, kb = 0;
  if (yuv && gst_video_color_matrix_get_Kr_Kb(info.colorimetry.matrix, &kr, &kb)) {
    format.matrix.kr = kr;
    format.matrix.kb = kb;
  }
  format.matrix.full_range = info.colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
  return format;
}

// Decides between attaching the meta (downstream takes the feature and the
// meta in its ALLOCATION answer) and blending, and sets the source caps.
bool negotiate(GstProductOverlay* self, GstCaps* caps) {
  ProductOverlayPrivate& p = *self->priv;
  gst_pad_check_reconfigure(self->srcpad);
  GstCaps* current = caps ? gst_caps_ref(caps) : gst_pad_get_current_caps(self->sinkpad);
  if (!current) return false;

  bool attach = false;
  GstCaps* meta_caps = with_overlay_feature(current);
  GstCaps* peer = gst_pad_peer_query_caps(self->srcpad, meta_caps);
  const bool downstream_takes_meta = !gst_caps_is_empty(peer);
  gst_caps_unref(peer);
  if (downstream_takes_meta && gst_pad_set_caps(self->srcpad, meta_caps)) {
    GstQuery* query = gst_query_new_allocation(meta_caps, FALSE);
    if (gst_pad_peer_query(self->srcpad, query)) {
      attach = gst_query_find_allocation_meta(query, GST_VIDEO_OVERLAY_COMPOSITION_META_API_TYPE, nullptr);
    }
    gst_query_unref(query);
  }
  bool ok = true;
  if (!attach) {
    ok = gst_pad_set_caps(self->srcpad, current);
    // Downstream that only takes the feature still gets blended frames.
    if (!ok && downstream_takes_meta) ok = gst_pad_set_caps(self->srcpad, meta_caps);
  }
  gst_caps_unref(meta_caps);
  gst_caps_unref(current);

  if (attach != p.attach_meta) {
    for (auto& sc : p.screen) {
      sc.picture.set(sc.picture.bitmap);  // drop the other path's form
      sc.countdown.set(sc.countdown.bitmap);
    }
  }
  p.attach_meta = attach;
  GST_INFO_OBJECT(self, "%s", attach ? "attaching overlay composition meta" : "blending cards into frames");
  if (!ok) gst_pad_mark_reconfigure(self->srcpad);
  return ok;
}

bool set_caps(GstProductOverlay* self, GstCaps* caps) {
  ProductOverlayPrivate& p = *self->priv;
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps)) return false;
  auto format = frame_format_for(info);
  if (!format) return false;
  const bool resized = !p.have_info || info.width != p.info.width || info.height != p.info.height;
  const bool reformatted = !p.have_info || !(*format == p.format);
  p.info = info;
  p.format = *format;
  p.have_info = true;
  if (resized) p.layout_dirty = true;
  for (auto& sc : p.screen) {
    if (resized) sc.picture_dirty = true;
    if (resized) sc.countdown_seconds = -1;
    if (reformatted) {
      sc.picture.set(sc.picture.bitmap);
      sc.countdown.set(sc.countdown.bitmap);
    }
  }
  GST_OBJECT_LOCK(self);
  p.frame_width = info.width;
  p.frame_height = info.height;
  GST_OBJECT_UNLOCK(self);
  return negotiate(self, caps);
}

// ---------------------------------------------------------------- pads

GstFlowReturn sink_chain(GstPad*, GstObject* parent, GstBuffer* buffer) {
  auto* self = GST_PRODUCT_OVERLAY(parent);
  ProductOverlayPrivate& p = *self->priv;
  if (gst_pad_check_reconfigure(self->srcpad) && !negotiate(self, nullptr)) {
    gst_buffer_unref(buffer);
    return GST_PAD_IS_FLUSHING(self->srcpad) ? GST_FLOW_FLUSHING : GST_FLOW_NOT_NEGOTIATED;
  }
  if (!p.have_info) {
    gst_buffer_unref(buffer);
    return GST_FLOW_NOT_NEGOTIATED;
  }

  const FrameClock clock = frame_clock(p, buffer);
  sync_scene(self, clock.running_time);
  layout_screen(p);
  refresh_pictures(self, clock);
  update_fades(self, clock);
  const bool any_drawn = std::any_of(p.screen.begin(), p.screen.end(), drawn);

  if (any_drawn) {
    // Only the buffer's metadata is copied when the meta is attached; the
    // pixels are copied only if someone else still holds this frame.
    buffer = gst_buffer_make_writable(buffer);
    if (p.attach_meta) {
      attach_composition(p, buffer);
    } else if (!blend_cards(self, buffer)) {
      gst_buffer_unref(buffer);
      return GST_FLOW_ERROR;
    }
  }
  announce_changes(self, clock);
  // No card visible: the very same buffer goes on, untouched and uncopied.
  return gst_pad_push(self->srcpad, buffer);
}

gboolean sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  auto* self = GST_PRODUCT_OVERLAY(parent);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      const bool ok = set_caps(self, caps);
      gst_event_unref(event);
      return ok;
    }
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment(event, &self->priv->segment);
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_segment_init(&self->priv->segment, GST_FORMAT_UNDEFINED);
      break;
    default:
      break;
  }
  return gst_pad_event_default(pad, parent, event);
}

gboolean sink_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  if (GST_QUERY_TYPE(query) != GST_QUERY_CAPS) return gst_pad_query_default(pad, parent, query);
  GstCaps* filter = nullptr;
  gst_query_parse_caps(query, &filter);
  GstCaps* caps = sink_query_caps(GST_PRODUCT_OVERLAY(parent), filter);
  gst_query_set_caps_result(query, caps);
  gst_caps_unref(caps);
  return TRUE;
}

gboolean src_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  if (GST_QUERY_TYPE(query) != GST_QUERY_CAPS) return gst_pad_query_default(pad, parent, query);
  GstCaps* filter = nullptr;
  gst_query_parse_caps(query, &filter);
  GstCaps* caps = src_query_caps(GST_PRODUCT_OVERLAY(parent), filter);
  gst_query_set_caps_result(query, caps);
  gst_caps_unref(caps);
  return TRUE;
}

// ---------------------------------------------------------------- GObject

void reset_stream_state(ProductOverlayPrivate& p) {
  p.screen.clear();
  p.have_info = false;
  p.attach_meta = false;
  p.applied_version = 0;  // re-apply the scene from scratch on the next frame
  p.layout_dirty = true;
  p.last_running_time = 0;
  gst_segment_init(&p.segment, GST_FORMAT_UNDEFINED);
}

GstStateChangeReturn change_state(GstElement* element, GstStateChange transition) {
  auto* self = GST_PRODUCT_OVERLAY(element);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) reset_stream_state(*self->priv);
  const GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_product_overlay_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    reset_stream_state(*self->priv);
    self->priv->pictures.clear();
  }
  return ret;
}

void set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_PRODUCT_OVERLAY(object);
  switch (prop_id) {
    case PROP_SCENE:
      set_scene_json(self, g_value_get_string(value));
      break;
    case PROP_FADE_DURATION:
      GST_OBJECT_LOCK(self);
      self->priv->fade_ms = g_value_get_uint(value);
      GST_OBJECT_UNLOCK(self);
      break;
    case PROP_LOCALE:
      set_locale(self, g_value_get_string(value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

void get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_PRODUCT_OVERLAY(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_SCENE:
      g_value_set_string(value, scene_to_json(self->priv->scene).c_str());
      break;
    case PROP_FADE_DURATION:
      g_value_set_uint(value, self->priv->fade_ms);
      break;
    case PROP_LOCALE:
      g_value_set_string(value, std::string(locale_name(self->priv->locale)).c_str());
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

void finalize(GObject* object) {
  auto* self = GST_PRODUCT_OVERLAY(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(gst_product_overlay_parent_class)->finalize(object);
}

}  // namespace

static void gst_product_overlay_class_init(GstProductOverlayClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GST_DEBUG_CATEGORY_INIT(product_overlay_debug, "productoverlay", 0, "Product card overlay");

  gobject_class->set_property = set_property;
  gobject_class->get_property = get_property;
  gobject_class->finalize = finalize;
  element_class->change_state = GST_DEBUG_FUNCPTR(change_state);

  const auto flags =
      static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_property(
      gobject_class, PROP_SCENE,
      g_param_spec_string("scene", "Scene",
                          "Cards to show, as JSON {\"cards\": [...]}; applied atomically at the next frame. "
                          "Invalid JSON keeps the current scene and posts a warning.",
                          "{\"cards\":[]}", flags));
  g_object_class_install_property(gobject_class, PROP_FADE_DURATION,
                                  g_param_spec_uint("fade-duration", "Fade duration",
                                                    "Fade in/out time of a card in milliseconds (0: none)", 0,
                                                    kMaxFadeMs, kDefaultFadeMs, flags));
  g_object_class_install_property(
      gobject_class, PROP_LOCALE,
      g_param_spec_string("locale", "Locale", "Language of the card labels: zh-CN or en", "zh-CN", flags));

  const auto action = static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION);
  signals[SIGNAL_SHOW_CARD] =
      g_signal_new_class_handler("show-card", G_TYPE_FROM_CLASS(klass), action, G_CALLBACK(on_show_card),
                                 nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 1, G_TYPE_STRING);
  signals[SIGNAL_HIDE_CARD] =
      g_signal_new_class_handler("hide-card", G_TYPE_FROM_CLASS(klass), action, G_CALLBACK(on_hide_card),
                                 nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 1, G_TYPE_STRING);
  signals[SIGNAL_UPDATE_CARD] =
      g_signal_new_class_handler("update-card", G_TYPE_FROM_CLASS(klass), action, G_CALLBACK(on_update_card),
                                 nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 1, G_TYPE_STRING);

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(element_class, "Product card overlay", "Filter/Editor/Video",
                                        "Draws live-commerce product cards (picture, title, price, stock, "
                                        "countdown) onto video",
                                        "Harvest Live <dev@harvest.live>");
}

static void gst_product_overlay_init(GstProductOverlay* self) {
  self->priv = new ProductOverlayPrivate();
  gst_segment_init(&self->priv->segment, GST_FORMAT_UNDEFINED);

  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, GST_DEBUG_FUNCPTR(sink_chain));
  gst_pad_set_event_function(self->sinkpad, GST_DEBUG_FUNCPTR(sink_event));
  gst_pad_set_query_function(self->sinkpad, GST_DEBUG_FUNCPTR(sink_query));
  GST_PAD_SET_PROXY_ALLOCATION(self->sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_query_function(self->srcpad, GST_DEBUG_FUNCPTR(src_query));
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}

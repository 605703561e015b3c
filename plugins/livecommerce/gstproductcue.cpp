// productcue: card cues in the compressed stream. On parsed H.264 (alignment=au)
// it inserts one SEI user_data_unregistered NAL unit per cue (project UUID +
// {"product_id":…,"action":…}) into the access unit at which the cue is due: the
// first unit whose running time reaches the cue's running time, or simply the
// next unit for cues without a time. Cues come from the `add-cue` action signal
// or from changes of the `scene` property (same JSON as productoverlay). Every
// other access unit passes through untouched.
#include "gstproductcue.h"

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include "scene.h"
#include "sei.h"

GST_DEBUG_CATEGORY_STATIC(product_cue_debug);
#define GST_CAT_DEFAULT product_cue_debug

using namespace harvest::livecommerce;

#define PRODUCT_CUE_CAPS \
  "video/x-h264, stream-format = (string) { byte-stream, avc }, alignment = (string) au"

namespace {

constexpr const char* kInsertedMessage = "productcue-inserted";
constexpr std::size_t kMaxPendingCues = 256;  // a stalled stream must not grow without bound

GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(PRODUCT_CUE_CAPS));
GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(PRODUCT_CUE_CAPS));

enum { PROP_0, PROP_SCENE };
enum { SIGNAL_ADD_CUE, LAST_SIGNAL };
guint signals[LAST_SIGNAL];

struct PendingCue {
  Cue cue;
  GstClockTime running_time = GST_CLOCK_TIME_NONE;  // NONE: the next access unit
};

}  // namespace

struct ProductCuePrivate {
  // Guarded by GST_OBJECT_LOCK: written from any thread.
  std::deque<PendingCue> pending;
  CardScene scene;

  // Streaming thread only.
  AccessUnitFormat format;
  GstSegment segment{};
  GstClockTime last_running_time = 0;
};

struct _GstProductCue {
  GstElement parent;
  GstPad* sinkpad;
  GstPad* srcpad;
  ProductCuePrivate* priv;
};

// GObject's type boilerplate casts function pointers C-style.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
G_DEFINE_TYPE(GstProductCue, gst_product_cue, GST_TYPE_ELEMENT)
#pragma GCC diagnostic pop
GST_ELEMENT_REGISTER_DEFINE(productcue, "productcue", GST_RANK_NONE, GST_TYPE_PRODUCT_CUE)

namespace {

bool valid_action(const std::string& action) {
  return action == "shown" || action == "hidden" || action == "updated";
}

void queue_cue(GstProductCue* self, PendingCue cue) {
  GST_OBJECT_LOCK(self);
  if (self->priv->pending.size() >= kMaxPendingCues) {
    GST_WARNING_OBJECT(self, "too many pending cues, dropping the oldest");
    self->priv->pending.pop_front();
  }
  self->priv->pending.push_back(std::move(cue));
  GST_OBJECT_UNLOCK(self);
}

gboolean on_add_cue(GstProductCue* self, const gchar* product_id, const gchar* action, guint64 running_time) {
  const std::string id = product_id ? product_id : "";
  const std::string what = action ? action : "";
  if (id.empty() || id.size() > 128 || !valid_action(what)) {
    GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS,
                        ("add-cue: need a product id and an action of shown, hidden or updated"), (nullptr));
    return FALSE;
  }
  queue_cue(self, PendingCue{Cue{id, what}, running_time});
  return TRUE;
}

// A new scene cues "shown" for cards that appeared and "hidden" for cards that went.
void set_scene_json(GstProductCue* self, const gchar* json) {
  auto parsed = parse_scene(json ? json : "");
  if (auto* error = std::get_if<ParseError>(&parsed)) {
    GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS,
                        ("Invalid scene JSON, keeping the current scene: %s", error->message.c_str()),
                        (nullptr));
    return;
  }
  CardScene scene = std::move(std::get<CardScene>(parsed));
  GST_OBJECT_LOCK(self);
  std::vector<PendingCue> cues;
  for (const auto& card : self->priv->scene.cards) {
    if (!scene.find(card.product_id)) cues.push_back(PendingCue{Cue{card.product_id, "hidden"}});
  }
  for (const auto& card : scene.cards) {
    if (!self->priv->scene.find(card.product_id)) cues.push_back(PendingCue{Cue{card.product_id, "shown"}});
  }
  self->priv->scene = std::move(scene);
  GST_OBJECT_UNLOCK(self);
  for (auto& cue : cues) queue_cue(self, std::move(cue));
}

GstClockTime access_unit_running_time(ProductCuePrivate& p, GstBuffer* buffer) {
  GstClockTime ts = GST_BUFFER_PTS_IS_VALID(buffer) ? GST_BUFFER_PTS(buffer) : GST_BUFFER_DTS(buffer);
  GstClockTime rt = GST_CLOCK_TIME_NONE;
  if (GST_CLOCK_TIME_IS_VALID(ts)) {
    rt = p.segment.format == GST_FORMAT_TIME ? gst_segment_to_running_time(&p.segment, GST_FORMAT_TIME, ts)
                                             : ts;
  }
  if (GST_CLOCK_TIME_IS_VALID(rt)) p.last_running_time = rt;
  return p.last_running_time;
}

std::vector<Cue> take_due_cues(GstProductCue* self, GstClockTime running_time) {
  std::vector<Cue> due;
  GST_OBJECT_LOCK(self);
  auto& pending = self->priv->pending;
  for (auto it = pending.begin(); it != pending.end();) {
    if (!GST_CLOCK_TIME_IS_VALID(it->running_time) || it->running_time <= running_time) {
      due.push_back(std::move(it->cue));
      it = pending.erase(it);
    } else {
      ++it;
    }
  }
  GST_OBJECT_UNLOCK(self);
  return due;
}

void post_inserted(GstProductCue* self, const Cue& cue, GstBuffer* buffer, GstClockTime running_time) {
  GstStructure* s =
      gst_structure_new(kInsertedMessage, "product-id", G_TYPE_STRING, cue.product_id.c_str(), "action",
                        G_TYPE_STRING, cue.action.c_str(), "running-time", G_TYPE_UINT64, running_time, "pts",
                        G_TYPE_UINT64, GST_BUFFER_PTS(buffer), nullptr);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

// A new buffer holding `au` with the cues' SEI units, carrying `in`'s timestamps and flags.
GstBuffer* with_cues(GstProductCue* self, GstBuffer* in, const std::vector<Cue>& cues) {
  GstMapInfo map;
  if (!gst_buffer_map(in, &map, GST_MAP_READ)) return nullptr;
  std::vector<std::uint8_t> au(map.data, map.data + map.size);
  gst_buffer_unmap(in, &map);
  for (const auto& cue : cues) {
    auto inserted = insert_sei(au, self->priv->format, build_cue_sei_nal(cue));
    if (!inserted) {
      GST_WARNING_OBJECT(self, "cue for %s does not fit the stream's NAL length size",
                         cue.product_id.c_str());
      continue;
    }
    au = std::move(*inserted);
  }
  GstBuffer* out = gst_buffer_new_allocate(nullptr, au.size(), nullptr);
  gst_buffer_fill(out, 0, au.data(), au.size());
  gst_buffer_copy_into(out, in,
                       static_cast<GstBufferCopyFlags>(GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS |
                                                       GST_BUFFER_COPY_META),
                       0, static_cast<gsize>(-1));
  return out;
}

GstFlowReturn sink_chain(GstPad*, GstObject* parent, GstBuffer* buffer) {
  auto* self = GST_PRODUCT_CUE(parent);
  const GstClockTime running_time = access_unit_running_time(*self->priv, buffer);
  const std::vector<Cue> due = take_due_cues(self, running_time);
  if (due.empty()) return gst_pad_push(self->srcpad, buffer);

  GstBuffer* out = with_cues(self, buffer, due);
  if (!out) {
    gst_buffer_unref(buffer);
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not read an access unit"), (nullptr));
    return GST_FLOW_ERROR;
  }
  for (const auto& cue : due) {
    GST_DEBUG_OBJECT(self, "cue %s %s at %" GST_TIME_FORMAT, cue.product_id.c_str(), cue.action.c_str(),
                     GST_TIME_ARGS(running_time));
    post_inserted(self, cue, out, running_time);
  }
  gst_buffer_unref(buffer);
  return gst_pad_push(self->srcpad, out);
}

void read_caps(GstProductCue* self, GstCaps* caps) {
  AccessUnitFormat format;
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  const gchar* stream_format = gst_structure_get_string(s, "stream-format");
  if (stream_format && g_str_equal(stream_format, "avc")) {
    format.framing = H264Framing::kAvc;
    const GValue* codec_data = gst_structure_get_value(s, "codec_data");
    if (codec_data && G_VALUE_HOLDS(codec_data, GST_TYPE_BUFFER)) {
      GstMapInfo map;
      GstBuffer* data = gst_value_get_buffer(codec_data);
      if (gst_buffer_map(data, &map, GST_MAP_READ)) {
        format.nal_length_size = avcc_nal_length_size({map.data, map.size}).value_or(4);
        gst_buffer_unmap(data, &map);
      }
    }
  }
  self->priv->format = format;
}

gboolean sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  auto* self = GST_PRODUCT_CUE(parent);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      read_caps(self, caps);
      break;
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

void set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  if (prop_id == PROP_SCENE) {
    set_scene_json(GST_PRODUCT_CUE(object), g_value_get_string(value));
    return;
  }
  G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
}

void get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_PRODUCT_CUE(object);
  if (prop_id != PROP_SCENE) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  GST_OBJECT_LOCK(self);
  g_value_set_string(value, scene_to_json(self->priv->scene).c_str());
  GST_OBJECT_UNLOCK(self);
}

GstStateChangeReturn change_state(GstElement* element, GstStateChange transition) {
  auto* self = GST_PRODUCT_CUE(element);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    gst_segment_init(&self->priv->segment, GST_FORMAT_UNDEFINED);
    self->priv->last_running_time = 0;
  }
  return GST_ELEMENT_CLASS(gst_product_cue_parent_class)->change_state(element, transition);
}

void finalize(GObject* object) {
  auto* self = GST_PRODUCT_CUE(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(gst_product_cue_parent_class)->finalize(object);
}

}  // namespace

static void gst_product_cue_class_init(GstProductCueClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GST_DEBUG_CATEGORY_INIT(product_cue_debug, "productcue", 0, "Product card cues in H.264 SEI");

  gobject_class->set_property = set_property;
  gobject_class->get_property = get_property;
  gobject_class->finalize = finalize;
  element_class->change_state = GST_DEBUG_FUNCPTR(change_state);

  g_object_class_install_property(
      gobject_class, PROP_SCENE,
      g_param_spec_string(
          "scene", "Scene",
          "Cards on screen, same JSON as productoverlay's scene; cards that appear or disappear "
          "are cued as shown/hidden in the next access unit",
          "{\"cards\":[]}",
          static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)));

  signals[SIGNAL_ADD_CUE] = g_signal_new_class_handler(
      "add-cue", G_TYPE_FROM_CLASS(klass), static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(on_add_cue), nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 3, G_TYPE_STRING, G_TYPE_STRING,
      G_TYPE_UINT64);

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(element_class, "Product card cues", "Codec/Video/Parser",
                                        "Inserts product card cues into H.264 access units as SEI "
                                        "user_data_unregistered messages",
                                        "Harvest Live <dev@harvest.live>");
}

static void gst_product_cue_init(GstProductCue* self) {
  self->priv = new ProductCuePrivate();
  gst_segment_init(&self->priv->segment, GST_FORMAT_UNDEFINED);

  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, GST_DEBUG_FUNCPTR(sink_chain));
  gst_pad_set_event_function(self->sinkpad, GST_DEBUG_FUNCPTR(sink_event));
  GST_PAD_SET_PROXY_CAPS(self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION(self->sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  GST_PAD_SET_PROXY_CAPS(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}

#include "show/card_link.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <utility>

#include "core/log.h"
#include "core/stream_registry.h"
#include "media/hls/playlist.h"
#include "media/ingest/publish_session.h"
#include "media/ingest/stream_pipeline.h"
#include "scene.h"  // productoverlay's card limits

namespace harvest::show {

namespace hls = media::hls;
using livecommerce::kMaxTraceUrlBytes;
using media::BurnedBranch;
using media::BurnedLadder;
using media::mask_restream_url;
using media::Restream;

namespace {
// "x,y,width,height" of a productoverlay-card message (where the card is drawn, frame pixels).
std::string rect_text(const GstStructure* s) {
  int v[4] = {0, 0, 0, 0};
  const char* names[4] = {"x", "y", "width", "height"};
  for (int i = 0; i < 4; ++i) gst_structure_get_int(s, names[i], &v[i]);
  return std::to_string(v[0]) + "," + std::to_string(v[1]) + "," + std::to_string(v[2]) + "," + std::to_string(v[3]);
}
}  // namespace

namespace {
// show-card takes no nulls (only update-card uses them, to remove a line).
std::string show_card_json(nlohmann::json card) {
  for (auto f = card.begin(); f != card.end();) f = f->is_null() ? card.erase(f) : std::next(f);
  return card.dump();
}
// A trace code as one path segment: RFC 3986 unreserved characters stay, the rest is %XX.
std::string percent_encode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}
}  // namespace

double pts_seconds_of_running_time(uint64_t running_time_ns) {
  // mpegtsmux writes PTS = running time + 1 h (90 kHz); hls.js's currentTime + initPTS is that.
  return kMpegTsPtsOffsetS + static_cast<double>(running_time_ns / 1000) / 1e6;
}

CardLink::CardLink(EventLoop& loop, CardStage& stage, IngestManager& ingest,
                   show::ExposureTimeline& exposures, Options options)
    : loop_(loop), options_(options), stage_(stage), ingest_(ingest), exposures_(exposures) {
  stage_.add_card_listener(this);
  ingest_.set_observer(this);
}

CardLink::~CardLink() { ingest_.set_observer(nullptr); }

size_t CardLink::pending(const std::string& stream_id) const {
  auto it = links_.find(stream_id);
  return it == links_.end() ? 0 : it->second.pending.size() + it->second.in_flight.size();
}

bool CardLink::media_flowing(StreamLink& link, const std::string& stream_id) const {
  auto s = link.session.lock();
  return s && !s->ended.load() && ingest_.current_session(stream_id) == s && s->pipeline() != nullptr;
}

void CardLink::on_card_change(const CardEvent& event) {
  StreamLink& link = links_[event.stream_id];
  Change change{event.change_id, event.shown, event.product_id, event.slot,
                event.shown ? event.card : std::nullopt};
  if (event.shown) link.visible[event.product_id] = change;
  else link.visible.erase(event.product_id);
  if (media_flowing(link, event.stream_id) && cue(event.stream_id, link, change)) return;
  link.pending.push_back(std::move(change));
  log::info("card_change_pending").kv("stream", event.stream_id).kv("product", event.product_id).kv(
      "action", event.shown ? "shown" : "hidden");
}

bool CardLink::cue(const std::string& stream_id, StreamLink& link, const Change& change) {
  auto s = link.session.lock();
  auto pipeline = s ? s->pipeline() : nullptr;
  if (!pipeline || pipeline->pipeline() == nullptr) return false;
  GstElement* element = gst_bin_get_by_name(GST_BIN(pipeline->pipeline()), "productcue");
  if (element == nullptr) {
    log::warn("card_cue_unavailable").kv("stream", stream_id).kv("reason", "no productcue in the pipeline");
    return false;
  }
  gboolean ok = FALSE;
  g_signal_emit_by_name(element, "add-cue", change.product_id.c_str(), change.shown ? "shown" : "hidden",
                        static_cast<guint64>(GST_CLOCK_TIME_NONE), &ok);
  gst_object_unref(element);
  if (!ok) {
    log::warn("card_cue_refused").kv("stream", stream_id).kv("product", change.product_id);
    return false;
  }
  // The burned-in branch applies the change on the frame of the access unit that carries the SEI
  // (see BurnedBranch::expect); productcue-inserted reaching the loop may come after that frame.
  if (link.burned && link.burned_session.lock() == s)
    link.burned->expect(change.product_id, change.shown,
                        change.shown ? show_card_json(overlay_card(link, stream_id, change, false)) : change.product_id);
  // The batch the ingest holds (up to StreamPipeline::kBatchMs) goes in now: the cue lands in its
  // first access unit instead of waiting for the batch window.
  const int held = pipeline->flush_now();
  link.in_flight.push_back(change);
  // held_video 0: no frame was held, the cue waits for the publisher's next one (the latency
  // tail; bench/medialink/card_latency.mjs splits its figures by this).
  log::info("card_cued")
      .kv("stream", stream_id)
      .kv("product", change.product_id)
      .kv("action", change.shown ? "shown" : "hidden")
      .kv("held_video", held)
      .kv("cued_us", static_cast<int64_t>(g_get_real_time()));
  return true;
}

void CardLink::apply_pending(const std::string& stream_id, StreamLink& link) {
  // Cues given to a pipeline that went away before their access unit come back first.
  std::vector<Change> todo(link.in_flight.begin(), link.in_flight.end());
  link.in_flight.clear();
  todo.insert(todo.end(), link.pending.begin(), link.pending.end());
  link.pending.clear();
  // Only the last change of each product counts; a hide of a card the video never showed is moot.
  std::vector<Change> last;
  for (auto it = todo.rbegin(); it != todo.rend(); ++it) {
    const bool seen = std::any_of(last.begin(), last.end(), [&](const Change& c) { return c.product_id == it->product_id; });
    if (!seen) last.push_back(*it);
  }
  std::reverse(last.begin(), last.end());
  for (const Change& c : last) {
    if (!c.shown && link.on_video.count(c.product_id) == 0) continue;
    if (!cue(stream_id, link, c)) link.pending.push_back(c);
  }
}

nlohmann::json CardLink::overlay_card(const StreamLink& link, const std::string& stream_id, const Change& change,
                                      bool log_problems) const {
  nlohmann::json card = {{"product_id", change.product_id}, {"slot", change.slot.empty() ? "bottom" : change.slot}};
  if (!change.card) return card;
  const Card& c = *change.card;
  card["title"] = c.title;
  // While a flash sale runs the card shows its price, what is left of it and a countdown.
  card["price"] = c.sale ? c.sale->price : c.price;
  card["currency"] = c.currency;
  card["stock"] = c.sale && c.sale->left < c.stock ? c.sale->left : c.stock;
  card["sold"] = c.sold;
  card["sale_ends_at"] = nullptr;
  if (auto session = link.burned_session.lock(); c.sale && session) {
    // Running time 0 of the session is wall time epoch_wall_ms (the playlist's PDT mapping), so
    // the countdown reaches 00:00 on the frame whose program date time is the sale's end.
    const int64_t epoch = session->epoch_wall_ms.load();
    if (epoch > 0) card["sale_ends_at"] = static_cast<double>(std::max<int64_t>(0, c.sale->ends_at_ms - epoch)) / 1000.0;
  }
  // Null clears them in an update-card (show-card drops the nulls).
  card["origin_place"] = c.origin_place.empty() ? nlohmann::json() : nlohmann::json(c.origin_place);
  card["harvest_date"] = c.harvest_date.empty() ? nlohmann::json() : nlohmann::json(c.harvest_date);
  card["trace_url"] = nullptr;
  if (!c.trace_code.empty() && !options_.trace_base_url.empty()) {
    std::string url = options_.trace_base_url + "/trace/" + percent_encode(c.trace_code);
    // productoverlay refuses a card whose trace URL does not fit its QR (kMaxTraceUrlBytes):
    // such a card is shown without the QR rather than not at all.
    if (url.size() <= kMaxTraceUrlBytes)
      card["trace_url"] = std::move(url);
    else if (log_problems)
      log::warn("burned_card_without_qr")
          .kv("stream", stream_id)
          .kv("product", change.product_id)
          .kv("reason", "trace URL longer than " + std::to_string(kMaxTraceUrlBytes) + " bytes");
  }
  if (!c.image.empty()) {
    const std::string& url = c.image;
    const std::string file = options_.image_file ? options_.image_file(url) : std::string();
    if (!file.empty() && ::access(file.c_str(), R_OK) == 0) {
      card["image"] = file;
    } else if (log_problems) {
      log::warn("burned_card_without_picture")
          .kv("stream", stream_id)
          .kv("product", change.product_id)
          .kv("image", url)
          .kv("reason", file.empty() ? "not an image this server serves" : "cannot read " + file);
    }
  }
  return card;
}

void CardLink::on_card_update(const CardUpdate& update) {
  auto it = links_.find(update.stream_id);
  if (it == links_.end()) return;
  StreamLink& link = it->second;
  // Changes not yet on the video show the current card when they get there.
  auto refresh = [&](Change& c) {
    if (c.shown && c.product_id == update.product_id) c.card = update.card;
  };
  if (auto v = link.visible.find(update.product_id); v != link.visible.end()) refresh(v->second);
  for (Change& c : link.pending) refresh(c);
  for (Change& c : link.in_flight) refresh(c);
  auto shown = link.burned_cards.find(update.product_id);
  auto v = link.visible.find(update.product_id);
  if (!link.burned || shown == link.burned_cards.end() || v == link.visible.end()) return;
  std::string card = overlay_card(link, update.stream_id, v->second, /*log_problems=*/false).dump();
  if (card == shown->second) return;  // e.g. a stock flush after a product.update already applied
  link.burned->update(card);
  shown->second = std::move(card);
  log::info("burned_card_updated").kv("stream", update.stream_id).kv("product", update.product_id);
}

void CardLink::add_ingest_stats(const std::string& stream_id, nlohmann::json& stats) {
  auto it = links_.find(stream_id);
  if (it == links_.end() || !it->second.burned) return;
  const BurnedBranch& b = *it->second.burned;
  const uint64_t in = b.frames_in();
  const uint64_t dropped = b.frames_dropped();
  // Of this publisher session's burned-in branch: frames in (from the first keyframe), encoded,
  // dropped by its leaky queues (the passthrough never waits for them).
  stats["burned"] = {{"frames_in", in},
                     {"encoded", b.frames_encoded()},
                     {"dropped", dropped},
                     {"drop_pct", in > 0 ? std::round(static_cast<double>(dropped) * 1000.0 / static_cast<double>(in)) / 10.0 : 0.0},
                     {"bitrate_kbps", b.bitrate_kbps()}};
  if (it->second.ladder && it->second.ladder->active_rungs() > 0) stats["burned"]["ladder"] = it->second.ladder->stats();
}

bool CardLink::set_restream(const std::string& stream_id, const std::string& url) {
  if (!options_.burned_in) return false;
  StreamLink& link = links_[stream_id];
  if (!link.restream) {
    if (url.empty()) return true;
    link.restream = std::make_unique<Restream>(loop_, stream_id);
  }
  link.restream->set_url(url);
  if (!url.empty()) attach_restream(link);
  log::info("restream_configured").kv("stream", stream_id).kv("url", url.empty() ? "(none)" : mask_restream_url(url));
  return true;
}

nlohmann::json CardLink::restream_status(const std::string& stream_id) const {
  auto it = links_.find(stream_id);
  if (it == links_.end() || !it->second.restream || it->second.restream->url().empty()) return nullptr;
  return it->second.restream->status();
}

// Hands the live burned-in branch to the restream, unless it already has it.
void CardLink::attach_restream(StreamLink& link) {
  if (!link.restream || link.restream->url().empty() || link.restream->attached() || !link.burned) return;
  auto session = link.burned_session.lock();
  auto pipeline = session ? session->pipeline() : nullptr;
  if (!pipeline || session->ended.load()) return;
  link.restream->attach_source(pipeline, link.burned->encoded_video_tee(), pipeline->audio_tee());
}

void CardLink::attach_burned(const std::string& stream_id, StreamLink& link,
                             const std::shared_ptr<PublishSession>& session, bool new_live_session) {
  if (link.restream) link.restream->detach_source();
  if (link.ladder) link.ladder->stop();
  link.burned.reset();  // the previous publisher session's branch (its pipeline is stopped)
  link.burned_cards.clear();
  link.burned_begun = false;
  link.burned_dropped_logged = 0;
  link.burned_in_logged = 0;
  link.burned_logged_at = {};
  hls::HlsWriter* main = ingest_.hls_writer(stream_id);
  if (!options_.burned_in || main == nullptr) return;
  if (new_live_session || !link.burned_writer)
    link.burned_writer = std::make_unique<hls::HlsWriter>(main->dir() + "/burned", main->options());
  BurnedBranch::Options bo;
  bo.segment_prefix = link.burned_writer->segment_prefix(session->id);
  bo.start_index = link.burned_writer->next_sequence();
  bo.segment_target_ns = session->segment_target_ns;
  bo.bitrate_kbps = options_.burned_bitrate_kbps;
  bo.speed_preset = options_.burned_speed_preset;
  const nlohmann::json info = session->info();
  if (info.contains("width") && info["width"].is_number_integer()) bo.width = info["width"].get<int>();
  if (info.contains("height") && info["height"].is_number_integer()) bo.height = info["height"].get<int>();
  if (info.contains("rotation") && info["rotation"].is_number_integer()) bo.rotation = info["rotation"].get<int>();
  std::weak_ptr<PublishSession> weak = session;
  std::string error;
  link.burned = BurnedBranch::attach(
      session->pipeline(), bo,
      [this, stream_id, weak](const std::string& path, uint64_t start_ns, uint64_t end_ns) {
        loop_.post([this, stream_id, weak, path, start_ns, end_ns] {
          auto s = weak.lock();
          if (s) on_burned_segment(stream_id, s, path, start_ns, end_ns);
          else std::remove(path.c_str());
        });
      },
      error);
  link.burned_session = session;
  if (!link.burned) {
    log::error("burned_in_failed").kv("stream", stream_id).kv("reason", error);
    return;
  }
  log::info("burned_in_started")
      .kv("stream", stream_id)
      .kv("session", session->id)
      .kv("width", bo.width)
      .kv("height", bo.height)
      .kv("rotation", bo.rotation)
      .kv("bitrate_kbps", link.burned->bitrate_kbps());
  attach_restream(link);
  if (!options_.burned_ladder.empty()) {
    if (!link.ladder) link.ladder = std::make_unique<BurnedLadder>(loop_, stream_id, options_.burned_ladder);
    link.ladder->start(session, link.burned->overlaid_video_tee(), link.burned_writer->dir(), main->options(),
                       bo.width, bo.height, link.burned->bitrate_kbps(), new_live_session);
  }
}

void CardLink::on_burned_segment(const std::string& stream_id, const std::shared_ptr<PublishSession>& session,
                                 const std::string& path, uint64_t start_ns, uint64_t end_ns) {
  auto it = links_.find(stream_id);
  if (it == links_.end() || it->second.burned_session.lock() != session || !it->second.burned_writer) {
    std::remove(path.c_str());
    return;
  }
  StreamLink& link = it->second;
  if (!link.burned_begun) {
    link.burned_writer->begin_session(session->epoch_wall_ms.load());
    link.burned_begun = true;
  }
  if (auto st = link.burned_writer->add_segment(path, start_ns, end_ns); !st)
    log::error("hls_write_failed").kv("stream", stream_id).kv("rendition", "burned").kv("reason", st.message());
  // Drops are logged at most once a minute per stream, and as a warning only when more than
  // 5 % of the frames since the last line were lost: a few late frames are normal on a busy
  // machine and a line every segment buried everything else (the counts are in stream.health
  // and /metrics all the time).
  const auto now = std::chrono::steady_clock::now();
  if (link.burned && now - link.burned_logged_at >= std::chrono::minutes(1)) {
    const uint64_t dropped = link.burned->frames_dropped();
    const uint64_t frames_in = link.burned->frames_in();
    if (dropped > link.burned_dropped_logged) {
      const uint64_t new_drops = dropped - link.burned_dropped_logged;
      const uint64_t new_frames = frames_in > link.burned_in_logged ? frames_in - link.burned_in_logged : 0;
      const double pct = new_frames > 0 ? 100.0 * static_cast<double>(new_drops) / static_cast<double>(new_frames) : 100.0;
      log::Line line(pct > 5.0 ? log::Level::warn : log::Level::info, "burned_in_stats");
      line.kv("stream", stream_id)
          .kv("dropped", dropped)
          .kv("encoded", link.burned->frames_encoded())
          .kv("frames_in", frames_in)
          .kv("drop_pct_since_last", static_cast<int64_t>(pct + 0.5));
      link.burned_dropped_logged = dropped;
      link.burned_in_logged = frames_in;
      link.burned_logged_at = now;
    }
  }
}

void CardLink::on_session_media(const std::string& stream_id, const std::string& live_session,
                                const std::shared_ptr<PublishSession>& session, bool new_live_session) {
  StreamLink& link = links_[stream_id];
  link.session = session;
  attach_burned(stream_id, link, session, new_live_session || link.live_session != live_session);
  if (new_live_session || link.live_session != live_session) {
    link.live_session = live_session;
    link.on_video.clear();
    link.open_ranges.clear();
    // Cards still visible in the room are shown again in the new session (unless a pending change
    // of the same product decides otherwise).
    for (const auto& entry : link.visible) {
      const std::string& product = entry.first;
      const bool decided = std::any_of(link.pending.begin(), link.pending.end(),
                                       [&](const Change& c) { return c.product_id == product; }) ||
                           std::any_of(link.in_flight.begin(), link.in_flight.end(),
                                       [&](const Change& c) { return c.product_id == product; });
      if (!decided) link.pending.push_back(entry.second);
    }
  }
  apply_pending(stream_id, link);
}

void CardLink::on_element_message(const std::string& stream_id, const std::shared_ptr<PublishSession>& session,
                                  GstMessage* message) {
  const GstStructure* s = gst_message_get_structure(message);
  if (s != nullptr && gst_structure_has_name(s, "productoverlay-card")) {
    guint64 rt = 0;
    gst_structure_get_uint64(s, "running-time", &rt);
    const char* product = gst_structure_get_string(s, "product-id");
    const char* action = gst_structure_get_string(s, "action");
    log::info("burned_card_frame")
        .kv("stream", stream_id)
        .kv("product", product != nullptr ? product : "")
        .kv("action", action != nullptr ? action : "")
        .kv("pts", pts_seconds_of_running_time(rt))
        .kv("rect", rect_text(s))
        .kv("posted_us", GST_CLOCK_TIME_IS_VALID(GST_MESSAGE_TIMESTAMP(message))
                             ? static_cast<uint64_t>(GST_MESSAGE_TIMESTAMP(message) / 1000)
                             : uint64_t{0});
    return;
  }
  if (s == nullptr || !gst_structure_has_name(s, "productcue-inserted")) return;
  auto lit = links_.find(stream_id);
  if (lit == links_.end()) return;
  StreamLink& link = lit->second;
  if (link.session.lock() != session) return;
  const char* product = gst_structure_get_string(s, "product-id");
  const char* action = gst_structure_get_string(s, "action");
  guint64 rt = 0;
  if (product == nullptr || action == nullptr || !gst_structure_get_uint64(s, "running-time", &rt)) return;
  const bool shown = std::string(action) == "shown";
  auto it = std::find_if(link.in_flight.begin(), link.in_flight.end(),
                         [&](const Change& c) { return c.product_id == product && c.shown == shown; });
  if (it == link.in_flight.end()) return;
  const Change change = *it;
  link.in_flight.erase(it);
  // When productcue put it on an access unit (wall clock of the posting streaming thread).
  log::info("card_cue_inserted")
      .kv("stream", stream_id)
      .kv("product", change.product_id)
      .kv("action", action)
      .kv("posted_us", GST_CLOCK_TIME_IS_VALID(GST_MESSAGE_TIMESTAMP(message))
                           ? static_cast<uint64_t>(GST_MESSAGE_TIMESTAMP(message) / 1000)
                           : uint64_t{0});
  presented(stream_id, link, change, rt);
}

void CardLink::presented(const std::string& stream_id, StreamLink& link, const Change& change,
                         uint64_t running_time_ns) {
  hls::HlsWriter* writer = ingest_.hls_writer(stream_id);
  const double pts = pts_seconds_of_running_time(running_time_ns);
  const int64_t pdt = writer != nullptr ? writer->program_date_time_ms(running_time_ns).value_or(now_ms()) : now_ms();
  const std::string pdt_text = hls::format_iso8601_ms(pdt);
  stage_.card_presented(stream_id, change.change_id, pts, pdt_text);
  if (change.shown) {
    // A product shows in one slot at a time; a re-show closes the previous exposure first.
    if (link.on_video.count(change.product_id) != 0) {
      exposures_.card_hidden(stream_id, link.live_session, change.product_id, pts, pdt);
      if (link.open_ranges.count(change.product_id) != 0) {
        if (writer != nullptr) writer->end_date_range(link.open_ranges[change.product_id], pdt);
        if (link.burned_writer) link.burned_writer->end_date_range(link.open_ranges[change.product_id], pdt);
        if (link.ladder) link.ladder->end_date_range(link.open_ranges[change.product_id], pdt);
      }
    }
    link.on_video[change.product_id] = change.change_id;
    if (link.burned) {
      const nlohmann::json card = overlay_card(link, stream_id, change, /*log_problems=*/true);
      link.burned_cards[change.product_id] = card.dump();
      link.burned->schedule_show(show_card_json(card), running_time_ns);
    }
    exposures_.card_shown(stream_id, link.live_session, change.product_id, change.change_id, pts, pdt);
    if (writer != nullptr) {
      hls::DateRange range;
      range.id = "card-" + std::to_string(change.change_id);
      range.cls = "com.harvestlive.card";
      range.start_ms = pdt;
      range.attributes = {{"product-id", change.product_id},
                          {"change-id", std::to_string(change.change_id)},
                          {"pts", std::to_string(pts)}};
      link.open_ranges[change.product_id] = range.id;
      if (link.burned_writer) link.burned_writer->add_date_range(range);
      if (link.ladder) link.ladder->add_date_range(range);
      writer->add_date_range(std::move(range));
    }
  } else {
    link.on_video.erase(change.product_id);
    if (link.burned) link.burned->schedule_hide(change.product_id, running_time_ns);
    link.burned_cards.erase(change.product_id);
    exposures_.card_hidden(stream_id, link.live_session, change.product_id, pts, pdt);
    auto rit = link.open_ranges.find(change.product_id);
    if (rit != link.open_ranges.end()) {
      if (writer != nullptr) writer->end_date_range(rit->second, pdt);
      if (link.burned_writer) link.burned_writer->end_date_range(rit->second, pdt);
      if (link.ladder) link.ladder->end_date_range(rit->second, pdt);
      link.open_ranges.erase(rit);
    }
  }
  log::info("card_presented")
      .kv("stream", stream_id)
      .kv("session", link.live_session)
      .kv("product", change.product_id)
      .kv("action", change.shown ? "shown" : "hidden")
      .kv("change_id", change.change_id)
      .kv("pts", pts)
      .kv("program_date_time", pdt_text);
}

void CardLink::on_live_session_ended(const std::string& stream_id, const std::string& live_session,
                                     uint64_t end_rt_ns, int64_t end_pdt_ms) {
  auto it = links_.find(stream_id);
  if (it == links_.end()) return;
  StreamLink& link = it->second;
  exposures_.session_ended(stream_id, live_session, pts_seconds_of_running_time(end_rt_ns), end_pdt_ms);
  if (hls::HlsWriter* writer = ingest_.hls_writer(stream_id)) {
    for (const auto& [product, id] : link.open_ranges) writer->end_date_range(id, end_pdt_ms);
  }
  if (link.burned_writer) {
    for (const auto& [product, id] : link.open_ranges) link.burned_writer->end_date_range(id, end_pdt_ms);
    link.burned_writer->end_stream();
  }
  if (link.ladder) {
    for (const auto& [product, id] : link.open_ranges) link.ladder->end_date_range(id, end_pdt_ms);
    link.ladder->end_stream();
    link.ladder->stop();
  }
  if (link.restream) link.restream->detach_source();
  link.burned.reset();
  link.burned_cards.clear();
  // Cues not yet in the video wait for the next live session, like changes made offline.
  for (const Change& c : link.in_flight) link.pending.push_back(c);
  link.in_flight.clear();
  link.on_video.clear();
  link.open_ranges.clear();
  link.session.reset();
  link.live_session.clear();
}

}  // namespace harvest::show

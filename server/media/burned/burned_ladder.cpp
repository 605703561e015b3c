#include "media/burned/burned_ladder.h"

#include <gst/app/gstappsink.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/log.h"
#include "media/burned/burned_branch.h"
#include "media/gst/gst_build.h"
#include "media/ingest/publish_session.h"
#include "media/ingest/stream_pipeline.h"

namespace harvest::media {

std::optional<RungSize> ladder_rung_size(int source_width, int source_height, int rung) {
  if (source_width <= 0 || source_height <= 0 || rung < 2) return std::nullopt;
  const bool portrait = source_height > source_width;
  const int short_side = portrait ? source_width : source_height;
  const int long_side = portrait ? source_height : source_width;
  if (rung >= short_side) return std::nullopt;
  const int s = rung & ~1;
  // Nearest even: round(long * s / short / 2) * 2, in integers (no float edge cases).
  const int64_t num = int64_t{long_side} * s;
  const int64_t den = int64_t{short_side} * 2;
  const int l = static_cast<int>(std::max<int64_t>(1, (num + den / 2) / den) * 2);
  return portrait ? RungSize{s, l} : RungSize{l, s};
}

int ladder_bitrate_kbps(int width, int height) {
  // Same rule as BurnedBranch for the source-size rendition.
  const double pixels = width > 0 && height > 0 ? double(width) * height : 1280.0 * 720;
  return std::clamp(static_cast<int>(std::lround(pixels * 30 * 0.07 / 1000)), 300, 6000);
}

std::string ladder_codecs(int width, int height, bool audio) {
  // x264 ultrafast has no CABAC, 8x8 transform or B-frames: Constrained Baseline (42c0); the
  // level from the macroblocks per frame and per second at 30 fps (H.264 table A-1).
  const int64_t mbs = int64_t{(width + 15) / 16} * ((height + 15) / 16);
  const int64_t mbps = mbs * 30;
  const char* level = "33";  // 5.1
  if (mbs <= 1620 && mbps <= 40500)
    level = "1e";  // 3.0
  else if (mbs <= 3600 && mbps <= 108000)
    level = "1f";  // 3.1
  else if (mbs <= 8192 && mbps <= 245760)
    level = "28";  // 4.0
  std::string codecs = std::string("avc1.42c0") + level;
  if (audio) codecs += ",mp4a.40.2";
  return codecs;
}

std::string master_playlist_text(const std::vector<MasterEntry>& entries) {
  std::string out = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  for (const MasterEntry& e : entries) {
    out += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(e.bandwidth_bps) +
           ",RESOLUTION=" + std::to_string(e.width) + "x" + std::to_string(e.height) + ",CODECS=\"" +
           e.codecs + "\"\n" + e.uri + "\n";
  }
  return out;
}

namespace {

constexpr int kAudioAllowanceKbps = 128;  // the passthrough AAC, whatever the publisher sent

bool write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << text;
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

struct BurnedLadder::Rung {
  int rung = 0;
  RungSize size;
  int kbps = 0;
  std::shared_ptr<StreamPipeline> pipeline;
  std::shared_ptr<hls::HlsWriter> writer;
  std::unique_ptr<hls::TsSegmenter> segmenter;  // muxer thread
  bool begun = false;                           // loop thread
  GstElement* raw_queue = nullptr;
  std::atomic<uint64_t> frames_in{0};   // into the leaky raw queue
  std::atomic<uint64_t> frames_out{0};  // out of it
  std::atomic<uint64_t> encoded{0};
  ~Rung() {
    // The streaming threads call into this object: stop them first.
    if (pipeline) pipeline->stop();
  }
};

BurnedLadder::BurnedLadder(EventLoop& loop, std::string stream_id, std::vector<int> rungs)
    : loop_(loop), stream_id_(std::move(stream_id)), rungs_(std::move(rungs)) {}

BurnedLadder::~BurnedLadder() { stop(); }

size_t BurnedLadder::active_rungs() const { return active_.size(); }

nlohmann::json BurnedLadder::stats() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : active_) {
    const uint64_t in = r->frames_in.load();
    const uint64_t kept = r->frames_out.load() + queue_level(r->raw_queue);
    const uint64_t dropped = in > kept ? in - kept : 0;
    out.push_back({{"rung", r->rung},
                   {"width", r->size.width},
                   {"height", r->size.height},
                   {"bitrate_kbps", r->kbps},
                   {"frames_in", in},
                   {"encoded", r->encoded.load()},
                   {"dropped", dropped},
                   {"drop_pct", in > 0 ? std::round(static_cast<double>(dropped) * 1000.0 / static_cast<double>(in)) / 10.0
                                       : 0.0}});
  }
  return out;
}

void BurnedLadder::stop() { active_.clear(); }

void BurnedLadder::start(const std::shared_ptr<PublishSession>& session, GstElement* overlaid_tee,
                         const std::string& burned_dir, const hls::HlsOptions& hls, int source_width,
                         int source_height, int source_kbps, bool new_live_session) {
  stop();
  auto pipeline = session ? session->pipeline() : nullptr;
  if (!pipeline || pipeline->pipeline() == nullptr || overlaid_tee == nullptr) return;
  GstElement* bin = pipeline->pipeline();
  GstElement* audio_tee = pipeline->audio_tee();
  std::vector<MasterEntry> master;
  master.push_back({"index.m3u8", source_width, source_height, (source_kbps + kAudioAllowanceKbps) * 1000,
                    ladder_codecs(source_width, source_height, audio_tee != nullptr)});
  std::weak_ptr<PublishSession> weak_session = session;
  for (int r : rungs_) {
    const auto size = ladder_rung_size(source_width, source_height, r);
    if (!size) {
      log::info("burned_ladder_rung_skipped")
          .kv("stream", stream_id_)
          .kv("rung", r)
          .kv("width", source_width)
          .kv("height", source_height);
      continue;
    }
    auto rung = std::make_shared<Rung>();
    rung->rung = r;
    rung->size = *size;
    rung->kbps = ladder_bitrate_kbps(size->width, size->height);
    auto& writer = writers_[r];
    if (new_live_session || !writer)
      writer = std::make_shared<hls::HlsWriter>(burned_dir + "/" + std::to_string(r) + "p", hls);
    rung->writer = writer;

    std::string error;
    const std::string p = "ladder" + std::to_string(r) + "_";
    GstElement* q = add_element(bin, "queue", (p + "raw").c_str(), error);
    GstElement* scale = add_element(bin, "videoscale", (p + "scale").c_str(), error);
    GstElement* caps = add_element(bin, "capsfilter", (p + "caps").c_str(), error);
    GstElement* enc = add_element(bin, "x264enc", (p + "enc").c_str(), error);
    GstElement* parse = add_element(bin, "h264parse", (p + "parse").c_str(), error);
    GstElement* mux = add_element(bin, "mpegtsmux", (p + "mux").c_str(), error);
    GstElement* sink = add_element(bin, "appsink", (p + "sink").c_str(), error);
    GstElement* qa = audio_tee != nullptr ? add_element(bin, "queue", (p + "audio").c_str(), error) : nullptr;
    if (!error.empty()) {
      log::error("burned_ladder_failed").kv("stream", stream_id_).kv("rung", r).kv("reason", error);
      continue;
    }
    // 3 raw frames: an encoder that cannot keep up drops here and never holds back the others.
    g_object_set(q, "leaky", 2, "max-size-buffers", 3u, "max-size-bytes", 0u, "max-size-time", guint64{0},
                 nullptr);
    if (qa != nullptr)
      g_object_set(qa, "leaky", 2, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time",
                   guint64{5'000'000'000}, nullptr);
    GstCaps* c = gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, size->width, "height", G_TYPE_INT,
                                     size->height, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr);
    g_object_set(caps, "caps", c, nullptr);
    gst_caps_unref(c);
    gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
    gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "ultrafast");
    // key-int-max as the source-size rendition: the segment cuts line up across renditions.
    g_object_set(enc, "bitrate", static_cast<guint>(rung->kbps), "key-int-max", 30u, nullptr);
    g_object_set(parse, "config-interval", -1, nullptr);
    g_object_set(mux, "alignment", 7, nullptr);
    g_object_set(sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, "emit-signals", FALSE,
                 nullptr);

    // From here the appsink calls into the rung: it lives (and stops the pipeline) with active_.
    rung->pipeline = pipeline;
    active_.push_back(rung);
    std::weak_ptr<Rung> weak_rung = rung;
    EventLoop* loop = &loop_;
    const std::string stream_id = stream_id_;
    rung->segmenter = std::make_unique<hls::TsSegmenter>(
        hls::TsSegmenter::Options{writer->segment_prefix(session->id), writer->next_sequence(),
                                  session->segment_target_ns},
        [loop, weak_rung, weak_session, stream_id](const std::string& path, uint64_t start_ns,
                                                   uint64_t end_ns) {
          loop->post([weak_rung, weak_session, stream_id, path, start_ns, end_ns] {
            auto live = weak_rung.lock();  // `rung` outside is the one being built
            auto s = weak_session.lock();
            if (!live || !s) {
              std::remove(path.c_str());
              return;
            }
            if (!live->begun) {
              live->writer->begin_session(s->epoch_wall_ms.load());
              live->begun = true;
            }
            if (auto st = live->writer->add_segment(path, start_ns, end_ns); !st)
              log::error("hls_write_failed")
                  .kv("stream", stream_id)
                  .kv("rendition", "burned/" + std::to_string(live->rung) + "p")
                  .kv("reason", st.message());
          });
        });
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = [](GstAppSink* s, gpointer me) -> GstFlowReturn {
      return pull_into_segmenter(GST_ELEMENT(s), *static_cast<Rung*>(me)->segmenter);
    };
    callbacks.eos = [](GstAppSink*, gpointer me) { static_cast<Rung*>(me)->segmenter->finish(); };
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, rung.get(), nullptr);

    if (!gst_element_link_many(q, scale, caps, enc, parse, nullptr) ||
        !link_pads(gst_element_get_static_pad(parse, "src"),
                   gst_element_request_pad_simple(mux, "sink_%d")) ||
        !gst_element_link(mux, sink) ||
        (qa != nullptr &&
         !link_pads(gst_element_get_static_pad(qa, "src"), gst_element_request_pad_simple(mux, "sink_%d")))) {
      log::error("burned_ladder_failed").kv("stream", stream_id_).kv("rung", r).kv("reason", "cannot link");
      continue;
    }
    rung->raw_queue = q;
    add_probe(q, "sink", count_probe, &rung->frames_in);
    add_probe(q, "src", count_probe, &rung->frames_out);
    add_probe(enc, "src", count_probe, &rung->encoded);
    for (GstElement* e : {sink, mux, parse, enc, caps, scale, q}) gst_element_sync_state_with_parent(e);
    if (qa != nullptr) gst_element_sync_state_with_parent(qa);
    if (!link_pads(gst_element_request_pad_simple(overlaid_tee, "src_%u"),
                   gst_element_get_static_pad(q, "sink")) ||
        (qa != nullptr && !link_pads(gst_element_request_pad_simple(audio_tee, "src_%u"),
                                     gst_element_get_static_pad(qa, "sink")))) {
      log::error("burned_ladder_failed")
          .kv("stream", stream_id_)
          .kv("rung", r)
          .kv("reason", "cannot link to the tees");
      continue;
    }
    master.push_back({std::to_string(r) + "p/index.m3u8", size->width, size->height,
                      (rung->kbps + kAudioAllowanceKbps) * 1000,
                      ladder_codecs(size->width, size->height, audio_tee != nullptr)});
    log::info("burned_ladder_rung_started")
        .kv("stream", stream_id_)
        .kv("rung", r)
        .kv("width", size->width)
        .kv("height", size->height)
        .kv("bitrate_kbps", rung->kbps);
  }
  if (master.size() < 2) {
    // No rung for this source: no master playlist (nor one left by an earlier session).
    std::remove((burned_dir + "/master.m3u8").c_str());
    return;
  }
  if (!write_file_atomically(burned_dir + "/master.m3u8", master_playlist_text(master)))
    log::error("hls_write_failed").kv("stream", stream_id_).kv("rendition", "burned/master");
}

void BurnedLadder::add_date_range(const hls::DateRange& range) {
  for (auto& [rung, writer] : writers_) writer->add_date_range(range);
}

void BurnedLadder::end_date_range(const std::string& id, int64_t end_ms) {
  for (auto& [rung, writer] : writers_) writer->end_date_range(id, end_ms);
}

void BurnedLadder::end_stream() {
  for (auto& [rung, writer] : writers_) writer->end_stream();
}

}  // namespace harvest::media

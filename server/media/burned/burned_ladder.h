#pragma once
// Optional bitrate ladder of the burned-in rendition (`--burned-ladder 720,480,360`, see
// docs/media-link.md "Ladder"). Each rung smaller than the source branches off the overlaid raw
// video (a tee right after productoverlay, so every rung shows the same cards at the same PTS):
//
//   burned overlay tee ─► queue (leaky, 3 frames) ─► videoscale ─► capsfilter (WxH, PAR 1:1)
//     ─► x264enc (zerolatency, ultrafast) ─► h264parse ─┐
//   audio_tee ─► queue (leaky, 5 s) ──────────────────┴► mpegtsmux ─► appsink ─► TsSegmenter
//
// and is written by its own HlsWriter at {burned dir}/{height}p/ (served as
// /hls/{id}/burned/{height}p/index.m3u8), with the same card DATERANGEs as the burned playlist.
// A master playlist {burned dir}/master.m3u8 lists the source-size rendition and the rungs.
#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "media/hls/hls_writer.h"
#include "media/hls/ts_segmenter.h"

namespace harvest::media {

class StreamPipeline;
struct PublishSession;

struct RungSize {
  int width = 0;
  int height = 0;
  bool operator==(const RungSize&) const = default;
};

// The rung's picture size for a source: the source's *short* side becomes `rung` (rounded down to
// even), the long side keeps the aspect ratio, rounded to the nearest even number (640x360 @ 240 →
// 426x240; 720x1280 @ 480 → 480x854). Nullopt when the rung is not smaller than the short side (or
// the input is nonsense): that rung is skipped.
std::optional<RungSize> ladder_rung_size(int source_width, int source_height, int rung);
// Video bitrate for a picture size, the same rule as the source-size burned rendition (about
// 0.07 bit per pixel at 30 fps, 300-6000 kbit/s).
int ladder_bitrate_kbps(int width, int height);
// RFC 8216 CODECS value for x264 ultrafast (constrained baseline) at a level fitting the size,
// plus AAC-LC when `audio`.
std::string ladder_codecs(int width, int height, bool audio);

struct MasterEntry {
  std::string uri;  // relative to the master
  int width = 0;
  int height = 0;
  int bandwidth_bps = 0;
  std::string codecs;
};
// The master playlist text (EXT-X-STREAM-INF per entry, in the given order).
std::string master_playlist_text(const std::vector<MasterEntry>& entries);

// The ladder of one stream: its rung writers live across publisher sessions of one live session
// (like the burned writer); the branches belong to the current publisher session. Loop thread.
class BurnedLadder {
 public:
  BurnedLadder(EventLoop& loop, std::string stream_id, std::vector<int> rungs);
  ~BurnedLadder();
  BurnedLadder(const BurnedLadder&) = delete;
  BurnedLadder& operator=(const BurnedLadder&) = delete;

  // Hangs the rungs off `overlaid_tee` (raw video after productoverlay) of the session's pipeline
  // and writes the master playlist. `burned_dir` is the source-size burned writer's folder.
  void start(const std::shared_ptr<PublishSession>& session, GstElement* overlaid_tee,
             const std::string& burned_dir, const hls::HlsOptions& hls, int source_width, int source_height,
             int source_kbps, bool new_live_session);
  // Drops the branches (stops the pipeline they hang off first).
  void stop();

  // Mirrors of the burned writer's card entries.
  void add_date_range(const hls::DateRange& range);
  void end_date_range(const std::string& id, int64_t end_ms);
  void end_stream();

  size_t active_rungs() const;
  // Per active rung (this publisher session): {"rung", "width", "height", "bitrate_kbps",
  // "frames_in", "encoded", "dropped", "drop_pct"}; "dropped" counts what its leaky raw queue
  // let go because its encoder fell behind. Any thread.
  nlohmann::json stats() const;

 private:
  struct Rung;
  EventLoop& loop_;
  std::string stream_id_;
  std::vector<int> rungs_;
  std::map<int, std::shared_ptr<hls::HlsWriter>> writers_;  // rung -> writer, per live session
  std::vector<std::shared_ptr<Rung>> active_;               // this publisher session's branches
};

}  // namespace harvest::media

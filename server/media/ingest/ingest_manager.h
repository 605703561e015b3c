#pragma once
// Decides who publishes which stream and keeps each stream's HLS output going across
// publisher sessions. Control-plane (loop) thread only, except where a method says otherwise.
//
// Rules (see docs/ingest.md):
// - A publisher names a stream by its secret key; unknown keys are refused.
// - While a publisher is healthy (media within `stall_timeout`), a second one is refused; once
//   it has stalled, the newcomer takes over and the old connection is closed.
// - A publisher that leaves keeps the stream live for `grace`: if one comes back, the same
//   playlist continues after one EXT-X-DISCONTINUITY; if not, the playlist ends (ENDLIST) and
//   the stream goes offline.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/event_loop.h"
#include "core/stream_registry.h"
#include "media/hls/hls_writer.h"
#include "media/hls/ll_hls_registry.h"
#include "media/hls/replay_library.h"
#include "media/ingest/publish_session.h"
#include "media/ingest/stream_pipeline.h"

namespace harvest::media {

// Hears what the media link needs from ingest (loop thread): when a session's running time
// starts mapping to program date time, the pipelines' element messages, and the end of a live
// session. `live_session` is the id of the live session (the unix ms of the publish that opened
// it as a decimal string); a reconnect within the grace period keeps it.
class IngestObserver {
public:
  virtual ~IngestObserver() = default;
  // The session's first segment is in the playlist: its pipeline runs and
  // HlsWriter::program_date_time_ms() maps its running time. `new_live_session`: the first
  // publisher session of a new live session (not a reconnect within the grace period).
  virtual void on_session_media(const std::string& stream_id, const std::string& live_session,
                                const std::shared_ptr<PublishSession>& session, bool new_live_session) = 0;
  // An element message from the session's pipeline (e.g. productcue-inserted).
  virtual void on_element_message(const std::string& stream_id, const std::shared_ptr<PublishSession>& session,
                                  GstMessage* message) = 0;
  // The live session ended (no publisher within the grace period): its last frame's running
  // time end and program date time.
  virtual void on_live_session_ended(const std::string& stream_id, const std::string& live_session,
                                     uint64_t end_rt_ns, int64_t end_pdt_ms) = 0;
  // Adds the observer's figures (e.g. the burned-in rendition's) to a live stream's ingest
  // stats before they are published (every IngestOptions::stats_interval).
  virtual void add_ingest_stats(const std::string& /*stream_id*/, nlohmann::json& /*stats*/) {}
};

struct IngestOptions {
  std::string hls_root;  // <data-dir>/hls; each stream in <hls_root>/<id>/
  // Other nodes write their streams under the same root (--hls-dir): only this node's own
  // streams' files are removed, never the whole root.
  bool shared_hls_root = false;
  hls::HlsOptions hls;
  // Where each live session's passthrough is recorded as a replay; nullptr: not recorded.
  // Not owned; outlives the manager.
  hls::ReplayLibrary* replays = nullptr;
  // LL-HLS renditions (GET /hls/{id}/ll.m3u8) are registered here; nullptr: none written.
  // Not owned; outlives the manager.
  hls::LlHlsRegistry* ll = nullptr;
  hls::LlHlsOptions ll_options;
  std::chrono::milliseconds grace{15'000};
  std::chrono::milliseconds stall_timeout{4'000};
  std::chrono::milliseconds drain_timeout{3'000};  // end-of-stream to pipeline stop, at most
  std::chrono::milliseconds stats_interval{1'000};
};

class IngestManager {
public:
  IngestManager(EventLoop& loop, StreamRegistry& registry, IngestOptions options);
  ~IngestManager();
  IngestManager(const IngestManager&) = delete;
  IngestManager& operator=(const IngestManager&) = delete;

  struct Answer {
    bool accepted = false;
    std::string code;         // RTMP status code, e.g. "NetStream.Publish.BadName"
    std::string description;  // for the publisher and the log
  };
  // A publisher asks to publish with `stream_key`. On acceptance the session's id, stream and
  // segment fields are filled in and the stream is live.
  Answer publish(const std::shared_ptr<PublishSession>& session, const std::string& stream_key);
  // The session's connection ended (normally or not). Idempotent.
  void unpublish(const std::shared_ptr<PublishSession>& session, const std::string& reason);

  // Any thread: builds the pipeline for an accepted session, its messages wired back here.
  std::shared_ptr<StreamPipeline> make_pipeline(const std::shared_ptr<PublishSession>& session);
  // Any thread: which stream a key opens (a mirror of the registry, for SRT's accept callback,
  // which must answer synchronously). The loop still decides in publish().
  std::optional<std::string> stream_for_key(const std::string& stream_key) const;
  // Any thread: whether `stream_id` has a healthy publisher right now (media within the stall
  // timeout), so SRT's accept callback can reject a second publisher (1409) before it connects.
  bool has_healthy_publisher(const std::string& stream_id) const;

  // The stream's passthrough rendition (for EXT-X-DATERANGE markers and PTS->PDT); nullptr if
  // the stream has no playlist now.
  hls::HlsWriter* hls_writer(const std::string& stream_id);
  // The session publishing `stream_id` now, if any (for the burned-in branch to attach to).
  std::shared_ptr<PublishSession> current_session(const std::string& stream_id) const;

  // Loop thread; one observer (the media link), nullptr to remove.
  void set_observer(IngestObserver* observer) { observer_ = observer; }
  // The live session of `stream_id` ("" when offline).
  std::string live_session(const std::string& stream_id) const;

  // Stops every pipeline and removes the HLS files. Call after the ingest servers stopped.
  void shutdown();

private:
  struct StreamIngest {
    std::shared_ptr<hls::HlsWriter> writer;  // shared with the current session's SegmentListing
    std::shared_ptr<hls::LlHlsStream> ll;    // the LL-HLS rendition beside it (options.ll set)
    std::shared_ptr<PublishSession> current;  // publishing, or gone and within the grace period
    bool publishing = false;
    bool session_begun = false;  // the loop saw `current`'s first segment (orientation, observer)
    std::string live_session;    // id of the live session ("" offline)
    bool new_live_session = false;  // `current` opened the live session
    uint64_t last_end_ns = 0;     // running time of the end of the last segment
    EventLoop::TimerId grace_timer = 0;
    uint64_t last_bytes = 0;
    uint64_t last_frames = 0;
    int64_t last_stats_ms = 0;
    std::string orientation_range;  // id of the open orientation DATERANGE, if any
    // GStreamer warnings by element and text: when each was last logged, and how many came
    // since (a sink that drops late frames warns about it every second).
    struct WarningSeen {
      int64_t logged_ms = 0;
      uint64_t since = 0;
    };
    std::map<std::string, WarningSeen> warnings;
  };
  void on_message(const std::shared_ptr<PublishSession>& session, GstMessage* message);
  void log_pipeline_warning(const std::string& stream_id, const std::string& element, const std::string& text);
  // A segment the session's SegmentListing listed where it was cut: the loop's share of it.
  void segment_listed(const std::string& stream_id, const std::string& protocol,
                      const std::shared_ptr<PublishSession>& session, uint64_t end_ns);
  static int64_t session_wall_ms(const PublishSession& session, uint64_t end_ns);
  static void remove_file(const std::string& path);
  void finish(const std::shared_ptr<PublishSession>& session);  // end-of-stream, then stop
  void stop_pipeline(const std::shared_ptr<PublishSession>& session);
  void grace_expired(const std::string& stream_id, uint64_t session_id);
  void arm_stats_timer();
  void publish_stats();
  void mark_orientation(StreamIngest& si, const PublishSession& session, int64_t start_ms);

  EventLoop& loop_;
  StreamRegistry& registry_;
  IngestOptions options_;
  std::map<std::string, StreamIngest> streams_;
  uint64_t next_session_id_ = 1;
  EventLoop::TimerId stats_timer_ = 0;
  bool shut_down_ = false;
  IngestObserver* observer_ = nullptr;
  struct KeyMirror {
    mutable std::mutex mutex;
    std::map<std::string, std::string> stream_by_key;
    std::map<std::string, std::weak_ptr<PublishSession>> publishing;  // stream id -> session
  };
  void mirror_publishing(const std::string& stream_id, const std::shared_ptr<PublishSession>& session);
  std::shared_ptr<KeyMirror> keys_ = std::make_shared<KeyMirror>();
};

}  // namespace harvest::media

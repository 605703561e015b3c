#pragma once
// One publisher's session on one stream: shared between the ingest connection's thread
// (which pushes media and counts bytes) and the control-plane loop (which decides who
// publishes, turns pipeline messages into HLS segments and reports stats).
// Fields are either immutable after the loop accepted the session, atomic, or under `mutex_`.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace harvest::media {

class StreamPipeline;
namespace hls {
class HlsWriter;
class LlHlsStream;
}

// Lets the thread that cuts a session's segments list them in the stream's playlist itself, with
// no hop to the loop in between (which would add its wake-up to every segment's latency). The
// loop opens it when it accepts the session and closes it when the session stops being the
// stream's current one; segments cut while it is closed are dropped.
class SegmentListing {
public:
  void open(std::shared_ptr<hls::HlsWriter> writer);
  void close();
  // Any thread: lists the segment if open (errors are logged); false if closed. The first one
  // begins the session on the writer (HlsWriter::begin_session) at `session_wall_ms`, the wall
  // time of the session's running time 0.
  bool list(const std::string& path, uint64_t start_ns, uint64_t end_ns, int64_t session_wall_ms);

private:
  std::mutex mutex_;  // held while listing, so close() waits out a listing in progress
  std::shared_ptr<hls::HlsWriter> writer_;
  bool begun_ = false;
};

struct PublishSession {
  // --- set by the connection before asking to publish ---
  std::string protocol;   // "rtmp" / "srt"
  std::string publisher;  // remote address
  // Closes the connection with a reason; callable from any thread, more than once.
  std::function<void(const std::string& reason)> kick;

  // --- set by the loop when it accepts, before the connection hears the answer ---
  uint64_t id = 0;
  std::string stream_id;
  std::string segment_prefix;  // segment files: <prefix><index>.ts
  uint64_t start_index = 0;
  uint64_t segment_target_ns = 1'000'000'000;
  std::shared_ptr<hls::LlHlsStream> ll;  // the LL-HLS rendition to feed; may be null

  // --- any thread ---
  std::atomic<uint64_t> bytes_received{0};
  std::atomic<uint64_t> video_frames{0};
  std::atomic<uint64_t> audio_frames{0};
  std::atomic<uint64_t> timestamp_repairs{0};
  std::atomic<int64_t> last_data_steady_ms{0};  // when media bytes last arrived
  std::atomic<int64_t> epoch_wall_ms{0};        // wall time of output running time 0 (first buffer)
  std::atomic<bool> ended{false};               // the publisher left or was kicked
  SegmentListing listing;

  void touch();  // media arrived now
  // Marks running time `first_rt_ns` as arriving now, once per session.
  void set_epoch_once(int64_t first_rt_ns);

  // Protocol and codec facts (codecs, width, height, rotation, SRT link stats), merged.
  void merge_info(const nlohmann::json& fields);
  nlohmann::json info() const;

  void set_pipeline(std::shared_ptr<StreamPipeline> p);
  std::shared_ptr<StreamPipeline> pipeline() const;

private:
  mutable std::mutex mutex_;
  nlohmann::json info_ = nlohmann::json::object();
  std::shared_ptr<StreamPipeline> pipeline_;
};

}  // namespace harvest::media

#pragma once
// RTMP restream of one stream's burned-in rendition to an external URL (Douyin, JD, ...), so a
// farmer pushes the same overlaid show to other platforms at once. Loop thread only, except the
// taps' callbacks, which run on the ingest pipeline's streaming threads.
//
//   ingest pipeline (per publisher session)            restream pipeline (per attempt)
//   burned tee ─► queue (leaky 2 s) ─► appsink ─┐       appsrc ─► h264parse ─┐
//   audio_tee  ─► queue (leaky 2 s) ─► appsink ─┴─────► appsrc ─► aacparse ──┴► flvmux (streamable)
//                                                         ─► rtmp2sink location=URL
//
// Why a pipeline of its own and not a branch inside the ingest pipeline: an error of rtmp2sink
// (remote refuses, goes away, times out) reaches the ingest pipeline's bus as an ERROR, which ends
// the publisher session. In its own pipeline the error has its own bus: the restream is torn down
// and retried (1 s, 2 s, 4 s ... 30 s) and the ingest pipeline never hears of it. The taps stay in
// the ingest pipeline for the rest of the publisher session (a leaky queue and an appsink that
// drops when nothing is pushing), so a retry never relinks a running tee.
//
// Each attempt starts at a keyframe of the burned-in video with timestamps rebased to 0 (a fresh
// RTMP publish for the remote); audio before that keyframe is dropped. If the remote cannot take
// the bitrate (more than 3 s queued), media is dropped and video resumes at the next keyframe.
#include <gst/gst.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/event_loop.h"
#include "media/gst/gst_bus_bridge.h"

namespace harvest::media {

class StreamPipeline;

// An error sentence for a restream URL the API must refuse ("" if acceptable): rtmp:// or
// rtmps://, at most 1024 bytes of printable ASCII (no whitespace or control characters), a host,
// an optional port 1-65535, and a path with an application and a stream key.
std::string restream_url_problem(std::string_view url);
// The URL with the secrets hidden, for status and logs: the stream key (after the last '/') and
// any user:password@ become "****".
std::string mask_restream_url(std::string_view url);
// Wait before retry number `failures` (1-based, consecutive failures): 1 s, 2 s, 4 s ... 30 s.
std::chrono::milliseconds restream_backoff(int failures);

class Restream {
 public:
  enum class State { idle, connecting, live, retrying, error };
  static const char* state_name(State s);

  Restream(EventLoop& loop, std::string stream_id);
  ~Restream();
  Restream(const Restream&) = delete;
  Restream& operator=(const Restream&) = delete;

  // The target ("" stops). A new URL restarts pushing at once if a source is attached, else it
  // waits for the next publisher session. The same URL again while retrying tries at once.
  void set_url(std::string url);
  const std::string& url() const { return url_; }

  // A publisher session's burned-in video tee and (may be nullptr) its AAC audio tee; the taps
  // are linked into `pipeline` once per session, when there is a URL.
  void attach_source(const std::shared_ptr<StreamPipeline>& pipeline, GstElement* video_tee,
                     GstElement* audio_tee);
  // The session ended: stop pushing, idle until the next one. Call before the pipeline stops.
  void detach_source();
  bool attached() const { return !source_.expired(); }

  // {"url" (masked), "state", "attempts", "last_error", "bytes_sent", "frames_sent",
  //  "frames_dropped", "retry_in_ms" (retrying only)}; counts are over every attempt with this URL.
  nlohmann::json status() const;
  State state() const { return state_; }

 private:
  struct Feed;
  void start_attempt();
  void stop_attempt();
  bool link_taps(std::string& error);
  void fail(const std::string& reason);
  void on_bus(GstMessage* message);
  void poll();

  EventLoop& loop_;
  std::string stream_id_;
  std::string url_;
  std::shared_ptr<Feed> feed_;  // shared with the taps' callbacks
  // The source: the session's ingest pipeline and its tees (alive while the pipeline is).
  std::weak_ptr<StreamPipeline> source_;
  GstElement* video_tee_ = nullptr;
  GstElement* audio_tee_ = nullptr;
  bool tapped_ = false;  // taps linked into source_
  // The current attempt.
  GstElement* push_ = nullptr;
  GstElement* rtmp_sink_ = nullptr;
  std::unique_ptr<GstBusBridge> bridge_;
  std::shared_ptr<std::atomic<uint64_t>> sink_buffers_;  // buffers that reached rtmp2sink
  State state_ = State::idle;
  int attempts_ = 0;  // attempts with this URL
  int failures_ = 0;  // consecutive failures (the backoff)
  std::string last_error_;
  uint64_t bytes_sent_ = 0;  // over every attempt with this URL
  uint64_t attempt_bytes_ = 0;
  int64_t live_since_ms_ = 0;
  int64_t retry_at_ms_ = 0;
  EventLoop::TimerId retry_timer_ = 0;
  EventLoop::TimerId poll_timer_ = 0;
};

}  // namespace harvest::media

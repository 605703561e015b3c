#pragma once
// WHEP viewers (draft-ietf-wish-whep) on the control-plane loop: one WhepPeer per viewer, fed by
// the stream's WhepFanout (one payloader and one Opus encoder per stream, built with the first
// viewer and removed with the last). Any live stream plays, whatever its ingest (RTMP, SRT,
// WHIP): the fanout taps the publisher session's StreamPipeline. Loop thread only.
//
// A viewer ends on DELETE, when ICE fails, when no RTCP came from it for kMaxSilence (a closed
// tab; webrtcbin 1.22 does not surface consent freshness), or when the stream's publisher
// session ends (the page then asks again, and plays the next session).
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/event_loop.h"
#include "media/ingest/ingest_manager.h"
#include "media/webrtc/whep_fanout.h"
#include "media/webrtc/whep_peer.h"

namespace harvest::media::webrtc {

// For GET /metrics: WHEP viewers now (being answered or playing) and those sent to HLS
// because the server was full. Kept here rather than in core/metrics.h, which most of the
// server includes.
struct WhepCounters {
  std::atomic<int64_t> viewers{0};
  std::atomic<uint64_t> refused_full{0};
};
WhepCounters& whep_counters();

struct WhepOptions {
  WhipPeerOptions ice;  // the server's ICE settings, shared with WHIP
  // Viewers at once over the whole server; beyond it 503 + Retry-After (use HLS). The default
  // comes from bench/webrtc/whep_viewers.py (docs/benchmarks.md, "WHEP viewers per core").
  size_t max_viewers = 100;
};

class WhepPlayback {
public:
  struct Outcome {
    int status = 0;
    std::string session_id;  // 201: the resource is /whep/{stream}/{session_id}
    std::string answer_sdp;
    std::string code;  // otherwise
    std::string message;
    int retry_after_s = 0;  // 503
  };
  // `stream_exists`: whether `id` names a stream (404 otherwise).
  WhepPlayback(EventLoop& loop, IngestManager& ingest, std::function<bool(const std::string&)> stream_exists,
               WhepOptions options);
  ~WhepPlayback();
  WhepPlayback(const WhepPlayback&) = delete;
  WhepPlayback& operator=(const WhepPlayback&) = delete;

  // `done` runs once, on the loop thread (maybe before play() returns).
  void play(const std::string& stream_id, const std::string& offer_sdp, std::function<void(Outcome)> done);
  bool end(const std::string& stream_id, const std::string& session_id, const std::string& reason);
  size_t viewers() const { return sessions_.size(); }
  size_t max_viewers() const { return options_.max_viewers; }

  static constexpr std::chrono::seconds kMaxSilence{10};       // no RTCP from the viewer
  static constexpr std::chrono::seconds kMaxNegotiation{30};   // offer → answer
  static constexpr std::chrono::seconds kFirstRtcp{20};        // answer → the viewer's first RTCP
  static constexpr int kRetryAfterS = 10;

private:
  struct Session;
  void watch(const std::string& id);
  void finish(std::string id, const std::string& reason);
  void count() const;

  EventLoop& loop_;
  IngestManager& ingest_;
  std::function<bool(const std::string&)> stream_exists_;
  WhepOptions options_;
  std::map<std::string, std::unique_ptr<Session>> sessions_;
  std::map<std::string, std::unique_ptr<WhepFanout>> fanouts_;  // by stream id
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace harvest::media::webrtc

#pragma once
// WHIP publishers (RFC 9725) on the control-plane loop: one WhipPeer per publisher, entering
// IngestManager as a "whip" session whose media arrives as MPEG-TS, the way an SRT publisher's
// does. The same rules as RTMP/SRT apply, decided by IngestManager: a wrong key is refused; a
// second publisher on a key is refused (409) while the first sent media within the stall
// timeout (4 s) and takes over once it has not; a publisher that left (DELETE, ICE lost, or
// silent for kMaxSilence) leaves the stream to its grace period. Loop thread only.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/event_loop.h"
#include "media/ingest/ingest_manager.h"
#include "media/webrtc/whip_peer.h"

namespace harvest::media::webrtc {

class WhipIngest {
public:
  // What to answer the POST with: 201 with the SDP answer and the session's resource id, or
  // an error status with a code and a sentence.
  struct Outcome {
    int status = 0;
    std::string session_id;  // 201: the resource is /whip/{stream}/{session_id}
    std::string answer_sdp;  // 201
    std::string code;        // otherwise
    std::string message;
  };

  WhipIngest(EventLoop& loop, IngestManager& ingest, WhipPeerOptions options);
  ~WhipIngest();
  WhipIngest(const WhipIngest&) = delete;
  WhipIngest& operator=(const WhipIngest&) = delete;

  // Starts publishing `offer_sdp` to `stream_id` with `stream_key`; `done` runs once, on the
  // loop thread, when the answer is ready (every ICE candidate gathered) or it failed.
  void publish(const std::string& stream_id, const std::string& stream_key, const std::string& offer_sdp,
               const std::string& peer, std::function<void(Outcome)> done);
  // An uplink check before going live: the same negotiation and key check as publish(), but
  // what arrives is only counted and dropped; the stream is not touched. It ends on DELETE,
  // or kMaxProbe after it started. One probe per stream at a time (a new one ends the old).
  void probe(const std::string& stream_id, const std::string& stream_key, const std::string& offer_sdp,
             std::function<void(Outcome)> done);
  static constexpr std::chrono::seconds kMaxProbe{30};
  // A publisher that vanishes without DELETE (phone out of coverage, tab killed) is ended once
  // no RTP has arrived from it for this long. webrtcbin 1.22 does not report such a sender: its
  // ICE consent freshness (RFC 7675) tells nothing within 120 s, so RTP stopping is what we
  // can see. Longer than the stall timeout (4 s) after which a second publisher may take over
  // (IngestOptions::stall_timeout), like RTMP's idle close after it; then the grace period runs.
  static constexpr std::chrono::seconds kMaxSilence{10};
  // From the offer to the answer (every candidate gathered) at most; then the POST gets 500.
  // Gathering host candidates takes milliseconds, but seconds on a loaded machine.
  static constexpr std::chrono::seconds kMaxNegotiation{30};
  // A session whose media stops coming out of its WhipPeer for this long while RTP still
  // arrives is ended: the browser then sees ICE go away and reconnects (the broadcaster page
  // does, with backoff), faster than waiting on a session that is connected but stuck.
  static constexpr std::chrono::seconds kMediaStall{8};
  // DELETE of the session's resource: ends it. False if there is no such session.
  bool end(const std::string& stream_id, const std::string& session_id, const std::string& reason);

private:
  struct Session;
  // What publish() and probe() share: checks the key and the offer; nullopt when they pass.
  std::optional<Outcome> check_offer(const std::string& stream_id, const std::string& stream_key,
                                     const std::string& offer_sdp, IngestCodecs& codecs);
  // Starts the peer for a session already in sessions_, with its MPEG-TS going to `ts`.
  void start_peer(const std::string& id, const std::string& offer_sdp, const IngestCodecs& codecs,
                  std::function<void(const uint8_t*, size_t)> ts, std::function<void(size_t)> rtp,
                  bool discard_media);
  // Ends the session once its publisher has been silent for kMaxSilence, or its media output
  // stalled for kMediaStall; checks every second. Armed when the answer goes out.
  void watch_silence(const std::string& id);
  // `session_id` by value: callers pass map keys, and the session (with its key) is erased here.
  void finish(std::string session_id, const std::string& reason);
  void count_sessions() const;  // the harvest_whip_sessions gauge

  EventLoop& loop_;
  IngestManager& ingest_;
  WhipPeerOptions options_;
  std::map<std::string, std::unique_ptr<Session>> sessions_;  // by session id
  // Posted tasks hold a weak reference: one that runs after this is gone does nothing.
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace harvest::media::webrtc

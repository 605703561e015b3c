#pragma once
// The media half of one WHEP viewer: a webrtcbin that answers the viewer's recvonly offer and
// sends the stream's RTP, which the stream's WhepFanout payloaded once for every viewer:
//
//   appsrc(H.264 RTP) ─┐
//   appsrc(Opus RTP)  ─┴► webrtcbin (sendonly) ─► DTLS/SRTP ─► the viewer
//
// push_video/push_audio take the shared packets (any thread): a packet is rewritten only when
// the viewer's offer gave the codec another payload type; video starts at the next packet that
// carries an SPS (the next IDR: see WhepFanout).
//
// A viewer that vanishes is seen by what it stops sending: ICE failed/disconnected/closed, or no
// RTCP (receiver reports) from it for a while (`last_rtcp_ms`; webrtcbin 1.22 does not surface
// consent freshness, see WhipIngest::kMaxSilence). All candidates are gathered before the answer.
#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "media/webrtc/sdp.h"
#include "media/webrtc/whip_peer.h"

namespace harvest::media::webrtc {

struct WhepPeerEvents {
  std::function<void(const std::string& answer_sdp)> answered;
  std::function<void(const std::string& reason)> failed;  // negotiation failed
  std::function<void(const std::string& reason)> lost;     // after the answer: ICE lost the viewer
};

class WhepPeer {
public:
  // nullptr with `error` set when the pipeline cannot be built.
  static std::shared_ptr<WhepPeer> start(const std::string& offer_sdp, const PlaybackCodecs& codecs,
                                         const WhipPeerOptions& options, WhepPeerEvents events, std::string& error);
  ~WhepPeer();
  WhepPeer(const WhepPeer&) = delete;
  WhepPeer& operator=(const WhepPeer&) = delete;

  // Stops the pipeline; no event after it returns. Idempotent.
  void stop();
  // From the fanout's streaming threads. The peer does not take `packet`'s reference.
  void push_video(GstBuffer* packet);
  void push_audio(GstBuffer* packet);
  // Steady ms of the last RTCP packet from the viewer (0: none yet).
  int64_t last_rtcp_ms() const;
  uint64_t packets_sent() const;

  struct State;

private:
  explicit WhepPeer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace harvest::media::webrtc

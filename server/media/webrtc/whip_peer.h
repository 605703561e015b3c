#pragma once
// The media half of one WHIP publisher: a webrtcbin that answers the browser's offer and turns
// what arrives into MPEG-TS, so a WHIP publisher enters the same per-stream pipeline as an SRT
// one (appsrc(mpegts) ─► tsdemux ─► ...; see media/ingest/stream_pipeline.h):
//
//   webrtcbin ─► rtph264depay ─► h264parse ──────────────────────────────────┐  (H.264: no re-encode)
//             ─► rtpvp8depay ─► vp8dec ─► videocrop ─► x264enc ─► h264parse ─┼─► mpegtsmux ─► appsink ─► Events::ts
//             ─► rtpopusdepay ─► opusdec ─► avenc_aac ─► aacparse ───────────┘
//   (videocrop takes off an odd last row or column: x264 encodes even sizes only)
//
// Keyframes: the server asks the publisher for one (RTCP PLI through webrtcbin's RTP session)
// when its video starts, after packet loss, and every `keyframe_interval` without one; see
// KeyframeRequests in whip_peer.cpp.
//
// Portrait stays portrait because the answer does not accept the urn:3gpp:video-orientation
// extension: without it the browser rotates frames itself before encoding (RFC 7742 §7.2.1).
// All candidates are gathered before the answer is given (no trickle ICE).
//
// Threads: start() on any thread; Events arrive on GStreamer's threads. Destroying the peer
// stops its pipeline; no event arrives after the destructor returns.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "media/webrtc/sdp.h"

typedef struct _GstElement GstElement;

namespace harvest::media::webrtc {

struct WhipPeerOptions {
  std::string public_address;  // rewrite host candidates to this (a VM behind 1:1 NAT); empty: keep
  std::string stun_server;     // stun://host:port, handed to webrtcbin; empty: none
  std::string turn_server;     // turn://user:pass@host:port; empty: none
  uint16_t min_port = 0;       // UDP port range for ICE (0, 0: any)
  uint16_t max_port = 0;
  // An uplink check (WhipIngest::probe): every track is drained into a fakesink, nothing is
  // decoded or muxed, and no MPEG-TS comes out.
  bool discard_media = false;
  // How often the publisher is asked for a keyframe (RTCP PLI) when it sent none by itself.
  // Browsers send one keyframe at the start and then only when asked, but the HLS writer cuts
  // segments at keyframes and a player can only start a segment on one: this is about the
  // segment length players see. 0: only at the start and after packet loss.
  std::chrono::milliseconds keyframe_interval{2000};
};

struct WhipPeerEvents {
  std::function<void(const std::string& answer_sdp)> answered;
  std::function<void(const std::string& reason)> failed;  // negotiation failed or ICE failed
  std::function<void(const uint8_t* data, size_t size)> ts;  // MPEG-TS, 188-byte aligned
  // RTP arrived from the publisher (`bytes` of it, any track, after SRTP): the one sign of life
  // webrtcbin gives promptly (it reports no vanished sender; see WhipIngest::kMaxSilence).
  std::function<void(size_t bytes)> rtp;
  // After the answer, the session can go on no more: ICE lost the publisher (closed, failed or
  // consent expired), or an element of the media pipeline failed.
  std::function<void(const std::string& reason)> lost;
};

// ICE settings every webrtcbin of the server shares (publishers' and WHEP viewers'): UPnP off,
// the STUN/TURN servers and the UDP port range of `options`.
void configure_webrtcbin_ice(GstElement* webrtc, const WhipPeerOptions& options);

// `webrtc`'s local description as SDP text once ICE gathering is complete (every candidate in
// it: the server answers without trickle ICE), with --public-address put in; nullopt before.
std::optional<std::string> gathered_local_description(GstElement* webrtc, const WhipPeerOptions& options);

// The two ends of a WHIP or WHEP peer's handshake, shared by WhipPeer::State and
// WhepPeer::State (atomic `stopping`, `ended`, `answered`; `events` with answered/failed/
// lost; `webrtc`, `options`). Each event fires at most once.
//
// The answer goes out once every candidate is in it (no trickle ICE).
template <class PeerState>
void answer_when_gathered(PeerState* s) {
  std::optional<std::string> answer = gathered_local_description(s->webrtc, s->options);
  if (!answer || s->stopping || s->answered.exchange(true)) return;
  if (s->events.answered) s->events.answered(*answer);
}
// Before the answer: `failed` (the POST gets an error); after it: `lost`.
template <class PeerState>
void fail_peer(PeerState* s, const std::string& reason) {
  if (s->stopping || s->ended.exchange(true)) return;
  if (!s->answered.exchange(true)) {
    if (s->events.failed) s->events.failed(reason);
  } else if (s->events.lost) {
    s->events.lost(reason);
  }
}

class WhipPeer {
public:
  // Builds the pipeline for the codecs chosen from `offer` (choose_ingest_codecs) and starts
  // answering. nullptr with `error` set when an element is missing or nothing can be ingested.
  static std::unique_ptr<WhipPeer> start(const std::string& offer_sdp, const IngestCodecs& codecs,
                                         const WhipPeerOptions& options, WhipPeerEvents events, std::string& error);
  ~WhipPeer();
  // "ice connected, dtls connected, tracks 2, packets in 812 (0.1 s ago), decrypted 790 (0.1 s
  // ago), out 35 (9.8 s ago)": where a session's media stopped (at the socket, at SRTP or
  // inside webrtcbin), for the log line that ends it.
  std::string transport_summary() const;
  WhipPeer(const WhipPeer&) = delete;
  WhipPeer& operator=(const WhipPeer&) = delete;

  struct State;

private:
  explicit WhipPeer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace harvest::media::webrtc

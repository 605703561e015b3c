#pragma once
// The parts of an SDP offer (RFC 8866, as browsers write it for WebRTC) that a WHIP ingest
// decides on: which media sections there are, their codecs, the ICE credentials and the DTLS
// fingerprint, and the video-orientation header extension phones use for portrait video.
// Pure functions over text, so they can be unit tested and fuzzed without a socket; webrtcbin
// does the real negotiation, this only refuses what it could not ingest, with a reason.
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace harvest::media::webrtc {

// An offer larger than this is refused before parsing (a browser's offer is a few KiB).
inline constexpr size_t kMaxOfferBytes = 64 * 1024;

// One `a=rtpmap` of a media section, with its `a=fmtp` parameters if any.
struct OfferedCodec {
  int payload_type = -1;
  std::string name;  // as written ("H264", "VP8", "opus"); compare with equal_codec_name()
  int clock_rate = 0;
  std::string fmtp;  // e.g. "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
};

struct MediaSection {
  std::string kind;       // "audio", "video", or another media type (kept, never ingested)
  std::string mid;        // a=mid
  std::string direction;  // sendonly, sendrecv, recvonly or inactive (default sendrecv)
  bool rejected = false;  // port 0 and not in a BUNDLE group (a bundled section may carry port 0)
  std::vector<OfferedCodec> codecs;
  std::optional<int> orientation_extension_id;  // a=extmap:N urn:3gpp:video-orientation
  std::optional<int> transport_cc_extension_id;  // a=extmap:N <kTransportCcUri>
};

// The transport-wide sequence number header extension (draft-holmer-rmcat-transport-wide-cc-
// extensions-01): the receiver reports when each packet arrived and the sender's congestion
// control estimates the uplink from that (what Chromium calls send-side bandwidth estimation).
inline constexpr std::string_view kTransportCcUri =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

struct SdpOffer {
  std::vector<MediaSection> media;
  std::string ice_ufrag;    // session level, or the first media section's
  std::string ice_pwd;
  std::string fingerprint;  // "sha-256 AB:CD:..."
  std::vector<std::string> bundled_mids;  // a=group:BUNDLE
};

// Parses an offer. On failure returns a sentence saying what is wrong (for a 400 answer).
std::variant<SdpOffer, std::string> parse_offer(std::string_view text);

// The codecs a WHIP ingest takes from an offer. Video: H.264 with packetization-mode=1 and a
// constrained-baseline or baseline profile first, because it passes through to HLS without
// re-encoding; then any other H.264 with packetization-mode=1; then VP8, which is transcoded.
// Audio: Opus (transcoded to AAC). A section the publisher does not send (recvonly, inactive,
// rejected) offers nothing.
struct IngestCodecs {
  std::optional<OfferedCodec> video;
  std::optional<OfferedCodec> audio;
  bool video_is_h264() const;
};
IngestCodecs choose_ingest_codecs(const SdpOffer& offer);

// The codecs a WHEP viewer is sent, from its offer's sections that receive (recvonly or
// sendrecv). Video: H.264 with packetization-mode=1 (what the ingest passes through; never
// transcoded): constrained baseline 42e0xx first, then any other profile, whose payload type
// the viewer's packets then carry (decoders take any profile; the profile names what the
// browser must be able to decode, and browsers offering H.264 decode High too). Audio: Opus.
// No video: nothing to play (the caller answers 400).
struct PlaybackCodecs {
  std::optional<OfferedCodec> video;
  std::optional<OfferedCodec> audio;
  std::string video_mid, audio_mid;
};
PlaybackCodecs choose_playback_codecs(const SdpOffer& offer);

// Case-insensitive codec name comparison ("h264" == "H264").
bool equal_codec_name(std::string_view a, std::string_view b);

// The value of one fmtp parameter ("profile-level-id"), empty if absent.
std::string fmtp_value(std::string_view fmtp, std::string_view key);

// Accepts the transport-wide congestion control extension in `answer`: each video section
// whose mid the offer gave the extension gets `a=extmap:ID URI` with the offer's id (RFC 8285:
// the answer repeats the id). GStreamer 1.22's webrtcbin answers with `a=rtcp-fb:PT
// transport-cc` but drops every a=extmap, and without the extension a browser has no bandwidth
// estimate at all: it stays at its 300 kbit/s start rate (and lowers the resolution to match).
// rtpsession sends the transport-cc feedback once the extension is in the local description.
std::string accept_transport_cc(std::string_view answer, const SdpOffer& offer);

// Rewrites the address of every host candidate (a=candidate ... typ host) in `sdp` to
// `public_address`, for a server behind a 1:1 NAT (a cloud VM) whose own interfaces show only
// the private address. Other candidate types and every other line are kept as they are.
std::string advertise_address(std::string_view sdp, std::string_view public_address);

}  // namespace harvest::media::webrtc

// The WHIP offer checks: what is taken from a browser's offer, and what is refused with a reason.
#include <catch2/catch.hpp>

#include "media/webrtc/sdp.h"

using namespace harvest::media::webrtc;

namespace {

// Shaped like Chromium's offer for addTransceiver(track, {direction: 'sendonly'}), trimmed.
const std::string kChromiumOffer =
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Q7lv\r\n"
    "a=ice-pwd:WuUQrzTGWcUYRxnZXfasOJ8a\r\n"
    "a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=sendonly\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 106 107\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Q7lv\r\n"
    "a=ice-pwd:WuUQrzTGWcUYRxnZXfasOJ8a\r\n"
    "a=mid:1\r\n"
    "a=extmap:13 urn:3gpp:video-orientation\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=sendonly\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"
    "a=rtpmap:103 rtx/90000\r\n"
    "a=rtpmap:106 H264/90000\r\n"
    "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:107 H264/90000\r\n"
    "a=fmtp:107 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n";

SdpOffer parsed(const std::string& text) {
  auto r = parse_offer(text);
  if (auto* err = std::get_if<std::string>(&r)) FAIL("refused: " << *err);
  return std::get<SdpOffer>(r);
}

std::string refusal(const std::string& text) {
  auto r = parse_offer(text);
  return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : std::string();
}

}  // namespace

TEST_CASE("a browser's offer: sections, codecs, ICE credentials, orientation extension", "[webrtc]") {
  const SdpOffer offer = parsed(kChromiumOffer);
  REQUIRE(offer.media.size() == 2);
  CHECK(offer.media[0].kind == "audio");
  CHECK(offer.media[0].mid == "0");
  CHECK(offer.media[0].direction == "sendonly");
  CHECK(offer.media[1].orientation_extension_id == 13);
  CHECK(offer.ice_ufrag == "Q7lv");
  CHECK(offer.ice_pwd == "WuUQrzTGWcUYRxnZXfasOJ8a");
  CHECK(offer.fingerprint.rfind("sha-256 6B:8B", 0) == 0);
  REQUIRE(offer.media[1].codecs.size() == 6);
  CHECK(offer.media[1].codecs[0].name == "VP8");
  CHECK(offer.media[1].codecs[0].clock_rate == 90000);
}

TEST_CASE("ingest prefers baseline H.264 with packetization-mode 1, then other H.264, then VP8", "[webrtc]") {
  const IngestCodecs chosen = choose_ingest_codecs(parsed(kChromiumOffer));
  REQUIRE(chosen.video);
  CHECK(chosen.video->payload_type == 106);
  CHECK(chosen.video_is_h264());
  REQUIRE(chosen.audio);
  CHECK(chosen.audio->payload_type == 111);

  std::string no_baseline = kChromiumOffer;
  no_baseline.replace(no_baseline.find("profile-level-id=42e01f\r\n"), 23, "profile-level-id=64001f");
  CHECK(choose_ingest_codecs(parsed(no_baseline)).video->payload_type == 102);

  std::string vp8_only = kChromiumOffer.substr(0, kChromiumOffer.find("a=rtpmap:102"));
  const IngestCodecs vp8 = choose_ingest_codecs(parsed(vp8_only));
  REQUIRE(vp8.video);
  CHECK(vp8.video->name == "VP8");
  CHECK_FALSE(vp8.video_is_h264());
}

TEST_CASE("a section the publisher does not send offers nothing; audio-only works", "[webrtc]") {
  std::string recv = kChromiumOffer;
  recv.replace(recv.rfind("a=sendonly"), 10, "a=recvonly");
  const IngestCodecs chosen = choose_ingest_codecs(parsed(recv));
  CHECK_FALSE(chosen.video);
  CHECK(chosen.audio);

  std::string rejected = kChromiumOffer;
  rejected.replace(rejected.find("m=video 9"), 9, "m=video 0");
  rejected.replace(rejected.find("a=group:BUNDLE 0 1"), 18, "a=group:BUNDLE 0");
  CHECK(parsed(rejected).media[1].rejected);
  CHECK_FALSE(choose_ingest_codecs(parsed(rejected)).video);
}

TEST_CASE("a bundled section with port 0 is not rejected", "[webrtc]") {
  std::string bundled = kChromiumOffer;
  bundled.replace(bundled.find("m=video 9"), 9, "m=video 0");
  const SdpOffer offer = parsed(bundled);
  CHECK(offer.bundled_mids == std::vector<std::string>{"0", "1"});
  CHECK_FALSE(offer.media[1].rejected);
  CHECK(choose_ingest_codecs(offer).video);
}

TEST_CASE("an offer with no usable codec chooses nothing", "[webrtc]") {
  const std::string offer =
      "v=0\nm=video 9 UDP/TLS/RTP/SAVPF 98\na=ice-ufrag:u\na=ice-pwd:p\na=fingerprint:sha-256 AA\n"
      "a=sendonly\na=rtpmap:98 VP9/90000\n";
  const IngestCodecs chosen = choose_ingest_codecs(parsed(offer));
  CHECK_FALSE(chosen.video);
  CHECK_FALSE(chosen.audio);
}

TEST_CASE("malformed offers are refused with a reason", "[webrtc]") {
  CHECK(refusal("") == "the offer is empty");
  CHECK(refusal("hello world").find("not SDP") != std::string::npos);
  CHECK(refusal("v=1\n").find("v=0") != std::string::npos);
  CHECK(refusal("v=0\ns=-\n").find("no media section") != std::string::npos);
  CHECK(refusal("v=0\nm=video\n").find("media line") != std::string::npos);
  CHECK(refusal("v=0\nm=video 99999 RTP/AVP 96\n").find("port") != std::string::npos);
  CHECK(refusal("v=0\nm=video 9 RTP/AVP 96\n").find("ICE credentials") != std::string::npos);
  CHECK(refusal("v=0\nm=video 9 RTP/AVP 96\na=ice-ufrag:u\na=ice-pwd:p\n").find("fingerprint") != std::string::npos);
  CHECK(refusal(std::string("v=0\0", 4)).find("not text") != std::string::npos);
  CHECK(refusal(std::string(kMaxOfferBytes + 1, 'a')).find("64 KiB") != std::string::npos);
}

TEST_CASE("fmtp values and codec names", "[webrtc]") {
  CHECK(fmtp_value("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", "profile-level-id") == "42e01f");
  CHECK(fmtp_value("a=1; b=2", "b") == "2");
  CHECK(fmtp_value("a=1", "b").empty());
  CHECK(equal_codec_name("h264", "H264"));
  CHECK_FALSE(equal_codec_name("H264", "H265"));
}

TEST_CASE("host candidates advertise the public address; other lines stay as they are", "[webrtc]") {
  const std::string answer =
      "v=0\r\n"
      "a=candidate:1 1 UDP 2015363327 10.0.0.5 40000 typ host\r\n"
      "a=candidate:2 1 UDP 1015363327 198.51.100.7 40001 typ srflx raddr 10.0.0.5 rport 40000\r\n"
      "a=mid:0\r\n";
  const std::string out = advertise_address(answer, "203.0.113.9");
  CHECK(out ==
        "v=0\r\n"
        "a=candidate:1 1 UDP 2015363327 203.0.113.9 40000 typ host\r\n"
        "a=candidate:2 1 UDP 1015363327 198.51.100.7 40001 typ srflx raddr 10.0.0.5 rport 40000\r\n"
        "a=mid:0\r\n");
  CHECK(advertise_address("v=0", "203.0.113.9") == "v=0");
}

TEST_CASE("the answer accepts transport-wide congestion control with the offer's id", "[webrtc]") {
  const SdpOffer offer = parsed(kChromiumOffer);
  CHECK_FALSE(offer.media[0].transport_cc_extension_id.has_value());
  CHECK(offer.media[1].transport_cc_extension_id == 3);
  // Shaped like webrtcbin's answer: rtcp-fb transport-cc, no a=extmap.
  const std::string answer =
      "v=0\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
      "a=mid:0\r\n"
      "a=rtpmap:111 OPUS/48000/2\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 106\r\n"
      "a=mid:1\r\n"
      "a=rtpmap:106 H264/90000\r\n"
      "a=rtcp-fb:106 transport-cc\r\n";
  const std::string accepted = accept_transport_cc(answer, offer);
  CHECK(accepted ==
        "v=0\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
        "a=mid:0\r\n"
        "a=rtpmap:111 OPUS/48000/2\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 106\r\n"
        "a=mid:1\r\n"
        "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
        "a=rtpmap:106 H264/90000\r\n"
        "a=rtcp-fb:106 transport-cc\r\n");
  // A last line without a newline, and an answer for an offer without the extension.
  CHECK(accept_transport_cc("a=mid:1", offer) ==
        "a=mid:1\na=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\n");
  SdpOffer plain = offer;
  plain.media[1].transport_cc_extension_id.reset();
  CHECK(accept_transport_cc(answer, plain) == answer);
}

// WHEP: a viewer's offer receives; the server sends what the publisher sent (H.264) and Opus.
std::string as_recvonly(std::string offer) {
  for (size_t at = offer.find("a=sendonly"); at != std::string::npos; at = offer.find("a=sendonly"))
    offer.replace(at, 10, "a=recvonly");
  return offer;
}

TEST_CASE("playback takes H.264 packetization-mode 1 (constrained baseline first) and Opus from recvonly sections", "[webrtc]") {
  const PlaybackCodecs chosen = choose_playback_codecs(parsed(as_recvonly(kChromiumOffer)));
  REQUIRE(chosen.video);
  CHECK(chosen.video->payload_type == 106);  // 42e01f, mode 1; not 107 (mode 0), not VP8
  CHECK(chosen.video_mid == "1");
  REQUIRE(chosen.audio);
  CHECK(chosen.audio->payload_type == 111);
  CHECK(chosen.audio_mid == "0");

  // Only another profile with mode 1: taken (decoders take any profile).
  std::string main_only = as_recvonly(kChromiumOffer);
  main_only.replace(main_only.find("profile-level-id=42e01f"), 23, "profile-level-id=640c1f");
  const PlaybackCodecs main_chosen = choose_playback_codecs(parsed(main_only));
  REQUIRE(main_chosen.video);
  CHECK(main_chosen.video->payload_type == 102);  // neither is baseline: the first listed
}

TEST_CASE("playback refuses what receives nothing: a publisher's offer, VP8 only", "[webrtc]") {
  CHECK_FALSE(choose_playback_codecs(parsed(kChromiumOffer)).video);  // sendonly: a WHIP offer
  std::string vp8 = as_recvonly(kChromiumOffer);
  for (const char* pt : {"a=rtpmap:102 H264/90000", "a=rtpmap:106 H264/90000", "a=rtpmap:107 H264/90000"})
    vp8.replace(vp8.find(pt), std::string(pt).size(), "a=rtpmap:99 H265/90000");
  CHECK_FALSE(choose_playback_codecs(parsed(vp8)).video);
}

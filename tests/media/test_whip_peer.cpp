// WhipPeer against a real WebRTC sender: a second webrtcbin in this process publishes a test
// pattern and a tone over loopback ICE/DTLS/SRTP, as a browser would, and what WhipPeer muxes
// must be MPEG-TS that ffprobe reads with the published size and codecs.
#include <gst/gst.h>
#define GST_USE_UNSTABLE_API
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <variant>

#include "media/media_helpers.h"
#include "media/webrtc_sender.h"
#include "media/webrtc/whip_peer.h"
#include "support/temp_dir.h"
#include "support/wait.h"

using namespace harvest::media::webrtc;
using harvest::test::TempDir;
using harvest::test::WebRtcSender;

namespace {

struct Received {
  std::mutex mutex;
  std::string answer;
  std::string failure;
  std::string ts;
  std::string lost;  // why the session ended after the answer
};

WhipPeerEvents events_into(Received& r) {
  WhipPeerEvents e;
  e.answered = [&r](const std::string& answer) { std::lock_guard l(r.mutex); r.answer = answer; };
  e.failed = [&r](const std::string& reason) { std::lock_guard l(r.mutex); r.failure = reason; };
  e.ts = [&r](const uint8_t* data, size_t size) {
    std::lock_guard l(r.mutex);
    r.ts.append(reinterpret_cast<const char*>(data), size);
  };
  e.lost = [&r](const std::string& reason) { std::lock_guard l(r.mutex); r.lost = reason; };
  return e;
}

// A WhipPeer answering `sender`'s offer, connected: what it muxes accumulates in `got`.
std::unique_ptr<WhipPeer> connect(WebRtcSender& sender, const std::string& expected_codec_name, Received& got) {
  REQUIRE(harvest::test::wait_until([&] { return !sender.offer().empty(); }, std::chrono::seconds(10)));
  const std::string offer_text = sender.offer();
  auto parsed = parse_offer(offer_text);
  REQUIRE(std::holds_alternative<SdpOffer>(parsed));
  const IngestCodecs codecs = choose_ingest_codecs(std::get<SdpOffer>(parsed));
  REQUIRE(codecs.video);
  CHECK(equal_codec_name(codecs.video->name, expected_codec_name));

  std::string error;
  auto peer = WhipPeer::start(offer_text, codecs, {}, events_into(got), error);
  REQUIRE(peer);
  REQUIRE(harvest::test::wait_until([&] { std::lock_guard l(got.mutex); return !got.answer.empty() || !got.failure.empty(); },
                                    std::chrono::seconds(10)));
  std::lock_guard l(got.mutex);
  INFO(got.failure);
  REQUIRE(got.failure.empty());
  CHECK(got.answer.find("a=candidate:") != std::string::npos);
  sender.take_answer(got.answer);
  return peer;
}

// ffprobe's view of the last `tail_bytes` muxed (all of it when 0) once it holds every track
// and `video_ok` accepts the video stream; the last view when that never came.
nlohmann::json probe_until(Received& got, bool audio, size_t tail_bytes,
                           const std::function<bool(const nlohmann::json&)>& video_ok, bool& ok) {
  TempDir dir;
  const std::string path = dir.path() + "/whip.ts";
  nlohmann::json probe;
  ok = harvest::test::wait_until(
      [&] {
        {
          std::lock_guard l(got.mutex);
          if (got.ts.size() < 200 * 1024) return false;
          // 188-byte packets: a tail that starts on a packet boundary is MPEG-TS too.
          const size_t from = tail_bytes == 0 || tail_bytes >= got.ts.size() ? 0 : (got.ts.size() - tail_bytes) / 188 * 188;
          std::ofstream(path, std::ios::binary) << got.ts.substr(from);
        }
        probe = harvest::test::ffprobe(path);
        if (!probe.contains("streams") || probe["streams"].size() < (audio ? 2u : 1u)) return false;
        for (const auto& s : probe["streams"])
          if (s.value("codec_type", "") == "video" && s.value("width", 0) > 0 && video_ok(s)) return true;
        return false;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(250));
  return probe;
}

// Publishes with `video_chain` (and Opus audio) until the muxed TS holds every track with the
// video's size known; returns ffprobe's view.
nlohmann::json publish_and_probe(const std::string& video_chain, const std::string& expected_codec_name, bool audio,
                                 int width = 360, int height = 640) {
  gst_init(nullptr, nullptr);
  WebRtcSender sender(video_chain, audio, width, height);
  Received got;
  auto peer = connect(sender, expected_codec_name, got);
  // Two seconds of both tracks: ffprobe then sees the video size and the AAC stream.
  bool probed = false;
  const nlohmann::json probe = probe_until(got, audio, 0, [](const nlohmann::json&) { return true; }, probed);
  INFO(probe.dump());
  std::lock_guard l(got.mutex);
  INFO("lost: " << got.lost);
  REQUIRE(probed);
  return probe;
}

const nlohmann::json* stream_of(const nlohmann::json& probe, const std::string& type) {
  for (const auto& s : probe["streams"])
    if (s.value("codec_type", "") == type) return &s;
  return nullptr;
}

}  // namespace

// With audio: GStreamer's webrtcbin as the sender makes the depayloader hand over some access
// units without a timestamp, which stalled the video in the muxer beside an audio track until
// WhipPeer stamped them (media/webrtc/README.md, "Findings").
TEST_CASE("whip peer: H.264 from a WebRTC sender passes through to MPEG-TS beside Opus as AAC", "[webrtc]") {
  const auto probe = publish_and_probe(harvest::test::kSenderH264, "H264", /*audio=*/true);
  const auto* video = stream_of(probe, "video");
  const auto* audio = stream_of(probe, "audio");
  REQUIRE(video);
  REQUIRE(audio);
  CHECK((*audio)["codec_name"] == "aac");
  // The video kept flowing beside the audio (the stall left a single frame, no duration; 200 KiB
  // of this sender's video is about 0.8 s).
  CHECK(std::stod((*video).value("duration", std::string("0"))) >= 0.3);
  CHECK((*video)["codec_name"] == "h264");
  CHECK((*video)["profile"] == "Constrained Baseline");  // as sent: not re-encoded
  CHECK((*video)["width"] == 360);  // portrait as published
  CHECK((*video)["height"] == 640);
}

const char* const kSenderVp8 =
    "vp8enc deadline=1 ! rtpvp8pay pt=96 ! application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000";

TEST_CASE("whip peer: VP8 is transcoded to H.264 and Opus to AAC", "[webrtc]") {
  const auto probe = publish_and_probe(kSenderVp8, "VP8", /*audio=*/true);
  const auto* video = stream_of(probe, "video");
  const auto* audio = stream_of(probe, "audio");
  REQUIRE(video);
  REQUIRE(audio);
  CHECK((*video)["codec_name"] == "h264");
  CHECK((*video)["width"] == 360);
  CHECK((*video)["height"] == 640);
  CHECK((*audio)["codec_name"] == "aac");
}

TEST_CASE("whip peer: an offer with nothing to ingest is refused before a pipeline exists", "[webrtc]") {
  Received got;
  std::string error;
  CHECK_FALSE(WhipPeer::start("v=0\r\n", IngestCodecs{}, {}, events_into(got), error));
  CHECK(error.find("no codec") != std::string::npos);
}

// x264 encodes only even sizes; VP8 has no such limit. A 720×1280 camera that the page steps
// down to scaleResolutionDownBy 1.5 sends 480×853: before the crop, x264 refused it and the
// session stalled silently (ICE and DTLS up, no media) until the silence timeout, and every
// reconnect at that size did the same.
TEST_CASE("whip peer: VP8 at an odd size (480x853) is cropped to 480x852 for H.264", "[webrtc]") {
  const auto probe = publish_and_probe(kSenderVp8, "VP8", /*audio=*/true, 480, 853);
  const auto* video = stream_of(probe, "video");
  REQUIRE(video);
  CHECK((*video)["codec_name"] == "h264");
  CHECK((*video)["width"] == 480);
  CHECK((*video)["height"] == 852);
}

TEST_CASE("whip peer: VP8 stepping down mid-stream to an odd size keeps flowing", "[webrtc]") {
  gst_init(nullptr, nullptr);
  WebRtcSender sender(kSenderVp8, /*audio=*/true, 720, 1280);
  Received got;
  auto peer = connect(sender, "VP8", got);
  const auto sized = [](int w, int h) {
    return [w, h](const nlohmann::json& v) { return v.value("width", 0) == w && v.value("height", 0) == h; };
  };
  bool ok = false;
  auto probe = probe_until(got, true, 0, sized(720, 1280), ok);
  INFO(probe.dump());
  REQUIRE(ok);
  sender.resize(480, 853);
  // The last 256 KiB: what came after the step (a few seconds at this size and rate).
  probe = probe_until(got, true, 256 * 1024, sized(480, 852), ok);
  INFO(probe.dump());
  std::lock_guard l(got.mutex);
  INFO("lost: " << got.lost);
  CHECK(ok);
  CHECK(got.lost.empty());
}

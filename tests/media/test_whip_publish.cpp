// WHIP (RFC 9725) into the real server: a real WebRTC publisher (webrtcbin, as a browser would)
// POSTs its offer, gets the answer, and the stream goes live with HLS segments at the published
// size; DELETE ends it. A publisher that goes silent is ended and the stream follows RTMP's
// grace rule; a second publisher follows RTMP's takeover rule; audio-only and video-only
// publishers play. And the refusals, each with its status, its reason and nothing left running.
// (Test names say "whip" in lower case so that `ctest -R whip` finds them.)
#include <catch2/catch.hpp>
#include <csignal>
#include <nlohmann/json.hpp>

#include "media/media_helpers.h"
#include "media/webrtc_sender.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/wait.h"

using namespace harvest::test;
using nlohmann::json;

namespace {

HttpResult post_offer(const ServerProcess& server, const std::string& stream_id, const std::string& key,
                      const std::string& offer, const std::string& type = "application/sdp") {
  std::map<std::string, std::string> headers{{"Content-Type", type}};
  if (!key.empty()) headers["Authorization"] = "Bearer " + key;
  return http_request(server.http_port(), "POST", "/whip/" + stream_id, offer, headers, std::chrono::seconds(20));
}

std::string offer_of(WebRtcSender& sender) {
  REQUIRE(wait_until([&] { return !sender.offer().empty(); }, std::chrono::seconds(10)));
  return sender.offer();
}

// POSTs the sender's offer, expects 201 and completes the exchange; returns the Location.
std::string publish(const ServerProcess& server, const TestStream& stream, WebRtcSender& sender) {
  const HttpResult r = post_offer(server, stream.id, stream.key, offer_of(sender));
  INFO(r.body << server.log());
  REQUIRE(r.status == 201);
  sender.take_answer(r.body);
  return r.headers.at("location");
}

double whip_sessions(const ServerProcess& server) { return metric(server, "harvest_whip_sessions"); }

// The codecs of a segment the stream's playlist lists now, as ffprobe sees them.
nlohmann::json probe_latest_segment(const ServerProcess& server, const TestStream& stream, const TempDir& dir) {
  const Playlist playlist = wait_for_playlist(server, stream.id, 2);
  REQUIRE(playlist.segments.size() >= 2);
  const std::string path = download_segment(server, stream.id, playlist.segments.back().uri, dir.path());
  REQUIRE_FALSE(path.empty());
  return ffprobe(path);
}

}  // namespace

TEST_CASE("whip publish: 201 with Location and answer, H.264 + Opus goes live in portrait with AAC, DELETE ends it",
          "[media][whip]") {
  gst_init(nullptr, nullptr);
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const TestStream stream = create_stream(server);
  REQUIRE_FALSE(stream.key.empty());

  WebRtcSender sender(kSenderH264, /*audio=*/true);
  const HttpResult r = post_offer(server, stream.id, stream.key, offer_of(sender));
  INFO(r.body << server.log());
  REQUIRE(r.status == 201);
  CHECK(r.headers.at("content-type").rfind("application/sdp", 0) == 0);
  const std::string location = r.headers.at("location");
  CHECK(location.rfind("/whip/" + stream.id + "/", 0) == 0);
  CHECK(r.headers.at("access-control-expose-headers") == "Location, Link, Retry-After");
  CHECK(r.body.find("a=candidate:") != std::string::npos);
  sender.take_answer(r.body);

  const Playlist playlist = wait_for_playlist(server, stream.id, 2);
  REQUIRE(playlist.segments.size() >= 2);
  const std::string path = download_segment(server, stream.id, playlist.segments.back().uri, dir.path());
  REQUIRE_FALSE(path.empty());
  const json probe = ffprobe(path);
  INFO(probe.dump());
  REQUIRE(probe.contains("streams"));
  REQUIRE(probe["streams"].size() == 2);
  const bool video_first = probe["streams"][0]["codec_type"] == "video";
  const json& video = probe["streams"][video_first ? 0 : 1];
  const json& audio = probe["streams"][video_first ? 1 : 0];
  CHECK(video["codec_name"] == "h264");
  CHECK(video["width"] == 360);  // portrait, as published, not re-encoded
  CHECK(video["height"] == 640);
  CHECK(audio["codec_name"] == "aac");
  CHECK(stream_info(server, stream.id)["state"] == "live");
  CHECK(stream_info(server, stream.id)["ingest"].value("protocol", "") == "whip");
  // WHIP's peer muxes to MPEG-TS like an SRT publisher: the LL-HLS rendition gets the converted
  // Annex B + ADTS (docs/ll-hls.md), and the stream offers it.
  CHECK(stream_info(server, stream.id).value("ll_hls_url", "") == "/hls/" + stream.id + "/ll.m3u8");
  std::string ll;
  const bool ll_parts = wait_until(
      [&] {
        ll = http_get(server.http_port(), "/hls/" + stream.id + "/ll.m3u8").body;
        return ll.find("#EXT-X-PART:") != std::string::npos && ll.find("#EXT-X-MAP:") != std::string::npos;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(100));
  {
    INFO(ll);
    CHECK(ll_parts);
  }

  // A second publisher on the key while the first is healthy is refused, as over RTMP
  // (docs/ingest.md "Sessions"), and the first keeps publishing.
  WebRtcSender second(kSenderH264, /*audio=*/false);
  const HttpResult r2 = post_offer(server, stream.id, stream.key, offer_of(second));
  CHECK(r2.status == 409);
  CHECK(wait_playlist_advances(server, stream.id, playlist.end_sequence()));

  CHECK(http_request(server.http_port(), "DELETE", location).status == 200);
  CHECK(server.wait_for_log("event=whip_session_ended"));
  CHECK(http_request(server.http_port(), "DELETE", location).status == 404);  // gone
}

TEST_CASE("whip refusals: wrong or missing key, malformed SDP, no usable codec, wrong type, too large, unknown session",
          "[media][whip]") {
  gst_init(nullptr, nullptr);
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const TestStream stream = create_stream(server);
  const TestStream other = create_stream(server, "another stream");
  WebRtcSender sender(kSenderH264, /*audio=*/false);
  const std::string offer = offer_of(sender);

  // Each refusal: its status, a JSON error with a code and a sentence saying why.
  auto refused = [](const HttpResult& r, int status, const std::string& code, const std::string& says) {
    INFO(r.status << " " << r.body);
    CHECK(r.status == status);
    const auto body = json::parse(r.body, nullptr, false);
    REQUIRE(body.is_object());
    CHECK(body.dump().find("\"" + code + "\"") != std::string::npos);
    CHECK(r.body.find(says) != std::string::npos);
  };
  refused(post_offer(server, stream.id, "sk_wrong", offer), 401, "unauthorized", "key is required");
  refused(post_offer(server, stream.id, other.key, offer), 401, "unauthorized", "key is required");  // another stream's key
  refused(post_offer(server, stream.id, "", offer), 401, "unauthorized", "Authorization: Bearer");
  refused(post_offer(server, stream.id, stream.key, offer, "application/json"), 415, "unsupported_media_type",
          "application/sdp");
  refused(post_offer(server, stream.id, stream.key, "hello, this is not SDP"), 400, "bad_sdp", "not SDP");
  // SDP, but nothing to connect to: no ICE credentials or fingerprint.
  refused(post_offer(server, stream.id, stream.key, "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n"),
          400, "bad_sdp", "ICE");
  const std::string vp9_only =
      "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 98\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\na=fingerprint:sha-256 AA\r\n"
      "a=sendonly\r\na=rtpmap:98 VP9/90000\r\n";
  refused(post_offer(server, stream.id, stream.key, vp9_only), 400, "no_usable_codec", "H.264, VP8 or Opus");
  refused(post_offer(server, stream.id, stream.key, std::string(70 * 1024, 'v')), 413, "too_large", "65536 bytes");
  refused(http_request(server.http_port(), "DELETE", "/whip/" + stream.id + "/0123456789abcdef"), 404, "not_found",
          "no such WHIP session");
  CHECK(http_request(server.http_port(), "PATCH", "/whip/" + stream.id + "/0123456789abcdef").status == 405);

  const HttpResult pre = http_request(server.http_port(), "OPTIONS", "/whip/" + stream.id);
  CHECK(pre.status == 204);
  CHECK(pre.headers.at("access-control-allow-methods").find("POST") != std::string::npos);
  CHECK(pre.headers.at("access-control-allow-headers").find("Authorization") != std::string::npos);
  CHECK(pre.headers.count("link") == 0);  // no ICE servers configured
  // Nothing was left running: no WebRTC peer, no publisher, both streams offline; the refusals
  // decided with the offer are counted.
  CHECK(whip_sessions(server) == 0);
  CHECK(metric(server, "harvest_ingest_streams_live{protocol=\"whip\"}") == 0);
  CHECK(stream_info(server, stream.id)["state"] == "offline");
  CHECK(stream_info(server, other.id)["state"] == "offline");
  CHECK(metric(server, "harvest_ingest_refused_total{protocol=\"whip\",reason=\"bad_key\"}") == 2);
  CHECK(metric(server, "harvest_ingest_refused_total{protocol=\"whip\",reason=\"bad_sdp\"}") == 2);
  CHECK(metric(server, "harvest_ingest_refused_total{protocol=\"whip\",reason=\"unsupported_codec\"}") == 1);
}

TEST_CASE("whip: a publisher that goes silent without DELETE is ended, the stream keeps its grace period, then goes offline",
          "[media][whip]") {
  gst_init(nullptr, nullptr);
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const TestStream stream = create_stream(server);
  WebRtcSender sender(kSenderH264, /*audio=*/false);
  const std::string location = publish(server, stream, sender);
  const Playlist live = wait_for_playlist(server, stream.id, 2);
  REQUIRE(live.segments.size() >= 2);
  CHECK(whip_sessions(server) == 1);

  // The publisher stops sending RTP but never says goodbye; its ICE agent still answers, so
  // webrtcbin sees nothing wrong. After WhipIngest::kMaxSilence (10 s) without RTP it is ended.
  sender.stop_media();
  REQUIRE(server.wait_for_log("reason=\"no media for 10 s (the publisher vanished)\"", std::chrono::seconds(30)));
  CHECK(server.wait_for_log("event=whip_session_ended"));
  CHECK(whip_sessions(server) == 0);
  // Then RTMP's rules: live, waiting for the publisher, for the grace period (15 s) ...
  const json waiting = stream_info(server, stream.id);
  CHECK(waiting["state"] == "live");
  CHECK(waiting["ingest"].value("waiting_for_publisher", false));
  // ... and offline with an ended playlist after it.
  REQUIRE(server.wait_for_log("event=stream_offline", std::chrono::seconds(30)));
  CHECK(stream_info(server, stream.id)["state"] == "offline");
  CHECK(fetch_playlist(server, stream.id).ended);
  CHECK(http_request(server.http_port(), "DELETE", location).status == 404);  // already ended
}

TEST_CASE("whip: a second publisher is refused while the first is healthy and takes over once it stalled",
          "[media][whip]") {
  gst_init(nullptr, nullptr);
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const TestStream stream = create_stream(server);
  WebRtcSender first(kSenderH264, /*audio=*/false);
  publish(server, stream, first);
  const Playlist before = wait_for_playlist(server, stream.id, 2);
  REQUIRE(before.segments.size() >= 2);

  WebRtcSender second(kSenderH264, /*audio=*/false);
  const std::string second_offer = offer_of(second);
  const HttpResult busy = post_offer(server, stream.id, stream.key, second_offer);
  CHECK(busy.status == 409);
  CHECK(busy.body.find("already being published") != std::string::npos);
  CHECK(whip_sessions(server) == 1);  // a refused offer starts no peer

  // The first stalls (no RTP, still connected). The second keeps asking: refused until the
  // first has sent nothing for the stall timeout (4 s), then it takes over, as over RTMP.
  first.stop_media();
  HttpResult taken;
  REQUIRE(wait_until(
      [&] {
        taken = post_offer(server, stream.id, stream.key, second_offer);
        return taken.status != 409;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(250)));
  INFO(taken.body << server.log());
  REQUIRE(taken.status == 201);
  second.take_answer(taken.body);
  CHECK(server.wait_for_log("event=publisher_taken_over"));
  CHECK(server.wait_for_log("reason=\"taken over by a new publisher after a stall\""));
  // The same playlist continues with the second publisher: two of its segments after one
  // discontinuity (which may have left the window already: then the sequence counts it).
  Playlist after;
  REQUIRE(wait_until(
      [&] {
        after = fetch_playlist(server, stream.id);
        if (!after.valid || after.discontinuities + after.discontinuity_sequence != 1) return false;
        size_t since = 0;
        for (const auto& segment : after.segments) since = segment.discontinuity ? 1 : since + 1;
        return since >= 2 || (after.discontinuity_sequence == 1 && after.segments.size() >= 2);
      },
      std::chrono::seconds(30), std::chrono::milliseconds(200)));
  CHECK(after.media_sequence >= before.media_sequence);  // the same playlist kept counting
  CHECK_FALSE(after.ended);
  CHECK(stream_info(server, stream.id)["state"] == "live");
  CHECK(stream_info(server, stream.id)["ingest"].value("protocol", "") == "whip");
  CHECK(whip_sessions(server) == 1);
  CHECK(metric(server, "harvest_ingest_takeovers_total{protocol=\"whip\"}") == 1);
}

TEST_CASE("whip: audio-only (Opus) and video-only (VP8) publishers go live with AAC and H.264 segments",
          "[media][whip]") {
  gst_init(nullptr, nullptr);
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const TestStream audio_only = create_stream(server, "audio only");
  const TestStream video_only = create_stream(server, "video only");
  WebRtcSender voice("", /*audio=*/true);
  WebRtcSender picture(
      "vp8enc deadline=1 ! rtpvp8pay pt=96 ! application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000",
      /*audio=*/false);
  publish(server, audio_only, voice);
  publish(server, video_only, picture);

  const json a = probe_latest_segment(server, audio_only, dir);
  INFO(a.dump());
  REQUIRE(a.contains("streams"));
  REQUIRE(a["streams"].size() == 1);
  CHECK(a["streams"][0]["codec_name"] == "aac");
  CHECK(stream_info(server, audio_only.id)["state"] == "live");

  const json v = probe_latest_segment(server, video_only, dir);
  INFO(v.dump());
  REQUIRE(v.contains("streams"));
  REQUIRE(v["streams"].size() == 1);
  CHECK(v["streams"][0]["codec_name"] == "h264");
  CHECK(v["streams"][0]["width"] == 360);
  CHECK(v["streams"][0]["height"] == 640);
  CHECK(stream_info(server, video_only.id)["state"] == "live");

  // Stopping the server with both publishers live ends their sessions cleanly (this was a
  // use-after-free of the session id under ASan: WhipIngest::finish got a reference to a map
  // key that it erased).
  CHECK(whip_sessions(server) == 2);
  const int exit_code = server.stop(SIGTERM);
  INFO(server.log());
  CHECK(exit_code == 0);
  CHECK(server.log().find("AddressSanitizer") == std::string::npos);
}

TEST_CASE("whip: the ICE servers are handed out in one Link header each", "[media][whip]") {
  TempDir dir;
  ServerProcess server(media_server_options(
      dir, {"--webrtc-stun", "stun:stun.example.net:3478", "--webrtc-turn", "turn:farmer:s3cret@turn.example.net:3478"}));
  const TestStream stream = create_stream(server);
  const HttpResult pre = http_request(server.http_port(), "OPTIONS", "/whip/" + stream.id);
  REQUIRE(pre.status == 204);
  // Two Link headers, joined by the client as RFC 9110 allows.
  CHECK(pre.headers.at("link") ==
        "<stun:stun.example.net:3478>; rel=\"ice-server\", "
        "<turn:turn.example.net:3478>; rel=\"ice-server\"; username=\"farmer\"; credential=\"s3cret\"; "
        "credential-type=\"password\"");
  CHECK(pre.headers.at("access-control-expose-headers") == "Location, Link, Retry-After");
}

// WHIP (RFC 9725) into the real server: a real WebRTC publisher (webrtcbin, as a browser would)
// POSTs its offer, gets the answer, and the stream goes live with HLS segments at the published
// size; DELETE ends it. And the refusals, each with its status and nothing left running.
#include <catch2/catch.hpp>
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

}  // namespace

TEST_CASE("WHIP publish: 201 with Location and answer, the stream goes live in portrait, DELETE ends it",
          "[media][whip]") {
  gst_init(nullptr, nullptr);
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const TestStream stream = create_stream(server);
  REQUIRE_FALSE(stream.key.empty());

  WebRtcSender sender(kSenderH264, /*audio=*/false);
  const HttpResult r = post_offer(server, stream.id, stream.key, offer_of(sender));
  INFO(r.body << server.log());
  REQUIRE(r.status == 201);
  CHECK(r.headers.at("content-type").rfind("application/sdp", 0) == 0);
  const std::string location = r.headers.at("location");
  CHECK(location.rfind("/whip/" + stream.id + "/", 0) == 0);
  CHECK(r.headers.at("access-control-expose-headers") == "Location, Link");
  CHECK(r.body.find("a=candidate:") != std::string::npos);
  sender.take_answer(r.body);

  const Playlist playlist = wait_for_playlist(server, stream.id, 2);
  REQUIRE(playlist.segments.size() >= 2);
  const std::string path = download_segment(server, stream.id, playlist.segments.back().uri, dir.path());
  REQUIRE_FALSE(path.empty());
  const json probe = ffprobe(path);
  REQUIRE(probe.contains("streams"));
  CHECK(probe["streams"][0]["codec_name"] == "h264");
  CHECK(probe["streams"][0]["width"] == 360);  // portrait, as published, not re-encoded
  CHECK(probe["streams"][0]["height"] == 640);
  CHECK(stream_info(server, stream.id)["state"] == "live");
  CHECK(stream_info(server, stream.id)["ingest"].value("protocol", "") == "whip");

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

TEST_CASE("WHIP refusals: wrong or missing key, not SDP, no usable codec, wrong type, unknown session, preflight",
          "[media][whip]") {
  gst_init(nullptr, nullptr);
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const TestStream stream = create_stream(server);
  WebRtcSender sender(kSenderH264, /*audio=*/false);
  const std::string offer = offer_of(sender);

  CHECK(post_offer(server, stream.id, "sk_wrong", offer).status == 401);
  CHECK(post_offer(server, stream.id, "", offer).status == 401);
  CHECK(post_offer(server, stream.id, stream.key, offer, "application/json").status == 415);
  const HttpResult garbage = post_offer(server, stream.id, stream.key, "hello, this is not SDP");
  CHECK(garbage.status == 400);
  CHECK(garbage.body.find("not SDP") != std::string::npos);
  const std::string vp9_only =
      "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 98\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\na=fingerprint:sha-256 AA\r\n"
      "a=sendonly\r\na=rtpmap:98 VP9/90000\r\n";
  const HttpResult no_codec = post_offer(server, stream.id, stream.key, vp9_only);
  CHECK(no_codec.status == 400);
  CHECK(no_codec.body.find("no_usable_codec") != std::string::npos);
  CHECK(post_offer(server, stream.id, stream.key, std::string(70 * 1024, 'v')).status == 413);
  CHECK(http_request(server.http_port(), "DELETE", "/whip/" + stream.id + "/0123456789abcdef").status == 404);
  CHECK(http_request(server.http_port(), "PATCH", "/whip/" + stream.id + "/0123456789abcdef").status == 405);

  const HttpResult pre = http_request(server.http_port(), "OPTIONS", "/whip/" + stream.id);
  CHECK(pre.status == 204);
  CHECK(pre.headers.at("access-control-allow-methods").find("POST") != std::string::npos);
  CHECK(pre.headers.at("access-control-allow-headers").find("Authorization") != std::string::npos);
  // Nothing was left publishing.
  CHECK(stream_info(server, stream.id)["state"] == "offline");
}

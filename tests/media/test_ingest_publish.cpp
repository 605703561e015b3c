// Real publishers (ffmpeg over RTMP and SRT) into the real server, HLS out: playlists,
// segments probed with ffprobe, stream state and stats in the API.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "media/media_helpers.h"
#include "media/rtmp/client.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/wait.h"

using namespace harvest::test;
using nlohmann::json;

namespace {

// Every segment in the playlist decodes with the expected streams; returns the summed duration.
double check_segments(const ServerProcess& server, const std::string& id, const Playlist& p, const std::string& dir,
                      bool video, bool audio, int width, int height) {
  double total = 0;
  for (const auto& seg : p.segments) {
    INFO("segment " << seg.uri);
    const std::string path = download_segment(server, id, seg.uri, dir);
    REQUIRE_FALSE(path.empty());
    const json probe = ffprobe(path);
    REQUIRE(probe.contains("streams"));
    bool saw_video = false, saw_audio = false;
    for (const auto& s : probe["streams"]) {
      if (s["codec_type"] == "video") {
        saw_video = true;
        CHECK(s["codec_name"] == "h264");
        CHECK(s["width"] == width);
        CHECK(s["height"] == height);
      } else if (s["codec_type"] == "audio") {
        saw_audio = true;
        CHECK(s["codec_name"] == "aac");
      }
    }
    CHECK(saw_video == video);
    CHECK(saw_audio == audio);
    total += std::stod(probe["format"].value("duration", "0"));
  }
  return total;
}

}  // namespace

TEST_CASE("RTMP publish: portrait H.264+AAC becomes HLS with program date times, live stats, decodable segments",
          "[media][rtmp]") {
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const TestStream stream = create_stream(server);
  REQUIRE_FALSE(stream.key.empty());

  FfmpegInput in;
  in.seconds = 5;
  ChildProcess ffmpeg(ffmpeg_args(in, "flv", rtmp_url(server, stream.key)));

  // Live with ingest stats while publishing.
  json info;
  REQUIRE(wait_until(
      [&] {
        info = stream_info(server, stream.id);
        return info["state"] == "live" && info["ingest"].value("width", 0) == 320 &&
               info["ingest"].value("bitrate_bps", 0) > 0;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(200)));
  const json& ingest = info["ingest"];
  CHECK(ingest["protocol"] == "rtmp");
  CHECK(ingest["video_codec"] == "h264");
  CHECK(ingest["audio_codec"] == "aac");
  CHECK(ingest["height"] == 568);
  CHECK(ingest["rotation"] == 0);
  CHECK(ingest["orientation"] == "portrait");  // 320x568 shown as it is
  CHECK(ingest["display_width"] == 320);
  CHECK(ingest["display_height"] == 568);
  CHECK(ingest["publisher"].get<std::string>().rfind("127.0.0.1:", 0) == 0);
  CHECK(ingest.contains("fps"));
  CHECK(ingest["bytes_received"].get<long>() > 0);

  REQUIRE(ffmpeg.wait(std::chrono::seconds(30)) == 0);
  // The publisher left: the last segment is flushed; the stream stays live for the grace period.
  const Playlist p = wait_for_playlist(server, stream.id, 4);
  REQUIRE(p.valid);
  CHECK(p.media_sequence == 0);
  CHECK(p.discontinuities == 0);
  CHECK_FALSE(p.ended);
  for (const auto& s : p.segments) {
    CHECK(s.program_date_time.size() == 24);  // 2026-11-22T19:20:00.123Z
    CHECK(s.duration <= p.target_duration + 0.5);
  }
  CHECK(p.total_duration() == Approx(5.0).margin(1.2));

  const double probed = check_segments(server, stream.id, p, dir.path(), true, true, 320, 568);
  CHECK(probed == Approx(5.0).margin(1.5));
  // Segments after the first are cut as the keyframe that ends them comes in, on the RTMP
  // thread (StreamPipeline::keyframe_coming), and still decode whole above.
  const double cut_early = metric(server, "harvest_ingest_segments_cut_early_total{protocol=\"rtmp\"}");
  CHECK(cut_early >= 1);
  CHECK(cut_early < metric(server, "harvest_ingest_segments_total{protocol=\"rtmp\"}"));

  auto playlist = http_get(server.http_port(), "/hls/" + stream.id + "/index.m3u8");
  CHECK(playlist.headers["cache-control"].find("no-cache") != std::string::npos);
  CHECK(playlist.headers["access-control-allow-origin"] == "*");
  CHECK(playlist.headers["content-type"].find("mpegurl") != std::string::npos);
  auto segment = http_get(server.http_port(), "/hls/" + stream.id + "/" + p.segments[0].uri);
  CHECK(segment.headers["cache-control"].find("immutable") != std::string::npos);
  CHECK(segment.headers["content-type"] == "video/mp2t");
  CHECK(http_get(server.http_port(), "/hls/" + stream.id + "/../../etc/passwd").status == 404);
  CHECK(http_get(server.http_port(), "/hls/nope/index.m3u8").status == 404);
}

TEST_CASE("SRT publish with #!::r=live/KEY,m=publish becomes HLS, with RTT and loss in the stats", "[media][srt]") {
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const TestStream stream = create_stream(server);
  FfmpegInput in;
  in.seconds = 5;
  ChildProcess ffmpeg(ffmpeg_args(in, "mpegts", srt_url(server, stream.key)));

  json info;
  REQUIRE(wait_until(
      [&] {
        info = stream_info(server, stream.id);
        return info["state"] == "live" && info["ingest"].contains("rtt_ms") && info["ingest"].value("width", 0) == 320;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(200)));
  CHECK(info["ingest"]["protocol"] == "srt");
  CHECK(info["ingest"]["loss_pct"].is_number());
  CHECK(info["ingest"]["retransmits"].is_number());
  CHECK(info["ingest"]["video_codec"] == "h264");
  CHECK(info["ingest"]["audio_codec"] == "aac");

  REQUIRE(ffmpeg.wait(std::chrono::seconds(30)) == 0);
  const Playlist p = wait_for_playlist(server, stream.id, 4);
  REQUIRE(p.valid);
  CHECK(p.total_duration() == Approx(5.0).margin(1.2));
  const double probed = check_segments(server, stream.id, p, dir.path(), true, true, 320, 568);
  CHECK(probed == Approx(5.0).margin(1.5));
}

TEST_CASE("audio-only and video-only RTMP streams both play", "[media][rtmp]") {
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const TestStream audio_only = create_stream(server, "audio only");
  const TestStream video_only = create_stream(server, "video only");
  FfmpegInput a;
  a.video = false;
  a.seconds = 4;
  FfmpegInput v;
  v.audio = false;
  v.seconds = 4;
  ChildProcess fa(ffmpeg_args(a, "flv", rtmp_url(server, audio_only.key)));
  ChildProcess fv(ffmpeg_args(v, "flv", rtmp_url(server, video_only.key)));
  REQUIRE(fa.wait(std::chrono::seconds(30)) == 0);
  REQUIRE(fv.wait(std::chrono::seconds(30)) == 0);

  const Playlist pa = wait_for_playlist(server, audio_only.id, 3);
  REQUIRE(pa.valid);
  CHECK(pa.total_duration() == Approx(4.0).margin(1.2));
  check_segments(server, audio_only.id, pa, dir.path(), false, true, 0, 0);

  const Playlist pv = wait_for_playlist(server, video_only.id, 3);
  REQUIRE(pv.valid);
  CHECK(pv.total_duration() == Approx(4.0).margin(1.2));
  check_segments(server, video_only.id, pv, dir.path(), true, false, 320, 568);
}

TEST_CASE("a publisher that reconnects within the grace period continues the playlist after one discontinuity",
          "[media][rtmp]") {
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const TestStream stream = create_stream(server);
  FfmpegInput in;
  in.seconds = 3;
  {
    ChildProcess first(ffmpeg_args(in, "flv", rtmp_url(server, stream.key)));
    REQUIRE(first.wait(std::chrono::seconds(30)) == 0);
  }
  const Playlist before = wait_for_playlist(server, stream.id, 3);
  REQUIRE(before.valid);
  REQUIRE(before.discontinuities == 0);
  CHECK(stream_info(server, stream.id)["state"] == "live");  // within grace

  {
    // Comes back over SRT this time (the phone switched apps); same key, same playlist.
    ChildProcess second(ffmpeg_args(in, "mpegts", srt_url(server, stream.key)));
    REQUIRE(second.wait(std::chrono::seconds(30)) == 0);
  }
  Playlist after;
  REQUIRE(wait_until(
      [&] {
        after = fetch_playlist(server, stream.id);
        return after.valid && after.end_sequence() >= before.end_sequence() + 3;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(100)));
  CHECK(after.discontinuities == 1);
  CHECK(after.discontinuity_sequence == 0);
  CHECK_FALSE(after.ended);
  // The media sequence kept counting: every segment of the first session still listed keeps
  // its place, and the new session follows on.
  REQUIRE(after.media_sequence == before.media_sequence);
  for (size_t i = 0; i < before.segments.size(); ++i) CHECK(after.segments[i].uri == before.segments[i].uri);
  CHECK(after.segments[before.segments.size()].discontinuity);
  // Program date times never go backwards.
  for (size_t i = 1; i < after.segments.size(); ++i)
    CHECK(after.segments[i].program_date_time > after.segments[i - 1].program_date_time);
  CHECK(server.log().find("resumed=true") != std::string::npos);
}

TEST_CASE("a wrong stream key is refused: RTMP error status, SRT reject", "[media][rtmp][srt]") {
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const TestStream stream = create_stream(server);
  FfmpegInput in;
  in.seconds = 2;
  ChildProcess rtmp(ffmpeg_args(in, "flv", rtmp_url(server, "sk_wrong")));
  ChildProcess srt(ffmpeg_args(in, "mpegts", srt_url(server, "sk_wrong")));
  CHECK(rtmp.wait(std::chrono::seconds(20)) != 0);
  CHECK(srt.wait(std::chrono::seconds(20)) != 0);
  CHECK(server.wait_for_log("reason=bad_key reject_code=1403"));
  CHECK(server.log().find("event=publish_refused protocol=rtmp") != std::string::npos);
  // The exact RTMP answer: an error-level onStatus at publish, then the connection closes.
  harvest::media::rtmp::RtmpPublisher client;
  const auto r = client.publish("127.0.0.1", server.port("rtmp_port"), "live", "sk_wrong");
  CHECK_FALSE(r.ok);
  CHECK(r.code == "NetStream.Publish.BadName");
  CHECK(r.description == "stream key not recognised");
  client.read_status(std::chrono::seconds(3));
  CHECK(client.peer_closed());
  CHECK(stream_info(server, stream.id)["state"] == "offline");
  CHECK(fetch_playlist(server, stream.id).valid == false);
}

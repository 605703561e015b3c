// Hostile and awkward publishers: bad input, a second publisher, a stalled one, timestamps
// that jump, the built-in demo. A good stream keeps playing through all of it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <srt/srt.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "media/media_helpers.h"
#include "media/rtmp/amf0.h"
#include "media/rtmp/chunk.h"
#include "media/rtmp/client.h"
#include "media/rtmp/flv.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/wait.h"

using namespace harvest::test;
using namespace harvest::media::rtmp;
using nlohmann::json;

namespace {

// A raw TCP connection to the RTMP port that we can dribble bytes into.
class RawConn {
public:
  explicit RawConn(int port) : fd_(connect_loopback(port)) {}
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool send(const std::string& bytes) {
    return fd_ >= 0 && ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  std::string recv_exactly(size_t n, std::chrono::milliseconds timeout) {
    std::string out;
    char buf[4096];
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t r = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (r <= 0) break;
      out.append(buf, static_cast<size_t>(r));
    }
    return out;
  }
  // True once the server has closed the connection (EOF or reset), within `timeout`.
  bool closed_by_server(std::chrono::milliseconds timeout) {
    char buf[4096];
    return wait_until(
        [&] {
          pollfd p{fd_, POLLIN, 0};
          if (::poll(&p, 1, 0) <= 0) return false;
          return ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) <= 0;
        },
        timeout, std::chrono::milliseconds(20));
  }
  void handshake() {
    send(client_handshake_c0c1());
    const std::string s = recv_exactly(kServerHandshakeBytes, std::chrono::seconds(5));
    send(client_handshake_c2(s));
  }

private:
  int fd_ = -1;
};

// A long-running good publisher and a way to tell it keeps playing.
struct GoodStream {
  TestStream stream;
  std::unique_ptr<ChildProcess> ffmpeg;
  void start(const ServerProcess& server) {
    stream = create_stream(server, "good stream");
    FfmpegInput in;
    in.seconds = 60;
    in.width = 160;
    in.height = 284;
    ffmpeg = std::make_unique<ChildProcess>(ffmpeg_args(in, "flv", rtmp_url(server, stream.key)));
    REQUIRE(wait_for_playlist(server, stream.id, 2).valid);
  }
  bool keeps_playing(const ServerProcess& server) const {
    const Playlist now = fetch_playlist(server, stream.id);
    return now.valid && wait_playlist_advances(server, stream.id, now.end_sequence(), std::chrono::seconds(15));
  }
};

// A minimal SRT caller (libsrt) we control: it can publish and then go silent while keeping
// its connection (libsrt's keepalives continue), which is what a stalled phone looks like.
class SrtCaller {
public:
  SrtCaller() {
    srt_startup();
    sock_ = srt_create_socket();
  }
  ~SrtCaller() {
    if (sock_ != SRT_INVALID_SOCK) srt_close(sock_);
    srt_cleanup();
  }
  SrtCaller(const SrtCaller&) = delete;
  SrtCaller& operator=(const SrtCaller&) = delete;
  bool connect(int port, const std::string& stream_id) {
    if (srt_setsockflag(sock_, SRTO_STREAMID, stream_id.data(), static_cast<int>(stream_id.size())) == SRT_ERROR)
      return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    return srt_connect(sock_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != SRT_ERROR;
  }
  // Sends `ts` in 1316-byte messages spread over `duration` (a publisher's pace, not a wait).
  bool send_paced(const std::string& ts, std::chrono::milliseconds duration) {
    constexpr size_t kChunk = 1316;
    const auto start = std::chrono::steady_clock::now();
    for (size_t off = 0; off < ts.size(); off += kChunk) {
      std::this_thread::sleep_until(start + duration * static_cast<int64_t>(off) / static_cast<int64_t>(ts.size()));
      const size_t n = std::min(kChunk, ts.size() - off);
      if (srt_sendmsg2(sock_, ts.data() + off, static_cast<int>(n), nullptr) == SRT_ERROR) return false;
    }
    return true;
  }

private:
  SRTSOCKET sock_ = SRT_INVALID_SOCK;
};

std::string video_tag_hevc_sequence_header() {
  // Legacy FLV video tag: keyframe (1) | codec id 12 (HEVC, the unofficial id), packet type 0.
  std::string body("\x1c\x00\x00\x00\x00", 5);
  body += std::string("\x01\x01\x60\x00\x00\x00", 6);
  return body;
}

// The body of an FLV onMetaData tag with `rotation` set, as a phone recording sideways sends it.
std::string with_rotation(const std::string& metadata_body, int degrees) {
  auto values = amf0_decode_all({reinterpret_cast<const uint8_t*>(metadata_body.data()), metadata_body.size()});
  REQUIRE(values);
  REQUIRE(values->size() == 2);
  (*values)[1].set("rotation", Amf0Value::number(degrees));
  return amf0_encode_all(*values);
}

}  // namespace

TEST_CASE("bad input gets its connection closed with a log line while a good stream keeps playing",
          "[media][rtmp][adversarial]") {
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const int port = server.port("rtmp_port");
  GoodStream good;
  good.start(server);

  // Slowloris runs alongside the others: one handshake byte every 300 ms.
  std::atomic<bool> slow_closed{false};
  std::thread slowloris([&] {
    RawConn c(port);
    c.send(std::string(1, '\x03'));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!c.send(std::string(1, 'x')) || c.closed_by_server(std::chrono::milliseconds(300))) {
        slow_closed = true;
        return;
      }
    }
  });

  {
    INFO("garbage bytes");
    RawConn c(port);
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(c.closed_by_server(std::chrono::seconds(5)));
    CHECK(server.wait_for_log("garbage: not an RTMP handshake"));
    CHECK(good.keeps_playing(server));
  }
  {
    INFO("truncated handshake");
    {
      RawConn c(port);
      c.send(client_handshake_c0c1().substr(0, 700));
    }
    CHECK(server.wait_for_log("peer closed during the handshake"));
    CHECK(good.keeps_playing(server));
  }
  {
    INFO("oversized chunk size");
    RawConn c(port);
    c.handshake();
    std::string msg;
    write_message(msg, 2, kSetChunkSize, 0, 0, std::string("\x7f\xff\xff\xff", 4), 128);
    c.send(msg);
    CHECK(c.closed_by_server(std::chrono::seconds(5)));
    CHECK(server.wait_for_log("bad chunk stream: chunk size out of range"));
    CHECK(good.keeps_playing(server));
  }
  {
    INFO("oversized message");
    RawConn c(port);
    c.handshake();
    std::string msg;
    write_message(msg, 4, kVideo, 1, 0, std::string(16, 'x'), 128);
    msg[4] = '\xff';  // announce a 16 MiB message
    msg[5] = '\xff';
    msg[6] = '\xff';
    c.send(msg);
    CHECK(c.closed_by_server(std::chrono::seconds(5)));
    CHECK(server.wait_for_log("message larger than the limit"));
  }
  {
    INFO("HEVC over legacy RTMP");
    const TestStream other = create_stream(server, "hevc phone");
    RtmpPublisher p;
    const auto r = p.publish("127.0.0.1", port, "live", other.key);
    REQUIRE(r.ok);
    p.send_tag(kVideo, 0, video_tag_hevc_sequence_header());
    std::string description;
    CHECK(p.read_status(std::chrono::seconds(5), &description) == "NetStream.Publish.Failed");
    CHECK(description.find("HEVC") != std::string::npos);
    CHECK(description.find("H.264") != std::string::npos);
    CHECK(server.wait_for_log("reason=unsupported_codec"));
    CHECK(good.keeps_playing(server));
  }
  slowloris.join();
  CHECK(slow_closed);
  CHECK(server.log().find("handshake not completed in time") != std::string::npos);
  CHECK(good.keeps_playing(server));
}

TEST_CASE("a second publisher is refused while the first is healthy and takes over once it stalls",
          "[media][rtmp][takeover]") {
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const int port = server.port("rtmp_port");
  GoodStream first;
  first.start(server);

  {
    RtmpPublisher second;
    const auto r = second.publish("127.0.0.1", port, "live", first.stream.key);
    CHECK_FALSE(r.ok);
    CHECK(r.code == "NetStream.Publish.BadName");
    CHECK(r.description.find("already") != std::string::npos);
    // Over SRT the caller is rejected before it connects.
    FfmpegInput in;
    in.seconds = 2;
    ChildProcess srt(ffmpeg_args(in, "mpegts", srt_url(server, first.stream.key)));
    CHECK(srt.wait(std::chrono::seconds(20)) != 0);
    CHECK(server.wait_for_log("reason=busy reject_code=1409"));
  }
  const Playlist before = fetch_playlist(server, first.stream.id);

  // The phone moves from Wi-Fi to 4G: the old connection hangs without sending anything.
  first.ffmpeg->signal(SIGSTOP);
  FfmpegInput in;
  in.seconds = 4;
  const std::string flv = dir.path() + "/second.flv";
  REQUIRE(encode_file(in, "flv", flv));
  auto tags = parse_flv_file(read_file(flv));
  REQUIRE(tags);

  RtmpPublisher second;
  RtmpPublisher::Result r;
  REQUIRE(wait_until(
      [&] {
        r = second.publish("127.0.0.1", port, "live", first.stream.key);
        return r.ok;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(500)));
  for (const auto& t : *tags) REQUIRE(second.send_tag(t.type, t.timestamp, t.body));
  second.close();

  Playlist after;
  CHECK(wait_until(
      [&] {
        after = fetch_playlist(server, first.stream.id);
        return after.valid && after.discontinuities == 1 && after.end_sequence() >= before.end_sequence() + 3;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(100)));
  CHECK(server.log().find("event=publisher_taken_over") != std::string::npos);
  CHECK(server.wait_for_log("taken over by a new publisher"));
  // The same story in GET /metrics.
  CHECK(metric(server, "harvest_ingest_refused_total{protocol=\"rtmp\",reason=\"busy\"}") >= 1);
  CHECK(metric(server, "harvest_ingest_refused_total{protocol=\"srt\",reason=\"busy\"}") >= 1);
  CHECK(metric(server, "harvest_ingest_publishes_total{protocol=\"rtmp\"}") == 2);
  CHECK(metric(server, "harvest_ingest_takeovers_total{protocol=\"rtmp\"}") == 1);
  CHECK(metric(server, "harvest_ingest_bytes_total{protocol=\"rtmp\"}") > 10000);
  CHECK(metric(server, "harvest_ingest_frames_total{protocol=\"rtmp\",kind=\"video\"}") > 30);
  CHECK(metric(server, "harvest_ingest_frames_total{protocol=\"rtmp\",kind=\"audio\"}") > 30);
  CHECK(metric(server, "harvest_ingest_segments_total{protocol=\"rtmp\"}") >= 3);
  first.ffmpeg->kill();
}

TEST_CASE("SRT: a second publisher is refused while the first is healthy and takes over once it stalls",
          "[media][srt][takeover]") {
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const TestStream stream = create_stream(server);
  const int port = server.port("srt_port");
  FfmpegInput in;
  in.seconds = 8;
  const std::string ts_path = dir.path() + "/first.ts";
  REQUIRE(encode_file(in, "mpegts", ts_path));

  SrtCaller first;
  REQUIRE(first.connect(port, "#!::r=live/" + stream.key + ",m=publish"));
  bool sent = false;
  std::thread sender([&] { sent = first.send_paced(read_file(ts_path), std::chrono::seconds(8)); });
  const Playlist before = wait_for_playlist(server, stream.id, 2);
  CHECK(before.valid);
  {
    // Healthy (sending now): the second caller is rejected before it connects.
    FfmpegInput second_in;
    second_in.seconds = 2;
    ChildProcess refused(ffmpeg_args(second_in, "mpegts", srt_url(server, stream.key)));
    CHECK(refused.wait(std::chrono::seconds(20)) != 0);
    CHECK(server.wait_for_log("reason=busy reject_code=1409"));
  }
  CHECK(metric(server, "harvest_ingest_refused_total{protocol=\"srt\",reason=\"busy\"}") >= 1);
  CHECK(metric(server, "harvest_ingest_streams_live{protocol=\"srt\"}") == 1);
  sender.join();
  REQUIRE(sent);
  REQUIRE(before.valid);

  // The first caller now sends nothing but keeps its connection (a stalled phone). Once it has
  // been silent past the stall timeout (4 s), a new caller is let in and takes over.
  FfmpegInput second_in;
  second_in.seconds = 6;
  std::unique_ptr<ChildProcess> second;
  REQUIRE(wait_until(
      [&] {
        second = std::make_unique<ChildProcess>(ffmpeg_args(second_in, "mpegts", srt_url(server, stream.key)));
        return second->wait(std::chrono::milliseconds(1500)) == -1;  // still running: accepted
      },
      std::chrono::seconds(30), std::chrono::milliseconds(100)));
  CHECK(server.wait_for_log("takeover=true"));
  CHECK(server.log().find("event=publisher_taken_over") != std::string::npos);
  Playlist after;
  CHECK(wait_until(
      [&] {
        after = fetch_playlist(server, stream.id);
        return after.valid && after.discontinuities == 1 && after.end_sequence() >= before.end_sequence() + 3;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(100)));
  CHECK(metric(server, "harvest_ingest_takeovers_total{protocol=\"srt\"}") == 1);
  CHECK(metric(server, "harvest_ingest_publishes_total{protocol=\"srt\"}") == 2);
  CHECK(metric(server, "harvest_ingest_bytes_total{protocol=\"srt\"}") > 100000);
  CHECK(metric(server, "harvest_ingest_frames_total{protocol=\"srt\",kind=\"video\"}") > 60);
  CHECK(metric(server, "harvest_ingest_segments_total{protocol=\"srt\"}") >= 4);
  CHECK(metric(server, "harvest_ingest_publishes_total{protocol=\"rtmp\"}") == 0);
  second->kill();
}

TEST_CASE("timestamps that jump forwards and backwards are repaired, rotation metadata is kept, pixels stay portrait",
          "[media][rtmp][timestamps]") {
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  const TestStream stream = create_stream(server);
  FfmpegInput in;
  in.seconds = 4;
  const std::string flv = dir.path() + "/src.flv";
  REQUIRE(encode_file(in, "flv", flv));
  auto tags = parse_flv_file(read_file(flv));
  REQUIRE(tags);
  REQUIRE(tags->size() > 100);

  RtmpPublisher p;
  REQUIRE(p.publish("127.0.0.1", server.port("rtmp_port"), "live", stream.key).ok);
  const auto start = std::chrono::steady_clock::now();
  for (auto& t : *tags) {
    std::string body = t.body;
    if (t.type == kDataAmf0) body = with_rotation(body, 90);  // the phone says: turn by 90 degrees
    // Forward by 100 s after 1.5 s; then back to 2 s before the original time (and far below what was sent).
    uint32_t ts = t.timestamp;
    if (t.timestamp >= 3000) ts = t.timestamp - 2000;  // below what was already sent
    else if (t.timestamp >= 1500) ts = t.timestamp + 100000;
    std::this_thread::sleep_until(start + std::chrono::milliseconds(t.timestamp / 2));  // 2x real time
    REQUIRE(p.send_tag(t.type, ts, body));
  }
  json info;
  CHECK(wait_until(
      [&] {
        info = stream_info(server, stream.id);
        return info["ingest"].value("timestamp_repairs", 0) >= 2;
      },
      std::chrono::seconds(5), std::chrono::milliseconds(100)));
  CHECK(info["ingest"]["rotation"] == 90);
  // 320x568 coded, turned by 90 degrees: shown 568x320.
  CHECK(info["ingest"]["orientation"] == "landscape");
  CHECK(info["ingest"]["display_width"] == 568);
  CHECK(info["ingest"]["display_height"] == 320);
  p.close();

  const Playlist pl = wait_for_playlist(server, stream.id, 3);
  REQUIRE(pl.valid);
  Playlist final_pl;
  wait_until(
      [&] {
        final_pl = fetch_playlist(server, stream.id);
        return final_pl.total_duration() >= 3.5;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(100));
  CHECK(final_pl.total_duration() == Approx(4.0).margin(1.0));
  // Players learn the rotation from the playlist: a date range from the session's start.
  CHECK(final_pl.text.find("CLASS=\"com.harvestlive.orientation\"") != std::string::npos);
  CHECK(final_pl.text.find("X-ROTATION=\"90\"") != std::string::npos);
  CHECK(final_pl.text.find("X-ORIENTATION=\"landscape\"") != std::string::npos);
  for (const auto& s : final_pl.segments) {
    CHECK(s.duration < 2.5);
    const std::string path = download_segment(server, stream.id, s.uri, dir.path());
    const json probe = ffprobe(path);
    REQUIRE(probe.contains("streams"));
    for (const auto& st : probe["streams"]) {
      if (st["codec_type"] != "video") continue;
      CHECK(st["width"] == 320);  // portrait pixels, untouched
      CHECK(st["height"] == 568);
    }
    CHECK(std::stod(probe["format"].value("duration", "0")) < 2.5);
  }
}

TEST_CASE("a rotated publisher's burned-in rendition is turned upright", "[media][rtmp][burned]") {
  TempDir dir;
  ServerProcess server(media_server_options(dir, {"--burned-in", "on"}));
  const TestStream stream = create_stream(server);
  FfmpegInput in;
  in.seconds = 6;  // the burned-in rendition closes segments while the publisher is still on
  const std::string flv = dir.path() + "/src.flv";
  REQUIRE(encode_file(in, "flv", flv));
  auto tags = parse_flv_file(read_file(flv));
  REQUIRE(tags);

  RtmpPublisher p;
  REQUIRE(p.publish("127.0.0.1", server.port("rtmp_port"), "live", stream.key).ok);
  const auto start = std::chrono::steady_clock::now();
  for (auto& t : *tags) {
    std::string body = t.body;
    // A phone holding its camera sideways: 320x568 coded, to be shown turned by 270 degrees.
    if (t.type == kDataAmf0) body = with_rotation(body, 270);
    std::this_thread::sleep_until(start + std::chrono::milliseconds(t.timestamp / 2));  // 2x real time
    REQUIRE(p.send_tag(t.type, t.timestamp, body));
  }

  Playlist burned;
  REQUIRE(wait_until(
      [&] {
        auto r = http_get(server.http_port(), "/hls/" + stream.id + "/burned/index.m3u8");
        if (r.status == 200) burned = parse_playlist(r.body);
        return burned.valid && !burned.segments.empty();
      },
      std::chrono::seconds(30), std::chrono::milliseconds(100)));
  p.close();
  CHECK(server.log().find("event=burned_in_started") != std::string::npos);
  CHECK(server.log().find("rotation=270") != std::string::npos);
  std::filesystem::create_directories(dir.path() + "/burned");
  const std::string path = download_segment(server, stream.id, "burned/" + burned.segments.front().uri, dir.path());
  REQUIRE(!path.empty());
  const json probe = ffprobe(path);
  REQUIRE(probe.contains("streams"));
  bool video = false;
  for (const auto& st : probe["streams"]) {
    if (st["codec_type"] != "video") continue;
    video = true;
    CHECK(st["width"] == 568);  // turned: the burned-in pixels are upright
    CHECK(st["height"] == 320);
  }
  CHECK(video);
  // The passthrough keeps the coded pixels (players turn them from the orientation DATERANGE).
  const Playlist pass = wait_for_playlist(server, stream.id, 1);
  REQUIRE(pass.valid);
  const std::string pass_path = download_segment(server, stream.id, pass.segments.front().uri, dir.path());
  REQUIRE(!pass_path.empty());
  const json pass_probe = ffprobe(pass_path);
  REQUIRE(pass_probe.contains("streams"));
  for (const auto& st : pass_probe["streams"]) {
    if (st["codec_type"] != "video") continue;
    CHECK(st["width"] == 320);
    CHECK(st["height"] == 568);
  }
}

TEST_CASE("the demo flag pushes a portrait loop over RTMP into the demo stream", "[media][demo]") {
  TempDir dir;
  ServerProcess server(media_server_options(dir, {"--demo"}));
  json info;
  REQUIRE(wait_until(
      [&] {
        info = stream_info(server, "demo");
        return info["state"] == "live" && info["ingest"].value("width", 0) == 720;
      },
      std::chrono::seconds(90), std::chrono::milliseconds(250)));
  CHECK(info["ingest"]["height"] == 1280);
  CHECK(info["ingest"]["protocol"] == "rtmp");
  CHECK(info["ingest"]["publisher"].get<std::string>().rfind("127.0.0.1:", 0) == 0);
  const Playlist p = wait_for_playlist(server, "demo", 2, std::chrono::seconds(30));
  REQUIRE(p.valid);
  const json probe = ffprobe(download_segment(server, "demo", p.segments[0].uri, dir.path()));
  REQUIRE(probe.contains("streams"));
  int streams = 0;
  for (const auto& st : probe["streams"]) {
    ++streams;
    if (st["codec_type"] == "video") {
      CHECK(st["width"] == 720);
      CHECK(st["height"] == 1280);
    }
  }
  CHECK(streams == 2);
  CHECK(server.stop(SIGTERM) == 0);
}

TEST_CASE("SIGTERM with publishers connected exits 0 and removes the HLS files", "[media][shutdown]") {
  TempDir dir;
  ServerProcess server(media_server_options(dir));
  GoodStream good;
  good.start(server);
  CHECK(std::filesystem::exists(dir.path() + "/hls/" + good.stream.id + "/index.m3u8"));
  CHECK(server.stop(SIGTERM) == 0);
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/hls/" + good.stream.id));
}

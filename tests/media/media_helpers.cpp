#include "media/media_helpers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "support/http_client.h"
#include "support/wait.h"

namespace harvest::test {

ServerProcess::Options media_server_options(const TempDir& dir, std::vector<std::string> extra) {
  return {.data_dir = dir.path(), .extra_args = std::move(extra), .env = {{"HARVEST_ADMIN_TOKEN", kAdminToken}}};
}

TestStream create_stream(const ServerProcess& server, const std::string& title) {
  auto r = http_request(server.http_port(), "POST", "/api/streams", nlohmann::json{{"title", title}}.dump(),
                        {{"Authorization", "Bearer " + kAdminToken}});
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (r.status != 201 || j.is_discarded()) return {};
  return {j["id"].get<std::string>(), j["stream_key"].get<std::string>()};
}

std::string rtmp_url(const ServerProcess& server, const std::string& key) {
  return "rtmp://127.0.0.1:" + std::to_string(server.port("rtmp_port")) + "/live/" + key;
}

std::string srt_url(const ServerProcess& server, const std::string& key) {
  return "srt://127.0.0.1:" + std::to_string(server.port("srt_port")) + "?streamid=#!::r=live/" + key + ",m=publish";
}

namespace {
std::vector<std::string> input_args(const FfmpegInput& in, bool realtime) {
  std::vector<std::string> a = {"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error"};
  if (realtime) a.push_back("-re");
  if (in.video) {
    a.insert(a.end(), {"-f", "lavfi", "-i",
                       "testsrc2=size=" + std::to_string(in.width) + "x" + std::to_string(in.height) +
                           ":rate=" + std::to_string(in.fps)});
  }
  if (in.audio) {
    if (realtime) a.push_back("-re");
    a.insert(a.end(), {"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"});
  }
  a.insert(a.end(), {"-t", std::to_string(in.seconds)});
  if (in.video) {
    a.insert(a.end(), {"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
                       "-g", std::to_string(in.gop), "-b:v", "400k"});
  }
  if (in.audio) a.insert(a.end(), {"-c:a", "aac", "-b:a", "64k", "-ac", "1"});
  return a;
}
}  // namespace

std::vector<std::string> ffmpeg_args(const FfmpegInput& in, const std::string& format, const std::string& url) {
  auto a = input_args(in, true);
  a.insert(a.end(), {"-f", format, url});
  return a;
}

bool encode_file(const FfmpegInput& in, const std::string& format, const std::string& path) {
  auto a = input_args(in, false);
  a.insert(a.end(), {"-y", "-f", format, path});
  ChildProcess p(a);
  return p.wait(std::chrono::seconds(60)) == 0;
}

double metric(const ServerProcess& server, const std::string& sample) {
  const HttpResult r = http_get(server.port("http_port"), "/metrics");
  const size_t at = r.body.find("\n" + sample + " ");
  if (r.status != 200 || at == std::string::npos) return -1;
  return std::stod(r.body.substr(at + sample.size() + 2));
}

double Playlist::total_duration() const {
  double t = 0;
  for (const auto& s : segments) t += s.duration;
  return t;
}

Playlist parse_playlist(const std::string& text) {
  Playlist p;
  p.text = text;
  if (text.rfind("#EXTM3U", 0) != 0) return p;
  p.valid = true;
  std::istringstream in(text);
  std::string line;
  PlaylistEntry next;
  while (std::getline(in, line)) {
    if (line.rfind("#EXT-X-TARGETDURATION:", 0) == 0) p.target_duration = std::stoi(line.substr(22));
    else if (line.rfind("#EXT-X-MEDIA-SEQUENCE:", 0) == 0) p.media_sequence = std::stol(line.substr(22));
    else if (line.rfind("#EXT-X-DISCONTINUITY-SEQUENCE:", 0) == 0) p.discontinuity_sequence = std::stol(line.substr(30));
    else if (line == "#EXT-X-DISCONTINUITY") {
      next.discontinuity = true;
      ++p.discontinuities;
    } else if (line.rfind("#EXT-X-PROGRAM-DATE-TIME:", 0) == 0) next.program_date_time = line.substr(25);
    else if (line.rfind("#EXTINF:", 0) == 0) next.duration = std::stod(line.substr(8));
    else if (line == "#EXT-X-ENDLIST") p.ended = true;
    else if (!line.empty() && line[0] != '#') {
      next.uri = line;
      p.segments.push_back(next);
      next = PlaylistEntry{};
    }
  }
  return p;
}

Playlist fetch_playlist(const ServerProcess& server, const std::string& stream_id) {
  auto r = http_get(server.http_port(), "/hls/" + stream_id + "/index.m3u8");
  if (r.status != 200) return Playlist{};
  return parse_playlist(r.body);
}

Playlist wait_for_playlist(const ServerProcess& server, const std::string& stream_id, size_t segments,
                           std::chrono::milliseconds timeout) {
  Playlist p;
  wait_until(
      [&] {
        p = fetch_playlist(server, stream_id);
        return p.valid && p.segments.size() >= segments;
      },
      timeout, std::chrono::milliseconds(100));
  return p;
}

bool wait_playlist_advances(const ServerProcess& server, const std::string& stream_id, long after,
                            std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        const Playlist p = fetch_playlist(server, stream_id);
        return p.valid && p.end_sequence() > after;
      },
      timeout, std::chrono::milliseconds(100));
}

nlohmann::json stream_info(const ServerProcess& server, const std::string& stream_id) {
  auto r = http_get(server.http_port(), "/api/streams/" + stream_id);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

nlohmann::json ffprobe(const std::string& path) {
  const std::string out = path + ".probe.json";
  ChildProcess p({"sh", "-c",
                  "ffprobe -v error -print_format json -show_streams -show_format '" + path + "' > '" + out + "'"});
  if (p.wait(std::chrono::seconds(30)) != 0) return nlohmann::json::object();
  auto j = nlohmann::json::parse(read_file(out), nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

std::string download_segment(const ServerProcess& server, const std::string& stream_id, const std::string& uri,
                             const std::string& dir) {
  auto r = http_get(server.http_port(), "/hls/" + stream_id + "/" + uri);
  if (r.status != 200 || r.body.empty()) return {};
  const std::string path = dir + "/" + uri;
  std::ofstream out(path, std::ios::binary);
  out << r.body;
  return path;
}

}  // namespace harvest::test

#include "api/hls_files.h"

#include <chrono>
#include <fstream>
#include <iterator>

#include "media/hls/ll_hls_registry.h"

namespace harvest::api {

namespace {
using media::hls::LlHlsRegistry;

// Three target durations (the spec's bound for a blocked request before a 503).
constexpr std::chrono::milliseconds kBlockDeadline{3000};

HttpResponse ll_playlist_response(const media::hls::LlHlsStream& stream) {
  auto r = HttpResponse::text(200, stream.playlist(), "application/vnd.apple.mpegurl");
  r.headers.emplace_back("cache-control", "no-cache, no-store");
  r.headers.emplace_back("access-control-allow-origin", "*");
  return r;
}

HttpResponse file_body_response(const std::string& path, const std::string& file) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return HttpResponse::error(404, "not_found", "no such HLS file");
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto r = HttpResponse::text(200, std::move(body), realtime::mime_type_for(file));
  r.headers.emplace_back("cache-control", "public, max-age=31536000, immutable");
  r.headers.emplace_back("access-control-allow-origin", "*");
  return r;
}

HttpResponse not_ready() {
  auto r = HttpResponse::error(503, "not_ready", "the requested part did not appear in time");
  r.headers.emplace_back("retry-after", "1");
  r.headers.emplace_back("access-control-allow-origin", "*");
  return r;
}

HttpResponse ll_playlist(LlHlsRegistry& ll, const std::string& id, const HttpRequest& req) {
  using media::hls::BlockVerdict;
  auto stream = ll.find(id);
  if (!stream) return HttpResponse::error(404, "not_found", "no LL-HLS rendition for this stream");
  // Before the first part (or an input without an LL rendition, SRT): nothing to play yet.
  if (req.query.count("_HLS_msn") == 0 && stream->playlist().empty())
    return HttpResponse::error(404, "not_found", "no LL-HLS part written yet");
  std::string error;
  const auto blocking = media::hls::parse_blocking_request(req.query, error);
  if (!error.empty()) return HttpResponse::error(400, "bad_request", error);
  if (!blocking) return ll_playlist_response(*stream);
  switch (media::hls::decide_blocking(stream->position(), *blocking)) {
    case BlockVerdict::ready:
      return ll_playlist_response(*stream);
    case BlockVerdict::too_far:
      return HttpResponse::error(400, "bad_request",
                                 "_HLS_msn/_HLS_part too far ahead of the playlist (more than two segments, or more "
                                 "than the Advance Part Limit of parts)");
    case BlockVerdict::wait:
      break;
  }
  return HttpResponse::later([&ll, id, request = *blocking, stream](realtime::HttpReply reply) {
    ll.wait(id, [request](const media::hls::LlPosition& now) { return media::hls::decide_blocking(now, request); },
            kBlockDeadline, [reply, stream](LlHlsRegistry::Outcome outcome) {
      if (outcome == LlHlsRegistry::Outcome::ready) reply(ll_playlist_response(*stream));
      else if (outcome == LlHlsRegistry::Outcome::timed_out) reply(not_ready());
      else reply(HttpResponse::error(404, "not_found", "the stream ended"));
    });
  });
}
}  // namespace

bool is_servable_hls_path(const std::string& file) {
  if (file.empty() || file.size() > 200 || file.front() == '/' || file.find("..") != std::string::npos) return false;
  for (char c : file) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-' || c == '/';
    if (!ok) return false;
  }
  auto ends = [&](const std::string& ext) {
    return file.size() > ext.size() && file.compare(file.size() - ext.size(), ext.size(), ext) == 0;
  };
  return ends(".m3u8") || ends(".ts") || ends(".m4s") || ends(".mp4");
}

void register_hls_routes(Router& router, std::string hls_root, std::string replay_root, LlHlsRegistry* ll) {
  router.add("GET", "/hls/{id}/{file...}", [root = std::move(hls_root), replays = std::move(replay_root), ll](
                                               const HttpRequest& req) {
    const std::string& id = req.params.at("id");
    const std::string& file = req.params.at("file");
    if (!is_servable_hls_path(id + "/" + file) || id.find('/') != std::string::npos)
      return HttpResponse::error(404, "not_found", "no such HLS file");
    if (file == "ll.m3u8") {
      if (ll == nullptr) return HttpResponse::error(404, "not_found", "LL-HLS is off");
      return ll_playlist(*ll, id, req);
    }
    const bool playlist = file.size() > 5 && file.compare(file.size() - 5, 5, ".m3u8") == 0;
    static const std::string kReplay = "replay/";
    const std::string path = file.rfind(kReplay, 0) == 0 ? replays + "/" + id + "/" + file.substr(kReplay.size())
                                                         : root + "/" + id + "/" + file;
    // A part asked for before it exists (the playlist's EXT-X-PRELOAD-HINT): answered once it
    // does, parked like a blocking reload; one too far ahead is a 404 at once.
    if (ll != nullptr && !playlist) {
      if (auto stream = ll->find(id)) {
        if (auto number = media::hls::parse_part_file_name(stream->prefix(), file)) {
          using media::hls::BlockVerdict;
          switch (media::hls::decide_part_file(stream->position(), *number)) {
            case BlockVerdict::ready:
              break;  // on disk (or gone: the file answer says 404)
            case BlockVerdict::too_far:
              return HttpResponse::error(404, "not_found", "no such LL-HLS part (too far ahead)");
            case BlockVerdict::wait:
              return HttpResponse::later([ll, id, n = *number, path, file](realtime::HttpReply reply) {
                ll->wait(id, [n](const media::hls::LlPosition& now) { return media::hls::decide_part_file(now, n); },
                         kBlockDeadline, [reply, path, file](LlHlsRegistry::Outcome outcome) {
                           reply(outcome == LlHlsRegistry::Outcome::timed_out ? not_ready() : file_body_response(path, file));
                         });
              });
          }
        }
      }
    }
    auto r = HttpResponse::file(path, realtime::mime_type_for(file));
    r.headers.emplace_back("cache-control", playlist ? "no-cache, no-store" : "public, max-age=31536000, immutable");
    r.headers.emplace_back("access-control-allow-origin", "*");
    return r;
  });
}

}  // namespace harvest::api

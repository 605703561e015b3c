#include "api/hls_files.h"

namespace harvest::api {

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

void register_hls_routes(Router& router, std::string hls_root, std::string replay_root) {
  router.add("GET", "/hls/{id}/{file...}", [root = std::move(hls_root), replays = std::move(replay_root)](
                                               const HttpRequest& req) {
    const std::string& id = req.params.at("id");
    const std::string& file = req.params.at("file");
    if (!is_servable_hls_path(id + "/" + file) || id.find('/') != std::string::npos)
      return HttpResponse::error(404, "not_found", "no such HLS file");
    const bool playlist = file.size() > 5 && file.compare(file.size() - 5, 5, ".m3u8") == 0;
    static const std::string kReplay = "replay/";
    const std::string path = file.rfind(kReplay, 0) == 0 ? replays + "/" + id + "/" + file.substr(kReplay.size())
                                                         : root + "/" + id + "/" + file;
    auto r = HttpResponse::file(path, realtime::mime_type_for(file));
    r.headers.emplace_back("cache-control", playlist ? "no-cache, no-store" : "public, max-age=31536000, immutable");
    r.headers.emplace_back("access-control-allow-origin", "*");
    return r;
  });
}

}  // namespace harvest::api

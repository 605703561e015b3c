#include "realtime/static_files.h"

#include <filesystem>

namespace harvest::realtime {

std::string safe_join(const std::string& root, const std::string& relative) {
  // A NUL would cut the name short when it reaches open(2): refused rather than truncated.
  if (relative.empty() || relative.front() == '/' || relative.find('\0') != std::string::npos) return {};
  for (const auto& segment : split_path(relative)) {
    if (segment == ".." || segment == "." || segment.find('\\') != std::string::npos) return {};
  }
  return root + "/" + relative;
}

void register_web_client_routes(Router& router, const std::string& web_root) {
  namespace fs = std::filesystem;
  const std::string root = fs::is_directory(web_root + "/dist") ? web_root + "/dist" : web_root;

  auto page = [root](std::string file) {
    return [root, file](const HttpRequest&) {
      HttpResponse r = HttpResponse::file(root + "/" + file, mime_type_for(file));
      r.headers.emplace_back("cache-control", "no-cache");
      return r;
    };
  };
  router.add("GET", "/", page("index.html"));
  router.add("GET", "/watch/{id}", page("watch.html"));
  router.add("GET", "/host/{id}", page("host.html"));
  router.add("GET", "/broadcast/{id}", page("broadcast.html"));
  router.add("GET", "/login", page("signin.html"));
  router.add("GET", "/join/{code}", page("signin.html"));
  router.add("GET", "/farm", page("farm.html"));
  router.add("GET", "/admin", page("admin.html"));
  router.add("GET", "/dashboard", page("dashboard.html"));
  // The public origin record of a trace code (issue 18); the page reads /api/trace/{code}.
  router.add("GET", "/trace/{code}", page("trace.html"));
  router.add("GET", "/static/{path...}", [root](const HttpRequest& req) {
    const std::string path = safe_join(root, req.params.at("path"));
    if (path.empty()) return HttpResponse::error(400, "invalid", "bad path");
    return HttpResponse::file(path, mime_type_for(path));
  });
}

}  // namespace harvest::realtime

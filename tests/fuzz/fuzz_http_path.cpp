// libFuzzer: the request path as the router and the file routes see it (after libwebsockets
// has URL-decoded it): Router::match on the file routes, safe_join (/static, /samples) and
// is_servable_hls_path (/hls, replays). Invariant: nothing any of them accepts can name a file
// outside its root — no "..", no absolute path, no backslash, no NUL.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/hls_files.h"
#include "realtime/router.h"
#include "realtime/static_files.h"

using namespace harvest;

namespace {
bool escapes(std::string_view rel) {
  if (rel.empty()) return false;
  if (rel.front() == '/' || rel.find('\0') != std::string_view::npos || rel.find('\\') != std::string_view::npos)
    return true;
  for (const auto& seg : realtime::split_path(rel))
    if (seg == "..") return true;
  return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path(reinterpret_cast<const char*>(data), size);
  static const std::string kRoot = "/srv/web";
  const std::string joined = realtime::safe_join(kRoot, path);
  if (!joined.empty()) {
    if (joined.rfind(kRoot + "/", 0) != 0 || escapes(joined.substr(kRoot.size() + 1))) __builtin_trap();
  }
  if (api::is_servable_hls_path(path) && escapes(path)) __builtin_trap();

  static realtime::Router router = [] {
    realtime::Router r;
    auto none = [](const realtime::HttpRequest&) { return realtime::HttpResponse::text(200, "", "text/plain"); };
    r.add("GET", "/static/{path...}", none);
    r.add("GET", "/hls/{id}/{file...}", none);
    r.add("GET", "/images/{name}", none);
    return r;
  }();
  auto m = router.match("GET", path);
  for (const auto& [name, value] : m.params) {
    // Every captured segment is non-empty and holds no '/' except a rest capture's separators.
    if (value.empty() || value.front() == '/' || value.back() == '/') __builtin_trap();
    if (name != "path" && name != "file" && value.find('/') != std::string::npos) __builtin_trap();
  }
  return 0;
}

#include "realtime/http_types.h"

#include <nlohmann/json.hpp>

namespace harvest::realtime {

std::string HttpRequest::bearer_token() const {
  const std::string auth = header("authorization");
  constexpr std::string_view prefix = "Bearer ";
  if (auth.size() > prefix.size() && auth.compare(0, prefix.size(), prefix) == 0)
    return auth.substr(prefix.size());
  return {};
}

HttpResponse HttpResponse::json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::text(int status, std::string body, std::string content_type) {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::file(std::string path, std::string content_type) {
  HttpResponse r;
  r.file_path = std::move(path);
  r.content_type = std::move(content_type);
  return r;
}

HttpResponse HttpResponse::later(std::function<void(HttpReply)> start) {
  HttpResponse r;
  r.deferred = std::move(start);
  return r;
}

HttpResponse HttpResponse::error(int status, std::string_view code, std::string_view message) {
  nlohmann::json j = {{"error", code}, {"message", message}};
  return json(status, j.dump());
}

std::string mime_type_for(std::string_view path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".json")) return "application/json";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".jpg") || ends(".jpeg")) return "image/jpeg";
  if (ends(".webp")) return "image/webp";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".m3u8")) return "application/vnd.apple.mpegurl";
  if (ends(".ts")) return "video/mp2t";
  if (ends(".m4s")) return "video/iso.segment";
  if (ends(".mp4")) return "video/mp4";
  if (ends(".woff2")) return "font/woff2";
  return "application/octet-stream";
}

}  // namespace harvest::realtime

#include "realtime/http_types.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace harvest::realtime {
namespace {

const char* status_reason(int status) {
  switch (status) {
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

}  // namespace

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

HeadVerdict inspect_request_head(std::string_view bytes, size_t max_request_line, size_t max_head) {
  const size_t line_end = bytes.find("\r\n");
  if (line_end == std::string_view::npos ? bytes.size() > max_request_line : line_end > max_request_line)
    return HeadVerdict::uri_too_long;
  const size_t head_end = bytes.find("\r\n\r\n");
  if (head_end == std::string_view::npos)
    return bytes.size() > max_head ? HeadVerdict::head_too_large : HeadVerdict::incomplete;
  if (head_end + 4 > max_head) return HeadVerdict::head_too_large;
  const std::string_view ws = "GET /ws";
  const bool is_ws = bytes.size() > ws.size() && bytes.substr(0, ws.size()) == ws &&
                     (bytes[ws.size()] == '?' || bytes[ws.size()] == ' ');
  return is_ws ? HeadVerdict::websocket : HeadVerdict::request;
}

std::string https_url_for(std::string_view head) {
  const size_t line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) return {};
  const std::string_view line = head.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 <= sp1 + 1) return {};
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.front() != '/') return {};
  // Host: the first header of that name, compared without case.
  size_t at = line_end + 2;
  while (at < head.size()) {
    const size_t end = head.find("\r\n", at);
    if (end == std::string_view::npos || end == at) break;
    const std::string_view header = head.substr(at, end - at);
    at = end + 2;
    if (header.size() < 5 || !std::equal(header.begin(), header.begin() + 5, "host:", [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        }))
      continue;
    std::string_view host = header.substr(5);
    while (!host.empty() && (host.front() == ' ' || host.front() == '\t')) host.remove_prefix(1);
    while (!host.empty() && (host.back() == ' ' || host.back() == '\t')) host.remove_suffix(1);
    // Only what a host[:port] may hold: a header must not smuggle anything into Location.
    if (host.empty() || host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
                            std::string_view::npos)
      return {};
    for (char c : target)
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return {};
    return "https://" + std::string(host) + std::string(target);
  }
  return {};
}

bool starts_with_request_line(std::string_view bytes) {
  const size_t line_end = bytes.find("\r\n");
  if (line_end == std::string_view::npos) return false;
  const std::string_view line = bytes.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == 0 || sp2 == sp1) return false;
  for (char c : line.substr(0, sp1))
    if (c < 'A' || c > 'Z') return false;
  const std::string_view version = line.substr(sp2 + 1);
  return version == "HTTP/1.1" || version == "HTTP/1.0";
}

namespace {
bool has_header(const HttpResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < n.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(n[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return true;
  }
  return false;
}
}  // namespace

void add_security_headers(HttpResponse& r, bool tls) {
  if (!has_header(r, "x-content-type-options")) r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  const bool html = r.content_type.rfind("text/html", 0) == 0;
  if (html && !has_header(r, "content-security-policy"))
    r.headers.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
  if (tls && !has_header(r, "strict-transport-security"))
    r.headers.emplace_back("Strict-Transport-Security", std::string(kStrictTransportSecurity));
}

std::string raw_response(const HttpResponse& given) {
  HttpResponse response = given;
  add_security_headers(response, /*tls=*/false);
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + status_reason(response.status) + "\r\n";
  out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "Connection: close\r\n\r\n";
  out += response.body;
  return out;
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

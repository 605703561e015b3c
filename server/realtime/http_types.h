#pragma once
// Plain HTTP request/response values exchanged between the lws transport and route handlers.
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace harvest::realtime {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // decoded path, no query
  std::map<std::string, std::string> query;    // decoded query arguments
  std::map<std::string, std::string> params;   // route parameters, e.g. {id}
  std::map<std::string, std::string> headers;  // lower-case names; only those the server reads
  std::string body;
  std::string peer;                            // remote address

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
  // The token from "Authorization: Bearer X", or empty.
  std::string bearer_token() const;
};

struct HttpResponse;
// Answers a deferred request (HttpResponse::later): call it once, on the loop thread. If the
// client has gone meanwhile, it does nothing.
using HttpReply = std::function<void(HttpResponse)>;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the transport streams this file instead of `body`.
  std::string file_path;
  // When set, the answer comes later: the transport calls it at once with the reply to answer
  // through (e.g. after a read on another thread). Not for file responses.
  std::function<void(HttpReply)> deferred;

  static HttpResponse json(int status, std::string body);
  static HttpResponse text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static HttpResponse file(std::string path, std::string content_type);
  static HttpResponse later(std::function<void(HttpReply)> start);
  // {"error": code, "message": message}
  static HttpResponse error(int status, std::string_view code, std::string_view message);
};

// What the first bytes of a connection say about its request, read before lws sees them (the
// acceptor peeks; see HttpServer::accept_loop).
enum class HeadVerdict {
  incomplete,      // no blank line yet, within the limits: wait for more
  request,         // a whole head: plain HTTP
  websocket,       // a whole head whose request line is "GET /ws?..." or "GET /ws ..."
  uri_too_long,    // the request line is longer than max_request_line (414)
  head_too_large,  // the head is longer than max_head (431)
};
HeadVerdict inspect_request_head(std::string_view bytes, size_t max_request_line, size_t max_head);
// "https://HOST/TARGET" for a complete plain request head (its Host header and request
// target), to redirect a plain request on the TLS port; empty without a usable Host.
std::string https_url_for(std::string_view head);

// Whether `bytes` begin with an HTTP/1.x request line ("METHOD target HTTP/1.1\r\n").
bool starts_with_request_line(std::string_view bytes);

// A whole HTTP/1.1 response with `response`'s status, content type and body, closing the
// connection: for answers written on a raw socket, before lws owns it.
std::string raw_response(const HttpResponse& response);

// Content type from a file name's extension.
std::string mime_type_for(std::string_view path);

// The page policy every HTML answer carries: scripts, styles, pictures and media only from
// this origin; connections also to other hosts over http(s)/ws(s), because the URLs the server
// hands out (--public-host, WHIP, HLS behind a CDN) may name another origin (hls.js plays from blob: MediaSource URLs and may run a
// blob: worker; product photos may be previewed as blob:/data: before upload), no plugins,
// no framing, no <base> rewriting. The pages have no inline script, so none is allowed: a
// title or chat line that slips through as markup still cannot run. Style attributes set by
// the pages' scripts (a show's cover picture, the player's rotation) are allowed; <style>
// elements are not.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob: data:; worker-src 'self' blob:; connect-src 'self' http: https: ws: wss:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
// HSTS over TLS: one year; browsers ignore it over plain HTTP (RFC 6797 8.1), so it is not sent there.
inline constexpr std::string_view kStrictTransportSecurity = "max-age=31536000";

// Adds the headers every answer carries unless the route set its own: X-Content-Type-Options:
// nosniff (a JSON error or an uploaded photo is never run as a script or a page), the
// Content-Security-Policy on HTML, and Strict-Transport-Security when `tls`.
void add_security_headers(HttpResponse& response, bool tls);

}  // namespace harvest::realtime

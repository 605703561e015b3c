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

// Content type from a file name's extension.
std::string mime_type_for(std::string_view path);

}  // namespace harvest::realtime

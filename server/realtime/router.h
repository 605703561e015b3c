#pragma once
// Route table: "METHOD /path/{param}/..." patterns to handlers. Matching is a pure function.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "realtime/http_types.h"

namespace harvest::realtime {

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Decides from the request head alone (method, path, params, query, headers; the body is not
// read yet) whether the caller may go on. A refusal is the answer, sent without reading the
// body: an anonymous client can then never make the server buffer a body for a route it may
// not use.
using HeadCheck = std::function<std::optional<HttpResponse>(const HttpRequest&)>;

// Judges the first bytes of a body (BodyStart) before the rest is read. A refusal is the
// answer at once; the rest of the body is then read and dropped, never kept.
using BodyStartCheck = std::function<std::optional<HttpResponse>(std::string_view first)>;

// What a route accepts before its handler runs.
struct RouteLimits {
  // The largest body the route reads (Content-Length); larger ones get 413 unread. JSON
  // routes keep the default; only uploads should ask for more.
  static constexpr size_t kJsonBody = 64 * 1024;
  size_t max_body_bytes = kJsonBody;
  HeadCheck check;  // empty: anyone may call
  // Run once, when `body_start_bytes` of the body (or all of a shorter body) have arrived:
  // an upload that is not what the route takes is refused without reading megabytes of it.
  // Only for requests the loop's own shard reads (plain HTTP); a TLS request read on another
  // shard is judged whole by its handler (docs/reliability.md "Request bodies").
  size_t body_start_bytes = 0;
  BodyStartCheck body_start;  // empty: none
};

class Router {
public:
  // `pattern` segments in braces capture one path segment; a final "{name...}" captures the rest.
  void add(std::string method, std::string pattern, HttpHandler handler);
  void add(std::string method, std::string pattern, RouteLimits limits, HttpHandler handler);

  struct Match {
    const HttpHandler* handler = nullptr;
    const RouteLimits* limits = nullptr;  // set with handler
    std::map<std::string, std::string> params;
    bool path_matched_other_method = false;  // for 405
  };
  Match match(std::string_view method, std::string_view path) const;

  // Every route as "METHOD /pattern", in the order added. The server logs the list at debug
  // level (event=route) so a test can go through the whole table: the cross-tenant test fails
  // on a route it has no case for.
  std::vector<std::string> describe() const;

private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    HttpHandler handler;
    RouteLimits limits;
  };
  std::vector<Route> routes_;
};

// Splits "/a/b/c" into {"a","b","c"}; empty segments are dropped.
std::vector<std::string> split_path(std::string_view path);

}  // namespace harvest::realtime

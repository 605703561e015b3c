#pragma once
// Route table: "METHOD /path/{param}/..." patterns to handlers. Matching is a pure function.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "realtime/http_types.h"

namespace harvest::realtime {

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Decides from the request head alone (method, path, params, query, headers; the body is not
// read yet) whether the caller may go on. A refusal is the answer, sent without reading the
// body: an anonymous client can then never make the server buffer a body for a route it may
// not use.
using HeadCheck = std::function<std::optional<HttpResponse>(const HttpRequest&)>;

// What a route accepts before its handler runs.
struct RouteLimits {
  // The largest body the route reads (Content-Length); larger ones get 413 unread. JSON
  // routes keep the default; only uploads should ask for more.
  static constexpr size_t kJsonBody = 64 * 1024;
  size_t max_body_bytes = kJsonBody;
  HeadCheck check;  // empty: anyone may call
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

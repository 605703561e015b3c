#pragma once
// Route table: "METHOD /path/{param}/..." patterns to handlers. Matching is a pure function.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "realtime/http_types.h"

namespace harvest::realtime {

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class Router {
public:
  // `pattern` segments in braces capture one path segment; a final "{name...}" captures the rest.
  void add(std::string method, std::string pattern, HttpHandler handler);

  struct Match {
    const HttpHandler* handler = nullptr;
    std::map<std::string, std::string> params;
    bool path_matched_other_method = false;  // for 405
  };
  Match match(std::string_view method, std::string_view path) const;

private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    HttpHandler handler;
  };
  std::vector<Route> routes_;
};

// Splits "/a/b/c" into {"a","b","c"}; empty segments are dropped.
std::vector<std::string> split_path(std::string_view path);

}  // namespace harvest::realtime

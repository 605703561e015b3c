#include "realtime/router.h"

namespace harvest::realtime {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = i;
    while (j < path.size() && path[j] != '/') ++j;
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

void Router::add(std::string method, std::string pattern, HttpHandler handler) {
  add(std::move(method), std::move(pattern), RouteLimits{}, std::move(handler));
}

void Router::add(std::string method, std::string pattern, RouteLimits limits, HttpHandler handler) {
  routes_.push_back({std::move(method), split_path(pattern), std::move(handler), std::move(limits)});
}

std::vector<std::string> Router::describe() const {
  std::vector<std::string> out;
  for (const auto& route : routes_) {
    std::string line = route.method + " ";
    for (const auto& seg : route.segments) line += "/" + seg;
    if (route.segments.empty()) line += "/";
    out.push_back(std::move(line));
  }
  return out;
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match result;
  const auto parts = split_path(path);
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    bool ok = true;
    size_t i = 0;
    for (; i < route.segments.size(); ++i) {
      const std::string& seg = route.segments[i];
      const bool is_param = seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
      if (is_param && seg.size() > 5 && seg.compare(seg.size() - 4, 4, "...}") == 0) {
        // Rest capture: needs at least one segment, joined back with '/'.
        if (i >= parts.size()) { ok = false; break; }
        std::string rest;
        for (size_t k = i; k < parts.size(); ++k) rest += (k > i ? "/" : "") + parts[k];
        params[seg.substr(1, seg.size() - 5)] = rest;
        i = parts.size();
        break;
      }
      if (i >= parts.size()) { ok = false; break; }
      if (is_param) params[seg.substr(1, seg.size() - 2)] = parts[i];
      else if (seg != parts[i]) { ok = false; break; }
    }
    if (!ok || i != parts.size()) continue;
    if (route.method != method) {
      result.path_matched_other_method = true;
      continue;
    }
    result.handler = &route.handler;
    result.limits = &route.limits;
    result.params = std::move(params);
    return result;
  }
  return result;
}

}  // namespace harvest::realtime

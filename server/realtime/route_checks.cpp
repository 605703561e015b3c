#include "realtime/route_checks.h"

namespace harvest::realtime {
namespace {

int64_t now_s() { return now_ms() / 1000; }

}  // namespace

HeadCheck admin_only(const AccessConfig& access) {
  return [&access](const HttpRequest& req) -> std::optional<HttpResponse> {
    if (access.admin_token.empty())
      return HttpResponse::error(403, "forbidden", "admin routes are disabled: no admin token is configured");
    if (identify(access, req.bearer_token(), now_s()).role != Role::admin)
      return HttpResponse::error(401, "unauthorized", "admin token required");
    return std::nullopt;
  };
}

HeadCheck stream_manager(const AccessConfig& access, StreamRegistry& streams) {
  return [&access, &streams](const HttpRequest& req) -> std::optional<HttpResponse> {
    const std::string& id = req.params.at("id");
    if (streams.find(id) == nullptr) return HttpResponse::error(404, "not_found", "no such stream");
    if (!identify(access, req.bearer_token(), now_s()).may_manage(id))
      return HttpResponse::error(401, "unauthorized", "the host token of this stream (or the admin token) is required");
    return std::nullopt;
  };
}

HeadCheck image_uploader(const AccessConfig& access) {
  return [&access](const HttpRequest& req) -> std::optional<HttpResponse> {
    const Identity who = identify(access, req.bearer_token(), now_s());
    if (who.role == Role::viewer) {
      const std::string why = who.token_problem.empty() ? "" : " (the token presented is " + who.token_problem + ")";
      return HttpResponse::error(401, "unauthorized", "sign in to upload photos: a host token or the admin token is required" + why);
    }
    return std::nullopt;
  };
}

}  // namespace harvest::realtime

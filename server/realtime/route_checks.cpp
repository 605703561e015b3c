#include "realtime/route_checks.h"

namespace harvest::realtime {
namespace {

int64_t now_s() { return now_ms() / 1000; }

}  // namespace

Identity caller_of(const AccessConfig& access, const HttpRequest& req) {
  return identify_request(access, req.bearer_token(), req.header("cookie"), now_s());
}

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
    const StreamState* s = streams.find(req.params.at("id"));
    if (s == nullptr) return HttpResponse::error(404, "not_found", "no such stream");
    const Identity who = caller_of(access, req);
    if (who.may_manage(s->record)) return std::nullopt;
    if (who.role == Role::farmer) return HttpResponse::error(403, "forbidden", "this show belongs to another farmer");
    return HttpResponse::error(401, "unauthorized",
                               "sign in as the show's farmer, or use its host token (or the admin token)");
  };
}

HeadCheck stream_owner(const AccessConfig& access, StreamRegistry& streams) {
  return [&access, &streams](const HttpRequest& req) -> std::optional<HttpResponse> {
    const StreamState* s = streams.find(req.params.at("id"));
    if (s == nullptr) return HttpResponse::error(404, "not_found", "no such stream");
    const Identity who = caller_of(access, req);
    if (who.role == Role::admin || (who.role == Role::farmer && who.account_id == s->record.owner))
      return std::nullopt;
    if (who.role == Role::farmer || who.role == Role::host)
      return HttpResponse::error(403, "forbidden", "only the show's farmer (or the admin) may do this");
    return HttpResponse::error(401, "unauthorized", "sign in as the show's farmer (or use the admin token)");
  };
}

HeadCheck farmer_or_admin(const AccessConfig& access) {
  return [&access](const HttpRequest& req) -> std::optional<HttpResponse> {
    const Identity who = caller_of(access, req);
    if (who.role == Role::farmer || who.role == Role::admin) return std::nullopt;
    return HttpResponse::error(401, "unauthorized", "sign in first");
  };
}

HeadCheck image_uploader(const AccessConfig& access) {
  return [&access](const HttpRequest& req) -> std::optional<HttpResponse> {
    const Identity who = caller_of(access, req);
    if (who.role == Role::viewer) {
      const std::string why = who.token_problem.empty() ? "" : " (the token presented is " + who.token_problem + ")";
      return HttpResponse::error(401, "unauthorized",
                                 "sign in to upload photos: a farmer's session, a host token or the admin token is required" + why);
    }
    return std::nullopt;
  };
}

}  // namespace harvest::realtime

#include "api/common.h"

namespace harvest::api {

std::optional<HttpResponse> refuse_unless_manager(StreamRegistry& streams, const AccessConfig& access,
                                                  const HttpRequest& req) {
  const std::string& id = req.params.at("id");
  if (streams.find(id) == nullptr) return HttpResponse::error(404, "not_found", "no such stream");
  if (!identify(access, req.bearer_token(), now_s()).may_manage(id))
    return HttpResponse::error(401, "unauthorized",
                               "the host token of this stream (or the admin token) is required");
  return std::nullopt;
}

}  // namespace harvest::api

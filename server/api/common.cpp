#include "api/common.h"

#include "realtime/route_checks.h"

namespace harvest::api {

std::optional<HttpResponse> refuse_unless_manager(StreamRegistry& streams, const AccessConfig& access,
                                                  const HttpRequest& req) {
  return realtime::stream_manager(access, streams)(req);
}

}  // namespace harvest::api

#include "api/health.h"

namespace harvest::api {

void register_health_route(Router& router) {
  router.add("GET", "/api/health",
             [](const HttpRequest&) { return HttpResponse::json(200, R"({"status":"ok"})"); });
}

}  // namespace harvest::api

#pragma once
// GET /api/health: {"status":"ok"} while the loop answers.
#include "api/common.h"

namespace harvest::api {

void register_health_route(Router& router);

}  // namespace harvest::api

#pragma once
// The web client's pages and assets, served from one directory.
#include <string>

#include "realtime/router.h"

namespace harvest::realtime {

// GET /, /watch/{id}, /host/{id}, /broadcast/{id} and /static/{path...} under `web_root`.
// Prefers `web_root`/dist when a built client is there.
void register_web_client_routes(Router& router, const std::string& web_root);

// Joins `relative` under `root`, refusing anything that would leave `root`. Empty on refusal.
std::string safe_join(const std::string& root, const std::string& relative);

}  // namespace harvest::realtime

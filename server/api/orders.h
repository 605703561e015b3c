#pragma once
// GET /api/streams/{id}/orders[?format=csv]: a stream's durable orders (host or admin). Read
// and serialised on the reader thread (api/reader.h): the list grows with the show.
#include "api/common.h"
#include "api/reader.h"

namespace harvest::api {

void register_order_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                           Reader& reader);

}  // namespace harvest::api

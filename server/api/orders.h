#pragma once
// GET /api/streams/{id}/orders[?format=csv]: a stream's durable orders (host or admin). Read
// and serialised on the reader thread (api/reader.h): the list grows with the show.
#include "api/common.h"
#include "api/reader.h"
#include "realtime/selling_desk.h"

namespace harvest::api {

void register_order_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                           Reader& reader);

// The order lifecycle (docs/orders.md), answered from the engine on the loop: GET
// /api/me/orders (buyer token), POST /api/orders/{id}/checkout|cancel|paid|ship|deliver|refund
// (the buyer, a host of the order's stream, the admin), POST /api/payments/notify (signed).
void register_order_lifecycle_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                                     realtime::SellingDesk& selling);

}  // namespace harvest::api

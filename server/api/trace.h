#pragma once
// GET /api/trace/{code}: the public record behind a product's trace code (issue 18, docs/
// protocol.md "Trace"), what the /trace/{code} page shows a buyer who scanned the card's QR or
// typed the code. No token: an origin record is public, like the catalog.
#include <string>
#include <vector>

#include "api/common.h"
#include "api/reader.h"
#include "store/store.h"

namespace harvest::api {

void register_trace_routes(Router& router, StreamRegistry& streams, Reader& reader);

// Every catalog product carrying `trace_code`, the newest first. The one place that knows
// where catalogs live: today the streams' catalogs in the store; another source (a farmer's
// own catalog) is one more lookup here. Runs on the reader thread.
Status find_traced_products(store::Store& store, const std::string& trace_code,
                            std::vector<store::TracedProduct>& out);

}  // namespace harvest::api

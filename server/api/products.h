#pragma once
// GET/PUT /api/streams/{id}/products: a stream's catalog (docs/protocol.md).
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "api/common.h"
#include "commerce/origin_validation.h"
#include "commerce/types.h"
#include "realtime/selling_desk.h"
#include "store/store.h"

namespace harvest::api {

// GET/PUT /api/streams/{id}/products; GET/PUT /api/me/products (a signed-in farmer's catalog).
// A show of a farmer takes products from their catalog: an entry {"id", "stock"} without a
// title is filled from it, and every product put in the show is kept in the catalog.
void register_product_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                             realtime::SellingDesk& selling, store::Store& catalogs);

// Parses {"products": [...]} of PUT /api/streams/{id}/products. Returns an error sentence or "".
// A product without "stock" gets 0 here and its id goes into `stock_omitted` (when given), for
// the caller to keep its live stock (commerce::keep_live_stock). A product's optional "origin"
// (commerce/origin_json.h) is checked by commerce::validate_origin against `today` in China.
std::string parse_catalog(
    const std::string& body, std::vector<commerce::Product>& out,
    std::set<std::string>* stock_omitted = nullptr,
    std::chrono::sys_days today = commerce::china_today(std::chrono::system_clock::now()));

}  // namespace harvest::api

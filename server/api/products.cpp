#include "api/products.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "commerce/product_validation.h"
#include "core/log.h"
#include "realtime/messages.h"
#include "realtime/protocol.h"
#include "realtime/route_checks.h"

namespace harvest::api {
namespace {

using nlohmann::json;
using realtime::is_token_chars;

// A JSON integer as int64_t; an unsigned one past its range stays out of range instead of wrapping.
int64_t saturated_int64(const json& v) {
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return INT64_MAX;
  return v.get<int64_t>();
}

// ---- burned-in card origin (issue 18, branch `burned`): a stopgap until the catalog's full
// `origin` parsing and validation (the traceability branch) lands and replaces this block. Only
// what the card shows: place {county, township, village}, harvest_date, trace_code.
std::string parse_card_origin(const json& p, commerce::Product& prod) {
  if (!p.contains("origin") || p["origin"].is_null()) return {};
  const json& o = p["origin"];
  const std::string where = "'origin' of '" + prod.id + "'";
  if (!o.is_object()) return where + " must be an object";
  auto text = [&](const json& obj, const char* key, std::string& out) -> std::string {
    if (!obj.contains(key)) return {};
    if (!obj[key].is_string() || obj[key].get_ref<const std::string&>().size() > 64)
      return where + ": '" + key + "' must be a string of at most 64 bytes";
    out = obj[key].get<std::string>();
    return {};
  };
  if (o.contains("place")) {
    if (!o["place"].is_object()) return where + ": 'place' must be an object";
    for (auto [key, out] :
         {std::pair{"county", &prod.origin.place.county}, std::pair{"township", &prod.origin.place.township},
          std::pair{"village", &prod.origin.place.village}})
      if (auto err = text(o["place"], key, *out); !err.empty()) return err;
  }
  if (auto err = text(o, "harvest_date", prod.origin.harvest_date); !err.empty()) return err;
  const std::string& d = prod.origin.harvest_date;
  int y = 0, m = 0, day = 0;
  if (!d.empty() && (d.size() != 10 || std::sscanf(d.c_str(), "%4d-%2d-%2d", &y, &m, &day) != 3 || m < 1 ||
                     m > 12 || day < 1 || day > 31 || d[4] != '-' || d[7] != '-'))
    return where + ": 'harvest_date' must be a date as YYYY-MM-DD";
  if (auto err = text(o, "trace_code", prod.origin.trace_code); !err.empty()) return err;
  return {};
}
// ---- end of the burned-in card origin block

}  // namespace

std::string parse_catalog(const std::string& body, std::vector<commerce::Product>& out,
                          std::set<std::string>* stock_omitted) {
  const json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("products") || !doc["products"].is_array())
    return "body must be {\"products\": [...]}";
  if (doc["products"].size() > 500) return "at most 500 products";
  std::set<std::string> seen;
  for (const auto& p : doc["products"]) {
    if (!p.is_object()) return "each product must be an object";
    commerce::Product prod;
    const json id = p.value("id", json());
    if (!id.is_string() || !is_token_chars(id.get_ref<const std::string&>(), 1, 64))
      return "'id' must be 1-64 characters [A-Za-z0-9_-]";
    prod.id = id.get<std::string>();
    if (!seen.insert(prod.id).second) return "duplicate product id '" + prod.id + "'";
    // JSON types here; what the values may be is commerce's rule (validate_product).
    const json title = p.value("title", json());
    const json price = p.value("price", json());
    const json currency = p.value("currency", json("CNY"));
    const json stock = p.value("stock", json(0));
    if (!p.contains("stock") && stock_omitted != nullptr) stock_omitted->insert(prod.id);
    const json image = p.value("image", json(""));
    if (!title.is_string()) return "'title' of '" + prod.id + "' must be a string";
    if (!price.is_number_integer()) return "'price' of '" + prod.id + "' must be an integer number of fen";
    if (!currency.is_string()) return "'currency' must be an ISO 4217 code such as \"CNY\"";
    if (!stock.is_number_integer()) return "'stock' of '" + prod.id + "' must be an integer";
    if (!image.is_string()) return "'image' of '" + prod.id + "' must be a URL string";
    prod.title = title.get<std::string>();
    prod.price = saturated_int64(price);
    prod.currency = currency.get<std::string>();
    prod.stock = saturated_int64(stock);
    prod.image = image.get<std::string>();
    if (auto err = parse_card_origin(p, prod); !err.empty()) return err;
    if (auto err = commerce::validate_product(prod); !err.empty()) return err;
    out.push_back(std::move(prod));
  }
  return {};
}

void register_product_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                             realtime::SellingDesk& selling) {
  router.add("GET", "/api/streams/{id}/products", [&streams, &selling](const HttpRequest& req) {
    const std::string& id = req.params.at("id");
    if (streams.find(id) == nullptr) return HttpResponse::error(404, "not_found", "no such stream");
    return HttpResponse::json(200, json{{"stream", id}, {"products", realtime::products_json(selling.products(id))}}.dump());
  });

  // A body: strangers are refused from the head, before it is read.
  router.add("PUT", "/api/streams/{id}/products", {.check = realtime::stream_manager(access, streams)},
             [&selling](const HttpRequest& req) {
    const std::string& id = req.params.at("id");
    std::vector<commerce::Product> products;
    std::set<std::string> stock_omitted;
    if (auto err = parse_catalog(req.body, products, &stock_omitted); !err.empty())
      return HttpResponse::error(400, "invalid", err);
    // Read and replaced on the loop thread, with no buy in between.
    commerce::keep_live_stock(products, stock_omitted, selling.products(id));
    if (auto st = selling.replace_catalog(id, std::move(products)); !st) {
      log::error("catalog_not_stored").kv("stream", id).kv("reason", st.message());
      return HttpResponse::error(500, "internal", "could not store the catalog");
    }
    return HttpResponse::json(200, json{{"stream", id}, {"products", realtime::products_json(selling.products(id))}}.dump());
  });
}

}  // namespace harvest::api

#include "api/products.h"

#include <nlohmann/json.hpp>
#include <set>

#include "commerce/origin_json.h"
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

}  // namespace

std::string parse_catalog(const std::string& body, std::vector<commerce::Product>& out,
                          std::set<std::string>* stock_omitted, std::chrono::sys_days today) {
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
    if (auto err = commerce::validate_product(prod); !err.empty()) return err;
    if (auto err = commerce::parse_origin(p.value("origin", json()), today, prod.origin); !err.empty())
      return err + " (product '" + prod.id + "')";
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

#include "api/products.h"

#include <nlohmann/json.hpp>
#include <set>

#include "core/log.h"
#include "realtime/messages.h"
#include "realtime/protocol.h"

namespace harvest::api {
namespace {

using nlohmann::json;
using realtime::is_token_chars;
using realtime::utf8_length;

bool is_int_in(const json& v, int64_t min, int64_t max) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    return u <= static_cast<uint64_t>(max) && static_cast<int64_t>(u) >= min;
  }
  if (v.is_number_integer()) return v.get<int64_t>() >= min && v.get<int64_t>() <= max;
  return false;
}

}  // namespace

std::string parse_catalog(const std::string& body, std::vector<commerce::Product>& out) {
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
    const json title = p.value("title", json());
    if (!title.is_string() || utf8_length(title.get_ref<const std::string&>()) < 1 ||
        utf8_length(title.get_ref<const std::string&>()) > 200)
      return "'title' of '" + prod.id + "' must be 1-200 characters";
    prod.title = title.get<std::string>();
    const json price = p.value("price", json());
    if (!is_int_in(price, 0, commerce::kMaxPriceFen))
      return "'price' of '" + prod.id + "' must be an integer number of fen, 0-" +
             std::to_string(commerce::kMaxPriceFen);
    prod.price = price.get<int64_t>();
    const json currency = p.value("currency", json("CNY"));
    if (!currency.is_string() || currency.get_ref<const std::string&>().size() != 3)
      return "'currency' must be an ISO 4217 code such as \"CNY\"";
    for (char c : currency.get_ref<const std::string&>())
      if (c < 'A' || c > 'Z') return "'currency' must be an ISO 4217 code such as \"CNY\"";
    prod.currency = currency.get<std::string>();
    const json stock = p.value("stock", json(0));
    if (!is_int_in(stock, 0, commerce::kMaxStock))
      return "'stock' of '" + prod.id + "' must be an integer 0-" + std::to_string(commerce::kMaxStock);
    prod.stock = stock.get<int64_t>();
    const json image = p.value("image", json(""));
    if (!image.is_string() || image.get_ref<const std::string&>().size() > 512)
      return "'image' must be a URL string of at most 512 bytes";
    prod.image = image.get<std::string>();
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

  router.add("PUT", "/api/streams/{id}/products", [&streams, &access, &selling](const HttpRequest& req) {
    if (auto refused = refuse_unless_manager(streams, access, req)) return *refused;
    const std::string& id = req.params.at("id");
    std::vector<commerce::Product> products;
    if (auto err = parse_catalog(req.body, products); !err.empty()) return HttpResponse::error(400, "invalid", err);
    if (auto st = selling.replace_catalog(id, std::move(products)); !st) {
      log::error("catalog_not_stored").kv("stream", id).kv("reason", st.message());
      return HttpResponse::error(500, "internal", "could not store the catalog");
    }
    return HttpResponse::json(200, json{{"stream", id}, {"products", realtime::products_json(selling.products(id))}}.dump());
  });
}

}  // namespace harvest::api

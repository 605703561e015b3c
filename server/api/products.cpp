#include "api/products.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <optional>
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

// Entries of a show's catalog that name a product of the farmer's catalog without a title
// ({"id": "pear", "stock": 40}) take its fields; the body is returned with them filled in.
// Anything else is left for parse_catalog to judge.
std::string with_catalog_fields(const std::string& body, const std::vector<commerce::Product>& catalog) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("products") || !doc["products"].is_array()) return body;
  for (json& p : doc["products"]) {
    if (!p.is_object() || p.contains("title") || !p.contains("id") || !p["id"].is_string()) continue;
    for (const auto& known : catalog) {
      if (known.id != p["id"].get<std::string>()) continue;
      json fields = realtime::product_json(known);
      for (const char* k : {"stock", "sold", "left"}) fields.erase(k);
      for (auto& [k, v] : fields.items())
        if (!p.contains(k)) p[k] = v;
    }
  }
  return doc.dump();
}

// The farmer's catalog after a show's catalog was stored: its products replace those with
// the same id, new ones are added at the end (stock is the show's, not kept).
std::vector<commerce::Product> merged_catalog(std::vector<commerce::Product> catalog,
                                              const std::vector<commerce::Product>& show) {
  for (commerce::Product p : show) {
    p.stock = 0;
    p.sold = 0;
    auto it = std::find_if(catalog.begin(), catalog.end(), [&p](const commerce::Product& c) { return c.id == p.id; });
    if (it != catalog.end()) *it = std::move(p);
    else catalog.push_back(std::move(p));
  }
  return catalog;
}

// A trace code is a farm's word to its buyers (the QR on the box, GET /trace/{code}): once one
// account's product carries it, no other account's may, or the trace page could show another
// farm's product under it (it shows the newest show first). The operator's shows (no owner)
// count as one account. Answers 409 naming the code, or nothing when every code is free or the
// caller's own.
std::optional<HttpResponse> trace_code_taken(store::Store& store,
                                             const std::vector<commerce::Product>& products,
                                             const std::string& owner) {
  std::set<std::string> checked;
  for (const auto& p : products) {
    const std::string& code = p.origin.trace_code;
    if (code.empty() || !checked.insert(code).second) continue;
    std::vector<store::TracedProduct> hits;
    if (auto st = store.find_traced_products(code, hits); !st) {
      log::error("trace_codes_not_read").kv("reason", st.message());
      return HttpResponse::error(500, "internal", "could not read the trace codes");
    }
    for (const auto& hit : hits)
      if (hit.owner != owner)
        return HttpResponse::error(409, "trace_code_taken",
                                   "trace code '" + code + "' is another farm's (product '" + p.id + "')");
  }
  return std::nullopt;
}

// trace_code_taken() reads, then the route writes: two nodes (or two requests) could both pass
// it with the same new code. The claim is the store's answer (a primary key, one transaction):
// the first account to claim a code keeps it, the other gets the same 409, and nothing is
// saved for it. Called after trace_code_taken(), which still covers codes saved before the
// claims table existed, and before anything is saved.
std::optional<HttpResponse> trace_code_claim_refused(store::Store& store,
                                                     const std::vector<commerce::Product>& products,
                                                     const std::string& owner) {
  std::vector<std::string> codes;
  for (const auto& p : products)
    if (!p.origin.trace_code.empty()) codes.push_back(p.origin.trace_code);
  if (codes.empty()) return std::nullopt;
  std::string taken;
  if (auto st = store.claim_trace_codes(owner, codes, taken); !st) {
    log::error("trace_codes_not_claimed").kv("reason", st.message());
    return HttpResponse::error(500, "internal", "could not claim the trace codes");
  }
  if (taken.empty()) return std::nullopt;
  const auto it = std::find_if(products.begin(), products.end(),
                               [&taken](const commerce::Product& p) { return p.origin.trace_code == taken; });
  return HttpResponse::error(409, "trace_code_taken",
                             "trace code '" + taken + "' is another farm's (product '" +
                                 (it == products.end() ? std::string() : it->id) + "')");
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
                             realtime::SellingDesk& selling, store::Store& catalogs) {
  router.add("GET", "/api/streams/{id}/products", [&streams, &selling](const HttpRequest& req) {
    const std::string& id = req.params.at("id");
    if (streams.find(id) == nullptr) return HttpResponse::error(404, "not_found", "no such stream");
    return HttpResponse::json(200, json{{"stream", id}, {"products", realtime::products_json(selling.products(id))}}.dump());
  });

  // A body: strangers are refused from the head, before it is read.
  router.add("PUT", "/api/streams/{id}/products", {.check = realtime::stream_manager(access, streams)},
             [&streams, &selling, &catalogs](const HttpRequest& req) {
    const std::string& id = req.params.at("id");
    const std::string owner = streams.find(id)->record.owner;
    std::vector<commerce::Product> farmer_catalog;
    if (!owner.empty()) {
      if (auto st = catalogs.list_farmer_catalog(owner, farmer_catalog); !st)
        return HttpResponse::error(500, "internal", "could not read the farmer's catalog");
    }
    std::vector<commerce::Product> products;
    std::set<std::string> stock_omitted;
    const std::string body = owner.empty() ? req.body : with_catalog_fields(req.body, farmer_catalog);
    if (auto err = parse_catalog(body, products, &stock_omitted); !err.empty())
      return HttpResponse::error(400, "invalid", err);
    if (auto taken = trace_code_taken(catalogs, products, owner)) return *taken;
    if (auto taken = trace_code_claim_refused(catalogs, products, owner)) return *taken;
    // Read and replaced on the loop thread, with no buy in between.
    commerce::keep_live_stock(products, stock_omitted, selling.products(id));
    const std::vector<commerce::Product> show_products = products;
    if (auto st = selling.replace_catalog(id, std::move(products)); !st) {
      log::error("catalog_not_stored").kv("stream", id).kv("reason", st.message());
      return HttpResponse::error(500, "internal", "could not store the catalog");
    }
    if (!owner.empty()) {
      if (auto st = catalogs.save_farmer_catalog(owner, merged_catalog(std::move(farmer_catalog), show_products)); !st)
        log::error("farmer_catalog_not_stored").kv("owner", owner).kv("reason", st.message());
    }
    return HttpResponse::json(200, json{{"stream", id}, {"products", realtime::products_json(selling.products(id))}}.dump());
  });

  // The farmer's own catalog: what they sell, reused in every show.
  router.add("GET", "/api/me/products", {.check = realtime::farmer_or_admin(access)},
             [&access, &catalogs](const HttpRequest& req) {
    const Identity who = realtime::caller_of(access, req);
    if (who.role != Role::farmer) return HttpResponse::error(403, "forbidden", "only a farmer has a catalog");
    std::vector<commerce::Product> products;
    if (auto st = catalogs.list_farmer_catalog(who.account_id, products); !st)
      return HttpResponse::error(500, "internal", "could not read the catalog");
    json list = realtime::products_json(products);
    for (json& p : list)
      for (const char* k : {"stock", "sold", "left"}) p.erase(k);
    return HttpResponse::json(200, json{{"products", list}}.dump());
  });

  router.add("PUT", "/api/me/products", {.check = realtime::farmer_or_admin(access)},
             [&access, &catalogs](const HttpRequest& req) {
    const Identity who = realtime::caller_of(access, req);
    if (who.role != Role::farmer) return HttpResponse::error(403, "forbidden", "only a farmer has a catalog");
    std::vector<commerce::Product> products;
    if (auto err = parse_catalog(req.body, products); !err.empty()) return HttpResponse::error(400, "invalid", err);
    for (auto& p : products) p.stock = 0;
    if (auto taken = trace_code_taken(catalogs, products, who.account_id)) return *taken;
    if (auto taken = trace_code_claim_refused(catalogs, products, who.account_id)) return *taken;
    if (auto st = catalogs.save_farmer_catalog(who.account_id, products); !st)
      return HttpResponse::error(500, "internal", "could not store the catalog");
    json list = realtime::products_json(products);
    for (json& p : list)
      for (const char* k : {"stock", "sold", "left"}) p.erase(k);
    return HttpResponse::json(200, json{{"products", list}}.dump());
  });
}

}  // namespace harvest::api

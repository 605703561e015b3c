#include "api/orders.h"

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "realtime/route_checks.h"
#include "realtime/messages.h"

namespace harvest::api {
namespace {

using nlohmann::json;

// RFC 4180: quote every text field, double the quotes inside. A leading =,+,-,@ is prefixed with
// ' so spreadsheets do not run it as a formula.
std::string csv_text(const std::string& s) {
  std::string out = "\"";
  if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) out += '\'';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string orders_csv(const std::vector<commerce::Order>& orders) {
  std::string out =
      "order_id,stream,viewer_id,idempotency_key,product_id,qty,unit_price,total,currency,media_time,"
      "card_product_id,media_card_product_id,sale_id,server_time,replay_session,media_exposure_id\r\n";
  for (const auto& o : orders) {
    out += std::to_string(o.id) + "," + csv_text(o.stream_id) + "," + csv_text(o.viewer_id) + "," +
           csv_text(o.idempotency_key) + "," + csv_text(o.product_id) + "," + std::to_string(o.qty) + "," +
           std::to_string(o.unit_price) + "," + std::to_string(o.total) + "," + csv_text(o.currency) + "," +
           (o.media_time ? json(*o.media_time).dump() : std::string()) + "," + csv_text(o.card_product_id) +
           "," + csv_text(o.media_card_product_id) + "," + csv_text(o.sale_id) + "," +
           std::to_string(o.server_time_ms) + "," + csv_text(o.replay_session) + "," +
           (o.media_exposure_id != 0 ? std::to_string(o.media_exposure_id) : "") + "\r\n";
  }
  return out;
}

}  // namespace

void register_order_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                           Reader& reader) {
  router.add("GET", "/api/streams/{id}/orders", [manager = realtime::stream_manager(access, streams),
                                                 &reader](const HttpRequest& req) {
    if (auto refused = manager(req)) return *refused;
    auto fmt = req.query.find("format");
    const bool csv = fmt != req.query.end() && fmt->second == "csv";
    return answer_from_reader(reader, [id = req.params.at("id"), csv](store::Store& store) {
      std::vector<commerce::Order> orders;
      if (auto st = store.list_orders(id, orders); !st) {
        log::error("orders_not_read").kv("stream", id).kv("reason", st.message());
        return HttpResponse::error(500, "internal", "could not read the orders: " + st.message());
      }
      if (csv) {
        HttpResponse r = HttpResponse::text(200, orders_csv(orders), "text/csv; charset=utf-8");
        r.headers.emplace_back("Content-Disposition", "attachment; filename=\"orders-" + id + ".csv\"");
        return r;
      }
      json list = json::array();
      for (const auto& o : orders) list.push_back(realtime::order_json(o));
      return HttpResponse::json(200, json{{"stream", id}, {"count", orders.size()}, {"orders", list}}.dump());
    });
  });
}

}  // namespace harvest::api

#include "api/orders.h"

#include <map>
#include <nlohmann/json.hpp>

#include "commerce/origin_json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/tokens.h"
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

// Text parts joined by `sep`, skipping empty ones.
std::string joined(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out += sep;
    out += part;
  }
  return out;
}

// The origin columns of a row: where the goods of the order come from, as the catalog says now
// (a farmer ships from the record the buyer saw on the sheet).
std::string origin_csv(const commerce::Origin* o) {
  if (o == nullptr) return ",,,,,";
  return csv_text(o->farm) + "," +
         csv_text(joined({o->place.county, o->place.township, o->place.village}, " ")) + "," +
         csv_text(o->harvest_date) + "," + csv_text(o->method) + "," +
         csv_text(joined(o->certificates, "; ")) + "," + csv_text(o->trace_code);
}

const commerce::Origin* origin_of(const std::map<std::string, commerce::Origin>& origins,
                                  const std::string& product_id) {
  const auto it = origins.find(product_id);
  return it != origins.end() ? &it->second : nullptr;
}

std::string orders_csv(const std::vector<commerce::Order>& orders,
                       const std::map<std::string, commerce::Origin>& origins) {
  std::string out =
      "order_id,stream,viewer_id,idempotency_key,product_id,qty,unit_price,total,currency,media_time,"
      "card_product_id,media_card_product_id,sale_id,server_time,replay_session,media_exposure_id,"
      "status,pay_by,payment,name,phone,address,carrier,tracking,reason,flag,"
      "origin_farm,origin_place,origin_harvest_date,origin_method,origin_certificates,origin_trace_code\r\n";
  for (const auto& o : orders) {
    out += std::to_string(o.id) + "," + csv_text(o.stream_id) + "," + csv_text(o.viewer_id) + "," +
           csv_text(o.idempotency_key) + "," + csv_text(o.product_id) + "," + std::to_string(o.qty) + "," +
           std::to_string(o.unit_price) + "," + std::to_string(o.total) + "," + csv_text(o.currency) + "," +
           (o.media_time ? json(*o.media_time).dump() : std::string()) + "," + csv_text(o.card_product_id) +
           "," + csv_text(o.media_card_product_id) + "," + csv_text(o.sale_id) + "," +
           std::to_string(o.server_time_ms) + "," + csv_text(o.replay_session) + "," +
           (o.media_exposure_id != 0 ? std::to_string(o.media_exposure_id) : "") + "," +
           commerce::status_name(o.status) + "," + (o.pay_by_ms != 0 ? std::to_string(o.pay_by_ms) : "") +
           "," + csv_text(o.payment) + "," + csv_text(o.contact.name) + "," + csv_text(o.contact.phone) +
           "," + csv_text(o.contact.address) + "," + csv_text(o.carrier) + "," + csv_text(o.tracking) + "," +
           csv_text(o.reason) + "," + csv_text(o.flag) + "," + origin_csv(origin_of(origins, o.product_id)) +
           "\r\n";
  }
  return out;
}

// Who calls an order route: a buyer (their buyer token), a host or the admin. Anyone else is
// refused from the request head, before a body is read.
struct Caller {
  Identity identity;
  std::string buyer_id;  // when a buyer token was presented
};

Caller order_caller(const AccessConfig& access, const HttpRequest& req) {
  Caller c;
  if (auto buyer = tokens::verify_buyer_token(access.token_secret, req.bearer_token())) {
    c.buyer_id = *buyer;
    return c;
  }
  c.identity = realtime::caller_of(access, req);
  return c;
}

realtime::HeadCheck buyer_or_staff(const AccessConfig& access) {
  return [&access](const HttpRequest& req) -> std::optional<HttpResponse> {
    const Caller c = order_caller(access, req);
    if (c.buyer_id.empty() && c.identity.role == Role::viewer)
      return HttpResponse::error(401, "unauthorized",
                                 "a buyer token (welcome.buyer_token), a host token, the show's farmer or the admin token is required");
    return std::nullopt;
  };
}

std::string text_field(const json& body, const char* name) {
  auto it = body.find(name);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

HttpResponse transition_answer(const commerce::Transition& t, realtime::SellingDesk& selling) {
  if (t.ok) return HttpResponse::json(200, selling.order_view(t.after).dump());
  json body{{"error", t.code}, {"message", t.message}};
  if (t.http_status == 409) body["status"] = commerce::status_name(t.after.status);
  return HttpResponse::json(t.http_status, body.dump());
}

}  // namespace

void register_order_lifecycle_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                                     realtime::SellingDesk& selling) {
  using commerce::OrderChange;
  commerce::CommerceService& commerce = selling.commerce();

  router.add("GET", "/api/me/orders", [&access, &commerce, &selling](const HttpRequest& req) {
    const auto buyer = tokens::verify_buyer_token(access.token_secret, req.bearer_token());
    if (!buyer) return HttpResponse::error(401, "unauthorized", "your buyer token is required (welcome.buyer_token)");
    json list = json::array();
    for (const commerce::Order* o : commerce.orders_of(*buyer)) list.push_back(selling.order_view(*o));
    return HttpResponse::json(200, json{{"orders", list}}.dump());
  });

  // Each change is one route; who may make it is decided by the lifecycle (the buyer checks
  // out and cancels before payment; hosts and the admin do the rest), after a check here that
  // the caller is this order's buyer or manages its stream. Someone else's order is a 404: a
  // buyer learns nothing about orders that are not theirs.
  struct Route {
    const char* name;
    OrderChange::Kind kind;
  };
  for (const Route& route : {Route{"checkout", OrderChange::Kind::checkout}, Route{"cancel", OrderChange::Kind::cancel},
                             Route{"paid", OrderChange::Kind::paid}, Route{"ship", OrderChange::Kind::ship},
                             Route{"deliver", OrderChange::Kind::deliver}, Route{"refund", OrderChange::Kind::refund}}) {
    router.add("POST", std::string("/api/orders/{id}/") + route.name, {.check = buyer_or_staff(access)},
               [&access, &streams, &commerce, &selling, kind = route.kind](const HttpRequest& req) {
      int64_t order_id = 0;
      try {
        order_id = std::stoll(req.params.at("id"));
      } catch (...) {
        return HttpResponse::error(404, "not_found", "no such order");
      }
      const commerce::Order* order = commerce.find_order(order_id);
      const Caller caller = order_caller(access, req);
      const bool buyer = order != nullptr && !caller.buyer_id.empty() && caller.buyer_id == order->viewer_id;
      const StreamState* stream = order != nullptr ? streams.find(order->stream_id) : nullptr;
      const bool staff = stream != nullptr && caller.identity.may_manage(stream->record);
      if (!buyer && !staff) return HttpResponse::error(404, "not_found", "no such order");
      json body = json::object();
      if (!req.body.empty()) {
        body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
        if (body.is_discarded() || !body.is_object())
          return HttpResponse::error(400, "bad_json", "the body must be a JSON object");
      }
      OrderChange change;
      change.kind = kind;
      change.actor = staff ? commerce::Actor::host : commerce::Actor::buyer;
      change.now_ms = now_ms();
      change.contact = {text_field(body, "name"), text_field(body, "phone"), text_field(body, "address")};
      change.payment = text_field(body, "payment");
      change.carrier = text_field(body, "carrier");
      change.tracking = text_field(body, "tracking");
      change.reason = text_field(body, "reason");
      return HttpResponse::later([&commerce, &selling, order_id, change](realtime::HttpReply reply) {
        commerce.change_order(order_id, change, [&selling, reply](const commerce::Transition& t) {
          reply(transition_answer(t, selling));
        });
      });
    });
  }

  // The payment service's notification. Signed over the raw body; nothing is read from it
  // before the signature matches. Answered once the payment (or its refusal) is durable, so a
  // service that sees no 2xx sends it again and the payment id makes the repeat harmless.
  router.add("POST", "/api/payments/notify", [&commerce](const HttpRequest& req) {
    const std::string& secret = commerce.options().payment_secret;
    if (secret.empty())
      return HttpResponse::error(404, "not_found", "online payment is not set up on this server (--payment-secret)");
    if (!commerce::signature_matches(secret, req.body, req.header("x-signature"))) {
      log::warn("payment_notice_bad_signature").kv("peer", req.peer);
      metrics().payment_notices.add("bad_signature");
      return HttpResponse::error(401, "bad_signature", "X-Signature is not the HMAC-SHA256 of the body");
    }
    commerce::NoticeParse parsed = commerce::parse_payment_notice(req.body);
    if (!parsed.notice) {
      metrics().payment_notices.add("invalid");
      return HttpResponse::error(400, "invalid", parsed.error);
    }
    return HttpResponse::later([&commerce, notice = *parsed.notice](realtime::HttpReply reply) {
      commerce.take_payment(notice, now_ms(), [reply](const commerce::PaymentAnswer& a) {
        json body = json::object();
        if (a.http_status >= 300) {
          body = {{"error", a.code}, {"message", a.message}};
        } else {
          body = {{"outcome", a.outcome}, {"repeated", a.repeated}, {"message", a.message}};
          if (a.order) body["status"] = commerce::status_name(a.order->status);
        }
        reply(HttpResponse::json(a.http_status, body.dump()));
      });
    });
  });

}

void register_order_routes(Router& router, StreamRegistry& streams, const AccessConfig& access, Reader& reader) {
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
      // The catalog's origin records, by product id (products without one are left out).
      std::vector<commerce::Product> products;
      if (auto st = store.list_products(id, products); !st) {
        log::error("products_not_read").kv("stream", id).kv("reason", st.message());
        return HttpResponse::error(500, "internal", "could not read the catalog: " + st.message());
      }
      std::map<std::string, commerce::Origin> origins;
      for (auto& p : products)
        if (!p.origin.empty()) origins.emplace(p.id, std::move(p.origin));
      if (csv) {
        HttpResponse r = HttpResponse::text(200, orders_csv(orders, origins), "text/csv; charset=utf-8");
        r.headers.emplace_back("Content-Disposition", "attachment; filename=\"orders-" + id + ".csv\"");
        return r;
      }
      json list = json::array();
      for (const auto& o : orders) {
        json row = realtime::order_json(o);
        if (const commerce::Origin* origin = origin_of(origins, o.product_id))
          row["origin"] = commerce::origin_json(*origin);
        list.push_back(std::move(row));
      }
      return HttpResponse::json(200, json{{"stream", id}, {"count", orders.size()}, {"orders", list}}.dump());
    });
  });
}

}  // namespace harvest::api

#include "realtime/commerce_api.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/metrics.h"
#include "realtime/protocol.h"
#include "realtime/report.h"
#include "realtime/route_checks.h"

namespace harvest::realtime {
namespace {

using nlohmann::json;

int64_t now_s() { return now_ms() / 1000; }

bool is_int_in(const json& v, int64_t min, int64_t max) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    return u <= static_cast<uint64_t>(max) && static_cast<int64_t>(u) >= min;
  }
  if (v.is_number_integer()) return v.get<int64_t>() >= min && v.get<int64_t>() <= max;
  return false;
}

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
           (o.media_time ? json(*o.media_time).dump() : std::string()) + "," + csv_text(o.card_product_id) + "," +
           csv_text(o.media_card_product_id) + "," + csv_text(o.sale_id) + "," + std::to_string(o.server_time_ms) + "," +
           csv_text(o.replay_session) + "," + (o.media_exposure_id != 0 ? std::to_string(o.media_exposure_id) : "") +
           "\r\n";
  }
  return out;
}

std::string label_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void counter(std::string& out, const std::string& name, const std::string& help, const std::string& type,
             const std::string& value) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + value + "\n";
}

// Ingest: live publishers, bytes, frames, publishes, refusals and segments, per protocol.
void render_ingest_metrics(std::string& out, const std::vector<const StreamState*>& all) {
  auto& m = metrics();
  const std::pair<const char*, const IngestCounters*> protocols[] = {{"rtmp", &m.ingest_rtmp}, {"srt", &m.ingest_srt}};
  auto family = [&out](const char* name, const char* help, const char* type) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  family("harvest_ingest_streams_live", "Streams with a publisher connected now, by protocol.", "gauge");
  for (const auto& [protocol, c] : protocols) {
    int64_t n = 0;
    for (const auto* s : all)
      if (s->live && s->ingest.is_object() && s->ingest.value("protocol", "") == protocol &&
          !s->ingest.value("waiting_for_publisher", false))
        ++n;
    out += std::string("harvest_ingest_streams_live{protocol=\"") + protocol + "\"} " + std::to_string(n) + "\n";
  }
  auto per_protocol = [&](const char* name, const char* help, std::atomic<uint64_t> IngestCounters::*field) {
    family(name, help, "counter");
    for (const auto& [protocol, c] : protocols)
      out += std::string(name) + "{protocol=\"" + protocol + "\"} " + std::to_string((c->*field).load()) + "\n";
  };
  per_protocol("harvest_ingest_bytes_total", "Media bytes received from publishers.", &IngestCounters::bytes_in);
  family("harvest_ingest_frames_total", "Frames received into the stream pipelines.", "counter");
  for (const auto& [protocol, c] : protocols) {
    out += std::string("harvest_ingest_frames_total{protocol=\"") + protocol + "\",kind=\"video\"} " +
           std::to_string(c->video_frames_in.load()) + "\n";
    out += std::string("harvest_ingest_frames_total{protocol=\"") + protocol + "\",kind=\"audio\"} " +
           std::to_string(c->audio_frames_in.load()) + "\n";
  }
  per_protocol("harvest_ingest_publishes_total", "Publishers accepted.", &IngestCounters::publishes);
  per_protocol("harvest_ingest_takeovers_total", "Publishers accepted by taking over a stalled one.",
               &IngestCounters::takeovers);
  per_protocol("harvest_ingest_segments_total", "Passthrough HLS segments written.", &IngestCounters::segments);
  per_protocol("harvest_ingest_segments_cut_early_total",
               "Of those, cut as the keyframe after them came in, before it crossed the pipeline.",
               &IngestCounters::segments_cut_early);
  family("harvest_ingest_refused_total", "Publishers refused, by protocol and reason.", "counter");
  for (const auto& [label, n] : m.ingest_refused.snapshot()) {
    const auto slash = label.find('/');
    out += "harvest_ingest_refused_total{protocol=\"" + label_escape(label.substr(0, slash)) + "\",reason=\"" +
           label_escape(slash == std::string::npos ? "" : label.substr(slash + 1)) + "\"} " + std::to_string(n) + "\n";
  }
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

void register_commerce_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                              RoomService& rooms, store::Store& store,
                              const commerce::ExposureTimeline* exposures) {
  router.add("GET", "/api/streams/{id}/products", [&streams, &rooms](const HttpRequest& req) {
    const std::string& id = req.params.at("id");
    if (streams.find(id) == nullptr) return HttpResponse::error(404, "not_found", "no such stream");
    return HttpResponse::json(200, json{{"stream", id}, {"products", rooms.products_json(id)}}.dump());
  });

  router.add("PUT", "/api/streams/{id}/products", {.check = stream_manager(access, streams)}, [&rooms](const HttpRequest& req) {
    const std::string& id = req.params.at("id");
    std::vector<commerce::Product> products;
    if (auto err = parse_catalog(req.body, products); !err.empty()) return HttpResponse::error(400, "invalid", err);
    if (auto st = rooms.replace_catalog(id, std::move(products)); !st)
      return HttpResponse::error(500, "internal", "could not store the catalog");
    return HttpResponse::json(200, json{{"stream", id}, {"products", rooms.products_json(id)}}.dump());
  });

  router.add("GET", "/api/streams/{id}/orders", [&streams, &access, &store](const HttpRequest& req) {
    const std::string& id = req.params.at("id");
    if (streams.find(id) == nullptr) return HttpResponse::error(404, "not_found", "no such stream");
    if (!identify(access, req.bearer_token(), now_s()).may_manage(id))
      return HttpResponse::error(401, "unauthorized", "the host token of this stream (or the admin token) is required");
    const auto orders = store.list_orders(id);
    auto fmt = req.query.find("format");
    if (fmt != req.query.end() && fmt->second == "csv") {
      HttpResponse r = HttpResponse::text(200, orders_csv(orders), "text/csv; charset=utf-8");
      r.headers.emplace_back("Content-Disposition", "attachment; filename=\"orders-" + id + ".csv\"");
      return r;
    }
    json list = json::array();
    for (const auto& o : orders) list.push_back(order_json(o));
    return HttpResponse::json(200, json{{"stream", id}, {"count", orders.size()}, {"orders", list}}.dump());
  });

  router.add("GET", "/api/streams/{id}/report", [&streams, &access, &store, &rooms, exposures](const HttpRequest& req) {
    const std::string& id = req.params.at("id");
    const StreamState* s = streams.find(id);
    if (s == nullptr) return HttpResponse::error(404, "not_found", "no such stream");
    if (!identify(access, req.bearer_token(), now_s()).may_manage(id))
      return HttpResponse::error(401, "unauthorized", "the host token of this stream (or the admin token) is required");
    ReportInput in;
    in.stream_id = id;
    in.orders = store.list_orders(id);
    if (exposures != nullptr) in.exposures = exposures->exposures(id);
    in.catalog = rooms.products_json(id);
    in.viewers = s->viewers;
    in.peak_viewers = s->peak_viewers;
    in.peak_viewers_by_minute = rooms.peak_viewers_by_minute(id);
    const json out = build_report(in);
    return HttpResponse::json(200, out.dump());
  });

  router.add("GET", "/metrics", [&streams, &rooms, &access](const HttpRequest& req) {
    auto& m = metrics();
    std::string out;
    const auto all = streams.all();
    int64_t live = 0, viewers = 0;
    for (const auto* s : all) {
      live += s->live ? 1 : 0;
      viewers += s->viewers;
    }
    counter(out, "harvest_streams", "Streams known to this server.", "gauge", std::to_string(all.size()));
    counter(out, "harvest_streams_live", "Streams with a publisher.", "gauge", std::to_string(live));
    counter(out, "harvest_viewers", "Websocket connections in rooms, all streams.", "gauge", std::to_string(viewers));
    out += "# HELP harvest_stream_viewers Websocket connections in the stream's room.\n"
           "# TYPE harvest_stream_viewers gauge\n";
    for (const auto* s : all)
      out += "harvest_stream_viewers{stream=\"" + label_escape(s->record.id) + "\"} " + std::to_string(s->viewers) + "\n";
    out += "# HELP harvest_ingest_bitrate_bps Ingest bitrate per live stream.\n"
           "# TYPE harvest_ingest_bitrate_bps gauge\n";
    for (const auto* s : all)
      if (s->ingest.contains("bitrate_bps") && s->ingest["bitrate_bps"].is_number())
        out += "harvest_ingest_bitrate_bps{stream=\"" + label_escape(s->record.id) + "\"} " +
               s->ingest["bitrate_bps"].dump() + "\n";
    out += "# HELP harvest_ingest_loss_pct Ingest packet loss per live stream (percent).\n"
           "# TYPE harvest_ingest_loss_pct gauge\n";
    for (const auto* s : all)
      if (s->ingest.contains("loss_pct") && s->ingest["loss_pct"].is_number())
        out += "harvest_ingest_loss_pct{stream=\"" + label_escape(s->record.id) + "\"} " +
               s->ingest["loss_pct"].dump() + "\n";
    render_ingest_metrics(out, all);
    // Of the current publisher session (a reconnect starts again at 0, as counters may).
    for (const auto& [key, help] : {std::pair<const char*, const char*>{"encoded", "Frames the burned-in rendition encoded."},
                                    {"dropped", "Frames the burned-in rendition dropped (encoder or decoder behind)."}}) {
      out += std::string("# HELP harvest_burned_frames_") + key + "_total " + help + "\n# TYPE harvest_burned_frames_" + key +
             "_total counter\n";
      for (const auto* s : all)
        if (s->ingest.contains("burned") && s->ingest["burned"].contains(key))
          out += std::string("harvest_burned_frames_") + key + "_total{stream=\"" + label_escape(s->record.id) + "\"} " +
                 s->ingest["burned"][key].dump() + "\n";
    }
    counter(out, "harvest_orders_confirmed_total", "Orders confirmed (durable).", "counter",
            std::to_string(m.orders_confirmed.load()));
    out += "# HELP harvest_orders_rejected_total Buy requests rejected, by reason.\n"
           "# TYPE harvest_orders_rejected_total counter\n";
    for (const auto& [reason, n] : m.orders_rejected.snapshot())
      out += "harvest_orders_rejected_total{reason=\"" + label_escape(reason) + "\"} " + std::to_string(n) + "\n";
    // Money is the operator's business: GMV only with the admin token (as the report needs one).
    if (identify(access, req.bearer_token(), now_s()).role == Role::admin)
      counter(out, "harvest_gmv_fen_total", "Gross merchandise value of confirmed orders (fen, all currencies).",
              "counter", std::to_string(m.gmv_fen.load()));
    render_http_metrics(out);
    counter(out, "harvest_ws_connections", "Open websocket connections.", "gauge",
            std::to_string(rooms.connection_count()));
    counter(out, "harvest_ws_messages_in_total", "Websocket messages received.", "counter",
            std::to_string(m.ws_messages_in.load()));
    counter(out, "harvest_ws_messages_out_total", "Websocket messages delivered to sockets.", "counter",
            std::to_string(m.ws_messages_out.load()));
    counter(out, "harvest_ws_frames_out_total", "Websocket frames written (batching packs several messages).",
            "counter", std::to_string(m.ws_frames_out.load()));
    counter(out, "harvest_ws_superseded_dropped_total",
            "Superseding updates (stock, purchase, viewers) replaced or dropped under back-pressure.", "counter",
            std::to_string(m.ws_dropped_superseded.load()));
    counter(out, "harvest_ws_slow_disconnects_total", "Connections closed for not reading.", "counter",
            std::to_string(m.ws_slow_disconnects.load()));
    m.fanout_latency_s.render(out, "harvest_fanout_latency_seconds",
                              "Time from queueing a websocket message to writing it to the socket.");
    m.store_group_size.render(out, "harvest_store_commit_group_size", "Orders per group commit.");
    m.store_commit_latency_s.render(out, "harvest_store_commit_seconds", "Duration of one group commit (with fsync).");
    m.order_ack_latency_s.render(out, "harvest_order_durable_seconds",
                                 "Time from accepting an order to its durable acknowledgement.");
    return HttpResponse::text(200, out, "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace harvest::realtime

#include "realtime/messages.h"

#include "commerce/origin_json.h"

namespace harvest::realtime {

using nlohmann::json;

namespace {
template <typename T>
json or_null(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}
json text_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
}  // namespace

json order_json(const commerce::Order& o) {
  const auto ms_or_null = [](int64_t ms) { return ms == 0 ? json(nullptr) : json(ms); };
  json contact = nullptr;
  if (!o.contact.empty())
    contact = {{"name", o.contact.name}, {"phone", o.contact.phone}, {"address", o.contact.address}};
  return {{"order_id", o.id},
          {"stream", o.stream_id},
          {"viewer_id", o.viewer_id},
          {"idempotency_key", o.idempotency_key},
          {"product_id", o.product_id},
          {"qty", o.qty},
          {"unit_price", o.unit_price},
          {"total", o.total},
          {"currency", o.currency},
          {"media_time", or_null(o.media_time)},
          {"card_product_id", text_or_null(o.card_product_id)},
          {"media_card_product_id", text_or_null(o.media_card_product_id)},
          {"sale_id", text_or_null(o.sale_id)},
          {"server_time", o.server_time_ms},
          {"replay_session", text_or_null(o.replay_session)},
          {"media_exposure_id", o.media_exposure_id == 0 ? json(nullptr) : json(o.media_exposure_id)},
          {"status", commerce::status_name(o.status)},
          {"pay_by", ms_or_null(o.pay_by_ms)},
          {"payment", text_or_null(o.payment)},
          {"contact", contact},
          {"carrier", o.carrier},
          {"tracking", o.tracking},
          {"reason", o.reason},
          {"flag", text_or_null(o.flag)},
          {"updated_at", ms_or_null(o.updated_at_ms)},
          {"paid_at", ms_or_null(o.paid_at_ms)},
          {"shipped_at", ms_or_null(o.shipped_at_ms)},
          {"delivered_at", ms_or_null(o.delivered_at_ms)}};
}

json order_view_json(const commerce::Order& o, const commerce::Product* product) {
  json j = order_json(o);
  j["title"] = product != nullptr ? product->title : o.product_id;
  j["image"] = product != nullptr ? product->image : std::string();
  return j;
}

json product_json(const commerce::Product& p) {
  json j = {{"id", p.id},       {"title", p.title}, {"price", p.price}, {"currency", p.currency},
            {"image", p.image}, {"stock", p.stock}, {"sold", p.sold}};
  // Only when the farmer said something: most catalogs have none, and welcome stays small.
  if (!p.origin.empty()) j["origin"] = commerce::origin_json(p.origin);
  return j;
}

json products_json(const std::vector<commerce::Product>& products) {
  json list = json::array();
  for (const auto& p : products) list.push_back(product_json(p));
  return list;
}

json sale_json(const std::string& type, const commerce::FlashSale& s, int64_t server_time_ms) {
  json j = {{"sale_id", s.id},
            {"product_id", s.product_id},
            {"price", s.price},
            {"quantity", s.quantity},
            {"per_buyer_limit", s.per_buyer_limit},
            {"started_at", s.started_at_ms},
            {"ends_at", s.ends_at_ms},
            {"sold", s.sold},
            {"left", s.quantity - s.sold},
            {"server_time", server_time_ms}};
  if (!type.empty()) j["type"] = type;
  if (s.ended) j["reason"] = s.end_reason;
  return j;
}

json card_json(const std::optional<show::Card>& card) {
  if (!card) return json::object();
  const show::Card& c = *card;
  json j = {{"title", c.title}, {"price", c.price}, {"currency", c.currency},
            {"image", c.image}, {"stock", c.stock}, {"sold", c.sold}};
  if (c.sale) {
    j["sale_id"] = c.sale->id;
    j["sale_price"] = c.sale->price;
    j["sale_ends_at"] = c.sale->ends_at_ms;
    j["sale_left"] = c.sale->left;
  }
  return j;
}

json card_change_json(const show::CardEvent& ev, std::optional<double> pts,
                      std::optional<std::string> program_date_time, bool amended) {
  json j = {{"type", ev.shown ? "card.shown" : "card.hidden"},
            {"product_id", ev.product_id},
            {"slot", ev.slot},
            {"change_id", ev.change_id},
            {"card", card_json(ev.card)},
            {"server_time", ev.server_time_ms},
            {"pts", or_null(pts)},
            {"program_date_time", or_null(program_date_time)}};
  if (amended) j["amended"] = true;
  return j;
}

json visible_card_json(const show::VisibleCard& vc, const std::optional<show::Card>& contents) {
  return {{"product_id", vc.product_id},
          {"slot", vc.slot},
          {"change_id", vc.change_id},
          {"card", card_json(contents)},
          {"server_time", vc.shown_at_ms},
          {"pts", or_null(vc.pts)},
          {"program_date_time", or_null(vc.program_date_time)}};
}

json health_json(const StreamState& s) {
  const json& in = s.ingest;
  auto num = [&in](const char* k) { return in.contains(k) && in[k].is_number() ? in[k] : json(nullptr); };
  auto str = [&in](const char* k) { return in.contains(k) && in[k].is_string() ? in[k] : json(nullptr); };
  return {{"type", "stream.health"},
          {"stream", s.record.id},
          {"status", s.live ? "live" : "offline"},
          {"live", s.live},
          {"live_since", s.live ? json(s.live_since_ms) : json(nullptr)},
          {"protocol", str("protocol")},
          {"video_codec", str("video_codec")},
          {"width", num("width")},
          {"height", num("height")},
          {"fps", num("fps")},
          {"bitrate_bps", num("bitrate_bps")},
          {"rtt_ms", num("rtt_ms")},
          {"loss_pct", num("loss_pct")},
          // The burned-in rendition: frames_in, encoded, dropped, drop_pct, ladder[] per rung
          // (null without one).
          {"burned", in.is_object() && in.contains("burned") ? in["burned"] : json(nullptr)},
          {"ingest", in.is_object() ? in : json::object()},
          {"viewers", s.viewers},
          {"server_time", now_ms()}};
}

json re_value(const std::string& id_json) {
  if (id_json.empty()) return nullptr;
  return json::parse(id_json, nullptr, false);
}

}  // namespace harvest::realtime

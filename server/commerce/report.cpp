#include "commerce/report.h"

#include <algorithm>
#include <limits>
#include <set>

namespace harvest::commerce {
namespace {

using nlohmann::json;

struct Tally {
  int64_t orders = 0;
  int64_t units = 0;
  int64_t gmv = 0;
  void add(const Order& o) {
    ++orders;
    units += o.qty;
    gmv += o.total;
  }
  json to_json() const { return {{"orders", orders}, {"units", units}, {"gmv", gmv}}; }
};

json id_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

}  // namespace

bool is_sale(const Order& o) {
  return o.status != OrderStatus::cancelled && o.status != OrderStatus::expired && o.status != OrderStatus::refunded;
}

int64_t unique_viewers_at_least_buyers(int64_t tracked, int64_t buyers) { return std::max(tracked, buyers); }

json conversion(int64_t buyers, int64_t unique_viewers) {
  if (unique_viewers <= 0) return nullptr;
  return static_cast<double>(buyers) / static_cast<double>(unique_viewers);
}

json build_report(const ReportInput& in) {
  // Sales are orders that still stand: a cancelled, expired or refunded order sold nothing
  // (it is counted apart, by_status, so the farmer sees what was lost).
  std::vector<Order> orders;
  std::map<std::string, Tally> by_status;
  for (const auto& o : in.orders) {
    by_status[status_name(o.status)].add(o);
    if (is_sale(o)) orders.push_back(o);
  }
  Tally total, live, replay, unattributed;
  std::map<std::string, Tally> by_product, by_card, by_media_card, by_sale, by_replay;
  std::map<int64_t, Tally> by_exposure_media, by_exposure_media_live, by_exposure_media_replay;
  struct Minute {
    Tally all, live, replay;
  };
  std::map<int64_t, Minute> minutes;
  std::set<std::string> buyers;
  std::map<std::string, std::set<std::string>> product_buyers;
  for (const auto& o : orders) {
    total.add(o);
    buyers.insert(o.viewer_id);
    by_product[o.product_id].add(o);
    product_buyers[o.product_id].insert(o.viewer_id);
    by_card[o.card_product_id].add(o);
    if (o.media_time) by_media_card[o.media_card_product_id].add(o);
    if (!o.sale_id.empty()) by_sale[o.sale_id].add(o);
    const bool is_replay = !o.replay_session.empty();
    (is_replay ? replay : live).add(o);
    if (is_replay) by_replay[o.replay_session].add(o);
    if (o.media_exposure_id != 0) {
      by_exposure_media[o.media_exposure_id].add(o);
      (is_replay ? by_exposure_media_replay : by_exposure_media_live)[o.media_exposure_id].add(o);
    } else if (o.media_time) {
      unattributed.add(o);
    }
    Minute& m = minutes[o.server_time_ms / 60000 * 60000];
    m.all.add(o);
    (is_replay ? m.replay : m.live).add(o);
  }

  auto title_of = [&in](const std::string& pid) {
    for (const auto& p : in.catalog)
      if (p.id == pid) return json(p.title);
    return json(nullptr);
  };

  json products = json::array(), cards = json::array(), media_cards = json::array(), sales = json::array(),
       replays = json::array();
  for (const auto& [pid, t] : by_product) {
    json j = t.to_json();
    j["product_id"] = pid;
    j["title"] = title_of(pid);
    j["buyers"] = product_buyers[pid].size();
    products.push_back(j);
  }
  for (const auto& [pid, t] : by_card) {
    json j = t.to_json();
    j["card_product_id"] = id_or_null(pid);
    cards.push_back(j);
  }
  for (const auto& [pid, t] : by_media_card) {
    json j = t.to_json();
    j["card_product_id"] = id_or_null(pid);
    media_cards.push_back(j);
  }
  for (const auto& [sid, t] : by_sale) {
    json j = t.to_json();
    j["sale_id"] = sid;
    sales.push_back(j);
  }
  for (const auto& [session, t] : by_replay) {
    json j = t.to_json();
    j["replay_session"] = session;
    replays.push_back(j);
  }

  // Per exposure. By media_time: the orders whose buyer's playback position fell inside it
  // (decided when the order was taken; recorded as media_exposure_id). By server time: live
  // orders accepted while its card was the room's card, between its shown and hidden PDT.
  json exposures = json::array();
  for (const auto& e : in.exposures) {
    const int64_t from = e.shown_pdt_ms;
    const int64_t to = e.hidden_pdt_ms ? *e.hidden_pdt_ms : std::numeric_limits<int64_t>::max();
    Tally server;
    for (const auto& o : orders) {
      if (o.replay_session.empty() && o.card_product_id == e.product_id && o.server_time_ms >= from &&
          o.server_time_ms < to)
        server.add(o);
    }
    auto tally_of = [](const std::map<int64_t, Tally>& m, int64_t id) {
      auto it = m.find(id);
      return it == m.end() ? Tally{} : it->second;
    };
    json media = tally_of(by_exposure_media, e.id).to_json();
    media["live"] = tally_of(by_exposure_media_live, e.id).to_json();
    media["replay"] = tally_of(by_exposure_media_replay, e.id).to_json();
    exposures.push_back(
        {{"exposure_id", e.id},
         {"product_id", e.product_id},
         {"title", title_of(e.product_id)},
         {"session", e.session_id},
         {"change_id", e.change_id},
         {"shown_pts", e.shown_pts},
         {"hidden_pts", e.hidden_pts ? json(*e.hidden_pts) : json(nullptr)},
         {"shown_pdt_ms", e.shown_pdt_ms},
         {"hidden_pdt_ms", e.hidden_pdt_ms ? json(*e.hidden_pdt_ms) : json(nullptr)},
         {"duration_s", e.hidden_pts ? json(*e.hidden_pts - e.shown_pts) : json(nullptr)},
         {"open", !e.hidden_pts.has_value()},
         {"by_media_time", media},
         {"by_server_time", server.to_json()}});
  }

  // Per wall-clock minute (server time of acceptance), with the room's peak connections.
  for (const auto& [minute, peak] : in.peak_viewers_by_minute) minutes[minute];
  json per_minute = json::array();
  for (const auto& [minute, m] : minutes) {
    json j = m.all.to_json();
    j["minute"] = minute;
    j["live"] = m.live.to_json();
    j["replay"] = m.replay.to_json();
    auto pit = in.peak_viewers_by_minute.find(minute);
    j["peak_viewers"] = pit == in.peak_viewers_by_minute.end() ? json(nullptr) : json(pit->second);
    per_minute.push_back(j);
  }

  const int64_t unique_viewers =
      unique_viewers_at_least_buyers(in.unique_viewers, static_cast<int64_t>(buyers.size()));
  return {{"stream", in.stream_id},
          {"currency", orders.empty() ? "CNY" : orders.front().currency},
          {"by_status", [&] {
             json j = json::object();
             for (const auto& [status, tally] : by_status) j[status] = tally.to_json();
             return j;
           }()},
          {"gmv", total.gmv},
          {"orders", total.orders},
          {"units", total.units},
          {"live", live.to_json()},
          {"replay", replay.to_json()},
          {"by_replay_session", replays},
          {"by_product", products},
          {"by_card", cards},
          {"by_card_at_media_time", media_cards},
          {"by_sale", sales},
          {"by_exposure", exposures},
          {"unattributed_media_time", unattributed.to_json()},
          {"by_minute", per_minute},
          {"viewers", in.viewers},
          {"peak_viewers", in.peak_viewers},
          {"buyers", buyers.size()},
          {"unique_viewers", unique_viewers},
          {"unique_viewers_capped", in.unique_viewers_capped},
          {"conversion", conversion(static_cast<int64_t>(buyers.size()), unique_viewers)}};
}

}  // namespace harvest::commerce

#include "realtime/rooms.h"

#include <algorithm>
#include <cstdlib>
#include <functional>

#include "core/json_writer.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/tokens.h"

namespace harvest::realtime {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {
// Chat messages a newcomer gets in its welcome.
constexpr size_t kRecentChat = 20;

double env_double(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const double d = std::strtod(v, &end);
  return (end != v && d > 0) ? d : fallback;
}

uint64_t supersede_key(std::string_view kind, std::string_view product_id) {
  return std::hash<std::string_view>{}(kind) * 31 + std::hash<std::string_view>{}(product_id);
}

// "买家 ab**": a buyer other viewers can tell apart without learning their id.
std::string masked_buyer(const std::string& viewer_id) { return "买家 " + viewer_id.substr(0, 2) + "**"; }

std::string chat_name(const Identity& who, const std::string& viewer_id) {
  if (who.role == Role::host) return "主播";
  if (who.role == Role::admin) return "管理员";
  return "观众 " + viewer_id.substr(0, 4);
}

json re_value(const std::string& id_json) {
  if (id_json.empty()) return nullptr;
  return json::parse(id_json, nullptr, false);
}

}  // namespace

RoomOptions RoomOptions::from_environment() {
  RoomOptions o;
  o.message_rate = env_double("HARVEST_WS_MESSAGE_RATE", o.message_rate);
  o.message_burst = env_double("HARVEST_WS_MESSAGE_BURST", o.message_burst);
  o.chat_rate = env_double("HARVEST_WS_CHAT_RATE", o.chat_rate);
  o.chat_burst = env_double("HARVEST_WS_CHAT_BURST", o.chat_burst);
  return o;
}

// Attribution from room state: the card on screen now (the seam's default answer).
class RoomService::RoomStateTimeline final : public commerce::CardTimeline {
public:
  explicit RoomStateTimeline(const RoomService& rooms) : rooms_(rooms) {}
  std::string card_at(const std::string& stream_id, double /*media_time*/) const override {
    return rooms_.current_card(stream_id);
  }

private:
  const RoomService& rooms_;
};

bool RoomService::TokenBucket::take(double rate, double burst, Clock::time_point now) {
  if (last == Clock::time_point{}) {
    tokens = burst;
  } else {
    tokens = std::min(burst, tokens + rate * std::chrono::duration<double>(now - last).count());
  }
  last = now;
  if (tokens < 1) return false;
  tokens -= 1;
  return true;
}

RoomService::RoomService(EventLoop& loop, HttpServer& http, StreamRegistry& streams, const AccessConfig& access,
                         commerce::CommerceService& commerce, RoomOptions options)
    : loop_(loop),
      http_(http),
      streams_(streams),
      access_(access),
      commerce_(commerce),
      options_(options),
      room_timeline_(std::make_unique<RoomStateTimeline>(*this)) {}

RoomService::~RoomService() {
  if (health_timer_ != 0) loop_.cancel(health_timer_);
}

void RoomService::start() {
  streams_.add_listener([this](const StreamState& s, StreamRegistry::Change change) {
    if (change == StreamRegistry::Change::live || change == StreamRegistry::Change::offline) send_health(s);
  });
  health_timer_ = loop_.run_after(options_.health_interval, [this] { health_tick(); });
  const int64_t now = now_ms();
  for (const StreamState* s : streams_.all()) {
    Room& r = room(s->record.id);
    for (const auto& sale : commerce_.shop(s->record.id, now).running_sales()) arm_sale_timer(r, sale);
  }
}

RoomService::Room& RoomService::room(const std::string& stream_id) {
  auto it = rooms_.find(stream_id);
  if (it != rooms_.end()) return it->second;
  Room& r = rooms_[stream_id];
  r.stream_id = stream_id;
  return r;
}

std::string RoomService::current_card(const std::string& stream_id) const {
  auto it = rooms_.find(stream_id);
  if (it == rooms_.end() || it->second.cards.empty()) return {};
  return it->second.cards.back().product_id;
}

// ---------------------------------------------------------------- connections

bool RoomService::on_open(ConnId id, const HttpRequest& upgrade) {
  Conn c;
  c.id = id;
  auto get = [&](const char* k) {
    auto it = upgrade.query.find(k);
    return it == upgrade.query.end() ? std::string() : it->second;
  };
  c.stream_id = get("stream");
  const std::string token = get("token");
  c.viewer_id = get("viewer_id");
  if (!is_token_chars(c.viewer_id, 8, 64)) c.viewer_id = "v" + tokens::random_id(15);
  if (get("batch") == "1") http_.set_batching(id, true);
  c.identity = identify(access_, token, now_ms() / 1000);
  auto [it, inserted] = conns_.emplace(id, std::move(c));
  Conn& conn = it->second;

  // Refusals are sent as an error and a close (1008) rather than a failed upgrade, so browsers
  // can show why.
  auto refuse = [&](const std::string& code, const std::string& message) {
    send_error(conn, code, message, "");
    http_.close(id, 1008, message, /*flush_first=*/true);
    conn.stream_id.clear();  // not in any room
    return true;
  };
  if (conn.stream_id.empty() || streams_.find(conn.stream_id) == nullptr)
    return refuse("invalid", "unknown stream");
  if (!conn.identity.token_problem.empty())
    return refuse("forbidden", "token " + conn.identity.token_problem);
  if (conn.identity.role == Role::host && !conn.identity.may_manage(conn.stream_id))
    return refuse("forbidden", "this host token is for another stream");
  if (auto rp = upgrade.query.find("replay"); rp != upgrade.query.end()) {
    if (!is_replay_session_id(rp->second)) return refuse("invalid", "bad replay session id");
    conn.replay_session = rp->second;
  }

  Room& r = room(conn.stream_id);
  conn.room_index = r.conns.size();
  r.conns.push_back(id);
  if (conn.replay_session.empty() && conn.identity.may_manage(conn.stream_id)) r.hosts.push_back(id);
  http_.send(id, welcome_json(conn).dump());
  mark_viewers(r);
  if (conn.replay_session.empty() && conn.identity.may_manage(conn.stream_id)) {
    if (const StreamState* s = streams_.find(conn.stream_id)) http_.send(id, health_json(*s).dump());
  }
  return true;
}

void RoomService::on_close(ConnId id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  if (!it->second.stream_id.empty()) {
    auto rit = rooms_.find(it->second.stream_id);
    if (rit != rooms_.end()) {
      Room& r = rit->second;
      const size_t idx = it->second.room_index;
      if (idx < r.conns.size() && r.conns[idx] == id) {
        r.conns[idx] = r.conns.back();
        conns_.at(r.conns[idx]).room_index = idx;
        r.conns.pop_back();
      }
      std::erase(r.hosts, id);
      mark_viewers(r);
    }
  }
  conns_.erase(it);
}

void RoomService::on_message(ConnId id, std::string_view text) {
  auto it = conns_.find(id);
  if (it == conns_.end() || it->second.stream_id.empty()) return;
  Conn& c = it->second;
  ParseResult parsed = parse_client_message(text);
  const bool is_buy = parsed.message ? parsed.message->type == ClientType::buy : parsed.error.type == "buy";
  const bool is_chat = parsed.message && parsed.message->type == ClientType::chat_send;
  if (!rate_limit(c, is_chat)) {
    const std::string& re = parsed.message ? parsed.message->id_json : parsed.error.id_json;
    if (is_buy) reject_buy(c, commerce::Rejection::rate_limited, "too many messages", re,
                           parsed.message ? parsed.message->product_id : "");
    else send_error(c, "rate_limited", "too many messages; slow down", re);
    strike(c);
    return;
  }
  if (!parsed.message) {
    if (is_buy) reject_buy(c, commerce::Rejection::invalid, parsed.error.message, parsed.error.id_json, "");
    else send_error(c, parsed.error.code, parsed.error.message, parsed.error.id_json);
    return;
  }
  handle(c, *parsed.message);
}

bool RoomService::rate_limit(Conn& c, bool chat) {
  const auto now = Clock::now();
  if (!c.messages.take(options_.message_rate, options_.message_burst, now)) return false;
  if (chat && !c.chat.take(options_.chat_rate, options_.chat_burst, now)) return false;
  return true;
}

void RoomService::strike(Conn& c) {
  const auto now = Clock::now();
  if (now - c.strike_window_start > options_.strike_window) {
    c.strike_window_start = now;
    c.strikes = 0;
  }
  if (++c.strikes >= options_.flood_strikes) {
    log::warn("ws_flood_closed").kv("stream", c.stream_id).kv("viewer", c.viewer_id);
    http_.close(c.id, 1008, "flooding", /*flush_first=*/true);
  }
}

// ---------------------------------------------------------------- output helpers

void RoomService::broadcast(Room& r, const Payload& payload, Delivery delivery, uint64_t key, ConnId except) {
  // One serialisation for everyone; a send never edits the room synchronously (a slow
  // connection that is cut off is reported closed later by the transport).
  http_.send_to_all(r.conns, payload, delivery, key, except);
}

void RoomService::reply(const Conn& c, json message, const std::string& id_json) {
  if (!id_json.empty()) message["re"] = re_value(id_json);
  http_.send(c.id, message.dump());
}

void RoomService::send_error(const Conn& c, const std::string& code, const std::string& message,
                             const std::string& id_json) {
  http_.send(c.id, JsonObject().str("type", "error").raw("re", id_json).str("code", code).str("message", message)
                       .take());
}

void RoomService::reject_buy(const Conn& c, commerce::Rejection reason, const std::string& message,
                             const std::string& id_json, const std::string& product_id) {
  metrics().orders_rejected.add(commerce::rejection_name(reason));
  JsonObject r;
  r.str("type", "order.rejected").raw("re", id_json).str("reason", commerce::rejection_name(reason))
      .str("message", message);
  if (!product_id.empty()) r.str("product_id", product_id);
  http_.send(c.id, r.take());
}

json order_json(const commerce::Order& o) {
  return {{"order_id", o.id},
          {"stream", o.stream_id},
          {"viewer_id", o.viewer_id},
          {"idempotency_key", o.idempotency_key},
          {"product_id", o.product_id},
          {"qty", o.qty},
          {"unit_price", o.unit_price},
          {"total", o.total},
          {"currency", o.currency},
          {"media_time", o.media_time ? json(*o.media_time) : json(nullptr)},
          {"card_product_id", o.card_product_id.empty() ? json(nullptr) : json(o.card_product_id)},
          {"media_card_product_id", o.media_card_product_id.empty() ? json(nullptr) : json(o.media_card_product_id)},
          {"sale_id", o.sale_id.empty() ? json(nullptr) : json(o.sale_id)},
          {"server_time", o.server_time_ms},
          {"replay_session", o.replay_session.empty() ? json(nullptr) : json(o.replay_session)},
          {"media_exposure_id", o.media_exposure_id == 0 ? json(nullptr) : json(o.media_exposure_id)}};
}

json RoomService::product_json(const commerce::Product& p) const {
  return {{"id", p.id},       {"title", p.title}, {"price", p.price}, {"currency", p.currency},
          {"image", p.image}, {"stock", p.stock}, {"sold", p.sold}};
}

json RoomService::sale_json(const std::string& type, const commerce::FlashSale& s) const {
  json j = {{"type", type},
            {"sale_id", s.id},
            {"product_id", s.product_id},
            {"price", s.price},
            {"quantity", s.quantity},
            {"per_buyer_limit", s.per_buyer_limit},
            {"started_at", s.started_at_ms},
            {"ends_at", s.ends_at_ms},
            {"sold", s.sold},
            {"left", s.quantity - s.sold},
            {"server_time", now_ms()}};
  if (s.ended) j["reason"] = s.end_reason;
  return j;
}

json RoomService::card_json(const std::string& stream_id, const std::string& product_id) {
  commerce::Shop& shop = commerce_.shop(stream_id, now_ms());
  const commerce::Product* p = shop.product(product_id);
  if (p == nullptr) return json::object();
  json card = {{"title", p->title}, {"price", p->price}, {"currency", p->currency},
               {"image", p->image}, {"stock", p->stock}, {"sold", p->sold}};
  if (const commerce::FlashSale* s = shop.running_sale_for(product_id)) {
    card["sale_id"] = s->id;
    card["sale_price"] = s->price;
    card["sale_ends_at"] = s->ends_at_ms;
    card["sale_left"] = s->quantity - s->sold;
  }
  return card;
}

json RoomService::welcome_json(const Conn& c) {
  const int64_t now = now_ms();
  commerce::Shop& shop = commerce_.shop(c.stream_id, now);
  json products = json::array();
  for (const auto& p : shop.products()) products.push_back(product_json(p));
  json cards = json::array();
  Room& r = room(c.stream_id);
  for (const auto& vc : r.cards) {
    cards.push_back({{"product_id", vc.product_id},
                     {"slot", vc.slot},
                     {"change_id", vc.change_id},
                     {"card", card_json(c.stream_id, vc.product_id)},
                     {"server_time", vc.shown_at_ms},
                     {"pts", vc.pts ? json(*vc.pts) : json(nullptr)},
                     {"program_date_time", vc.program_date_time ? json(*vc.program_date_time) : json(nullptr)}});
  }
  json sales = json::array();
  for (const auto& s : shop.running_sales()) {
    json j = sale_json("sale", s);
    j.erase("type");
    j["bought"] = shop.bought_in_sale(s.id, c.viewer_id);
    sales.push_back(std::move(j));
  }
  // The last few chat messages, so a newcomer does not join an empty chat (hosts also see who
  // wrote them, to moderate).
  json recent_chat = json::array();
  const bool host = c.identity.may_manage(c.stream_id);
  for (const auto& note : r.recent_chat) {
    json m = note.message;
    if (host) m["viewer_id"] = note.viewer_id;
    recent_chat.push_back(std::move(m));
  }
  const StreamState* st = streams_.find(c.stream_id);
  return {{"type", "welcome"},
          {"protocol", 1},
          {"stream", c.stream_id},
          {"role", role_name(c.identity.role)},
          {"viewer_id", c.viewer_id},
          {"replay", c.replay_session.empty() ? json(nullptr) : json(c.replay_session)},
          {"server_time", now},
          {"products", products},
          {"cards", cards},
          {"sales", sales},
          {"chat", recent_chat},
          {"viewers", st != nullptr ? st->viewers : static_cast<int>(r.conns.size())}};
}

// ---------------------------------------------------------------- commands

void RoomService::handle(Conn& c, const ClientMessage& m) {
  if (is_host_command(m.type) && !c.identity.may_manage(c.stream_id)) {
    send_error(c, "forbidden", std::string(client_type_name(m.type)) + " needs the host token of this stream",
               m.id_json);
    return;
  }
  if (is_host_command(m.type) && !c.replay_session.empty()) {
    send_error(c, "forbidden", "a replay connection is a viewer", m.id_json);
    return;
  }
  switch (m.type) {
    case ClientType::card_show: return handle_card_show(c, m);
    case ClientType::card_hide: return handle_card_hide(c, m);
    case ClientType::product_update: return handle_product_update(c, m);
    case ClientType::sale_start: return handle_sale_start(c, m);
    case ClientType::sale_stop: return handle_sale_stop(c, m);
    case ClientType::buy: return handle_buy(c, m);
    case ClientType::chat_send: return handle_chat(c, m);
    case ClientType::chat_delete: return handle_chat_delete(c, m);
    case ClientType::viewer_mute: return handle_viewer_mute(c, m);
    case ClientType::ping: {
      JsonObject pong;
      pong.str("type", "pong");
      if (!m.id_json.empty()) pong.raw("re", m.id_json);
      http_.send(c.id, pong.num("server_time", now_ms()).take());
      return;
    }
  }
}

void RoomService::announce_card(Room& r, const VisibleCard& vc, bool shown, const Conn* requester,
                                const std::string& id_json) {
  CardEvent ev;
  ev.stream_id = r.stream_id;
  ev.change_id = vc.change_id;
  ev.shown = shown;
  ev.product_id = vc.product_id;
  ev.slot = vc.slot;
  ev.card = card_json(r.stream_id, vc.product_id);
  ev.server_time_ms = now_ms();
  json j = {{"type", shown ? "card.shown" : "card.hidden"},
            {"product_id", vc.product_id},
            {"slot", vc.slot},
            {"change_id", vc.change_id},
            {"card", ev.card},
            {"server_time", ev.server_time_ms},
            {"pts", nullptr},
            {"program_date_time", nullptr}};
  broadcast(r, Payload(j.dump()), Delivery::reliable, 0, requester != nullptr ? requester->id : 0);
  if (requester != nullptr) reply(*requester, j, id_json);
  r.recent_changes.push_back({ev});
  if (r.recent_changes.size() > 64) r.recent_changes.erase(r.recent_changes.begin());
  for (CardListener* l : card_listeners_) l->on_card_change(ev);
}

void RoomService::handle_card_show(Conn& c, const ClientMessage& m) {
  if (!show_card(c.stream_id, m.product_id, m.slot, &c, m.id_json))
    send_error(c, "invalid", "unknown product", m.id_json);
}

bool RoomService::show_card(const std::string& stream_id, const std::string& product_id, const std::string& slot,
                            const Conn* requester, const std::string& id_json) {
  if (commerce_.shop(stream_id, now_ms()).product(product_id) == nullptr) return false;
  Room& r = room(stream_id);
  struct {
    const std::string& product_id;
    const std::string& slot;
  } m{product_id, slot};
  // One card per slot; a product shows in one slot at a time.
  for (size_t i = 0; i < r.cards.size();) {
    if (r.cards[i].slot == m.slot && r.cards[i].product_id != m.product_id) {
      VisibleCard gone = r.cards[i];
      r.cards.erase(r.cards.begin() + static_cast<std::ptrdiff_t>(i));
      gone.change_id = next_change_id_++;
      announce_card(r, gone, false, nullptr, "");
    } else if (r.cards[i].product_id == m.product_id) {
      r.cards.erase(r.cards.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  VisibleCard vc;
  vc.product_id = m.product_id;
  vc.slot = m.slot;
  vc.change_id = next_change_id_++;
  vc.shown_at_ms = now_ms();
  r.cards.push_back(vc);
  announce_card(r, vc, true, requester, id_json);
  return true;
}

void RoomService::handle_card_hide(Conn& c, const ClientMessage& m) {
  Room& r = room(c.stream_id);
  std::vector<VisibleCard> hidden;
  for (size_t i = 0; i < r.cards.size();) {
    if (m.product_id.empty() || r.cards[i].product_id == m.product_id) {
      hidden.push_back(r.cards[i]);
      r.cards.erase(r.cards.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  if (hidden.empty()) {
    reply(c, {{"type", "card.hidden"}, {"product_id", m.product_id.empty() ? json(nullptr) : json(m.product_id)},
              {"server_time", now_ms()}, {"pts", nullptr}, {"program_date_time", nullptr}}, m.id_json);
    return;
  }
  for (auto& vc : hidden) {
    vc.change_id = next_change_id_++;
    announce_card(r, vc, false, &c, m.id_json);
  }
}

void RoomService::handle_product_update(Conn& c, const ClientMessage& m) {
  commerce::ProductPatch patch;
  patch.price = m.price;
  patch.stock = m.stock;
  patch.title = m.title;
  const int64_t now = now_ms();
  if (commerce_.shop(c.stream_id, now).product(m.product_id) == nullptr) {
    send_error(c, "invalid", "unknown product", m.id_json);
    return;
  }
  if (auto st = commerce_.update_product(c.stream_id, m.product_id, patch, now); !st) {
    send_error(c, "invalid", "could not update the product: " + st.message(), m.id_json);
    return;
  }
  Room& r = room(c.stream_id);
  const commerce::Product* p = commerce_.shop(c.stream_id, now).product(m.product_id);
  json j = {{"type", "product.updated"}, {"product", product_json(*p)}, {"server_time", now}};
  broadcast(r, Payload(j.dump()), Delivery::reliable, 0, c.id);
  reply(c, j, m.id_json);
  mark_stock(r, m.product_id);
  card_updated(r, m.product_id);
}

void RoomService::arm_sale_timer(Room& r, const commerce::FlashSale& sale) {
  const int64_t wait_ms = std::max<int64_t>(0, sale.ends_at_ms - now_ms());
  const std::string stream_id = r.stream_id;
  const std::string sale_id = sale.id;
  r.sale_timers[sale.id] = loop_.run_after(std::chrono::milliseconds(wait_ms), [this, stream_id, sale_id] {
    Room& rr = room(stream_id);
    rr.sale_timers.erase(sale_id);
    if (auto ended = commerce_.end_sale(stream_id, sale_id, "time", now_ms())) sale_ended(rr, *ended);
  });
}

void RoomService::sale_ended(Room& r, const commerce::FlashSale& sale) {
  if (auto it = r.sale_timers.find(sale.id); it != r.sale_timers.end()) {
    loop_.cancel(it->second);
    r.sale_timers.erase(it);
  }
  broadcast(r, Payload(sale_json("sale.ended", sale).dump()));
  card_updated(r, sale.product_id);
}

void RoomService::card_updated(Room& r, const std::string& product_id) {
  if (card_listeners_.empty()) return;
  CardUpdate update{r.stream_id, product_id, card_json(r.stream_id, product_id), now_ms()};
  if (!update.card.is_object() || update.card.empty()) return;
  for (CardListener* l : card_listeners_) l->on_card_update(update);
}

void RoomService::handle_sale_start(Conn& c, const ClientMessage& m) {
  commerce::SaleParams params;
  params.product_id = m.product_id;
  params.price = m.price.value_or(0);
  params.quantity = m.quantity;
  params.per_buyer_limit = m.per_buyer_limit;
  params.duration_s = m.duration_s;
  std::string message;
  auto sale = commerce_.start_sale(c.stream_id, params, now_ms(), message);
  if (!sale) {
    send_error(c, "invalid", message, m.id_json);
    return;
  }
  Room& r = room(c.stream_id);
  arm_sale_timer(r, *sale);
  json j = sale_json("sale.started", *sale);
  broadcast(r, Payload(j.dump()), Delivery::reliable, 0, c.id);
  reply(c, j, m.id_json);
  card_updated(r, sale->product_id);
  log::info("sale_started").kv("stream", c.stream_id).kv("sale", sale->id).kv("product", sale->product_id)
      .kv("quantity", sale->quantity);
}

void RoomService::handle_sale_stop(Conn& c, const ClientMessage& m) {
  auto ended = commerce_.end_sale(c.stream_id, m.sale_id, "stopped", now_ms());
  if (!ended) {
    send_error(c, "invalid", "no running sale with that id", m.id_json);
    return;
  }
  Room& r = room(c.stream_id);
  if (auto it = r.sale_timers.find(ended->id); it != r.sale_timers.end()) {
    loop_.cancel(it->second);
    r.sale_timers.erase(it);
  }
  json j = sale_json("sale.ended", *ended);
  broadcast(r, Payload(j.dump()), Delivery::reliable, 0, c.id);
  reply(c, j, m.id_json);
  card_updated(r, ended->product_id);
}

void RoomService::handle_buy(Conn& c, const ClientMessage& m) {
  if (c.identity.role != Role::viewer) {
    send_error(c, "forbidden", "only viewers buy", m.id_json);
    return;
  }
  commerce::BuyRequest req;
  req.viewer_id = c.viewer_id;
  req.idempotency_key = m.idempotency_key;
  req.product_id = m.product_id;
  req.qty = m.qty;
  req.sale_id = m.sale_id;
  req.media_time = m.media_time;
  req.card_product_id = current_card(c.stream_id);
  req.replay_session = c.replay_session;
  if (m.media_time) {
    const commerce::CardTimeline& tl = timeline_ != nullptr ? *timeline_ : *room_timeline_;
    if (c.replay_session.empty()) {
      req.media_card_product_id = tl.card_at(c.stream_id, *m.media_time);
      req.media_exposure_id = tl.exposure_at(c.stream_id, "", *m.media_time);
    } else {
      req.media_card_product_id = tl.card_at_in_session(c.stream_id, c.replay_session, *m.media_time);
      req.media_exposure_id = tl.exposure_at(c.stream_id, c.replay_session, *m.media_time);
    }
  }
  req.now_ms = now_ms();

  const ConnId conn_id = c.id;
  const std::string stream_id = c.stream_id;
  const std::string id_json = m.id_json;
  const std::string buyer = masked_buyer(c.viewer_id);
  auto answer = [this, conn_id, stream_id, id_json, buyer](const commerce::BuyOutcome& o) {
    using Kind = commerce::BuyOutcome::Kind;
    auto cit = conns_.find(conn_id);
    if (o.kind == Kind::accepted || o.kind == Kind::duplicate_confirmed) {
      if (o.kind == Kind::accepted) {
        metrics().orders_confirmed.fetch_add(1, std::memory_order_relaxed);
        metrics().gmv_fen.fetch_add(o.order.total, std::memory_order_relaxed);
        Room& r = room(stream_id);
        PurchaseNote& note = r.purchases[o.order.product_id];
        note.qty = o.order.qty;
        note.buyer = buyer;
        mark_stock(r, o.order.product_id);
        send_order_to_hosts(r, o.order, buyer);
      }
      if (cit == conns_.end()) return;  // the buyer left; the order stands (a retry finds it)
      JsonObject j;
      j.str("type", "order.confirmed")
          .raw("re", id_json)
          .num("order_id", o.order.id)
          .str("product_id", o.order.product_id)
          .num("qty", o.order.qty)
          .num("unit_price", o.order.unit_price)
          .num("total", o.order.total)
          .str("currency", o.order.currency);
      if (o.order.sale_id.empty()) j.null("sale_id");
      else j.str("sale_id", o.order.sale_id);
      j.num("server_time", o.order.server_time_ms).boolean("duplicate", o.kind == Kind::duplicate_confirmed);
      http_.send(conn_id, j.take());
      return;
    }
    if (cit != conns_.end()) reject_buy(cit->second, o.reason, o.message, id_json, "");
  };
  commerce::BuyOutcome decided = commerce_.buy(c.stream_id, req, answer);
  if (decided.kind == commerce::BuyOutcome::Kind::accepted) {
    Room& r = room(c.stream_id);
    mark_stock(r, decided.order.product_id);
    if (decided.sale_sold_out) sale_ended(r, *decided.sale_sold_out);
  }
}

void RoomService::send_order_to_hosts(Room& r, const commerce::Order& o, const std::string& buyer) {
  if (r.hosts.empty()) return;
  // The row GET /orders gives (hosts may see viewer ids), pushed as the order becomes durable,
  // so a host's order feed needs no re-reading of the whole list.
  json event = order_json(o);
  event["type"] = "order";
  event["buyer"] = buyer;
  http_.send_to_all(r.hosts, Payload(event.dump()), Delivery::reliable, 0);
}

void RoomService::handle_chat(Conn& c, const ClientMessage& m) {
  Room& r = room(c.stream_id);
  const int64_t now = now_ms();
  if (!c.identity.may_manage(c.stream_id)) {
    auto muted = r.muted_until_ms.find(c.viewer_id);
    if (muted != r.muted_until_ms.end() && muted->second > now) {
      send_error(c, "forbidden",
                 "the host has muted you for " + std::to_string((muted->second - now + 999) / 1000) + " s",
                 m.id_json);
      return;
    }
  }
  const std::string from = chat_name(c.identity, c.viewer_id);
  const int64_t id = r.next_chat_id++;
  // Viewers see an id (so a deleted message can be removed) but never another viewer's
  // viewer_id: it is the key a client resumes its identity (and its orders) with. Hosts get it
  // to mute the sender.
  auto chat = [&](bool for_host, bool with_re) {
    JsonObject j;
    j.str("type", "chat");
    if (with_re) j.raw("re", m.id_json);
    j.num("id", id).str("from", from).str("role", role_name(c.identity.role)).str("text", m.text)
        .num("server_time", now);
    if (for_host) j.str("viewer_id", c.viewer_id);
    return j.take();
  };
  const std::string for_viewers = chat(false, false);
  broadcast_by_role(r, chat(true, false), for_viewers, c.id);
  const bool sender_is_host = c.identity.may_manage(c.stream_id);
  http_.send(c.id, chat(sender_is_host, !m.id_json.empty()));

  r.recent_chat.push_back(ChatNote{id, c.viewer_id, json::parse(for_viewers)});
  while (r.recent_chat.size() > kRecentChat) r.recent_chat.pop_front();
}

void RoomService::handle_chat_delete(Conn& c, const ClientMessage& m) {
  Room& r = room(c.stream_id);
  if (m.message_id >= r.next_chat_id) {
    send_error(c, "invalid", "no chat message " + std::to_string(m.message_id) + " in this room", m.id_json);
    return;
  }
  std::erase_if(r.recent_chat, [&](const ChatNote& n) { return n.id == m.message_id; });
  auto deleted = [&](bool with_re) {
    JsonObject j;
    j.str("type", "chat.deleted");
    if (with_re) j.raw("re", m.id_json);
    return j.num("id", m.message_id).num("server_time", now_ms()).take();
  };
  broadcast(r, Payload(deleted(false)), Delivery::reliable, 0, c.id);
  http_.send(c.id, deleted(!m.id_json.empty()));
  log::info("chat_deleted").kv("stream", c.stream_id).kv("message", m.message_id);
}

void RoomService::handle_viewer_mute(Conn& c, const ClientMessage& m) {
  Room& r = room(c.stream_id);
  const int64_t now = now_ms();
  // Expired mutes are dropped as new ones come, so the map stays as small as the mutes in force.
  std::erase_if(r.muted_until_ms, [now](const auto& kv) { return kv.second <= now; });
  const int64_t until = now + m.duration_s * 1000;
  r.muted_until_ms[m.viewer_id] = until;
  JsonObject j;
  j.str("type", "viewer.muted");
  if (!m.id_json.empty()) j.raw("re", m.id_json);
  http_.send(c.id, j.str("viewer_id", m.viewer_id).num("until", until).num("duration_s", m.duration_s).take());
  log::info("viewer_muted").kv("stream", c.stream_id).kv("viewer", m.viewer_id).kv("duration_s", m.duration_s);
}

void RoomService::broadcast_by_role(Room& r, const std::string& for_hosts, const std::string& for_viewers,
                                    ConnId except) {
  std::vector<ConnId> hosts;
  std::vector<ConnId> viewers;
  viewers.reserve(r.conns.size());
  for (ConnId id : r.conns) {
    auto it = conns_.find(id);
    if (it == conns_.end() || id == except) continue;
    (it->second.identity.may_manage(r.stream_id) ? hosts : viewers).push_back(id);
  }
  if (!hosts.empty()) http_.send_to_all(hosts, Payload(for_hosts), Delivery::reliable, 0);
  if (!viewers.empty()) http_.send_to_all(viewers, Payload(for_viewers), Delivery::reliable, 0);
}

// ---------------------------------------------------------------- coalesced updates

void RoomService::mark_stock(Room& r, const std::string& product_id) {
  r.dirty_stock.insert(product_id);
  if (r.stock_flush_armed) return;
  r.stock_flush_armed = true;
  const std::string stream_id = r.stream_id;
  loop_.run_after(options_.stock_interval, [this, stream_id] { flush_stock(stream_id); });
}

void RoomService::flush_stock(const std::string& stream_id) {
  Room& r = room(stream_id);
  r.stock_flush_armed = false;
  commerce::Shop& shop = commerce_.shop(stream_id, now_ms());
  for (const auto& product_id : r.dirty_stock) {
    const commerce::Product* p = shop.product(product_id);
    if (p == nullptr) continue;
    JsonObject stock;
    stock.str("type", "stock").str("product_id", product_id).num("left", p->stock).num("sold", p->sold);
    if (const commerce::FlashSale* s = shop.running_sale_for(product_id))
      stock.str("sale_id", s->id).num("sale_left", s->quantity - s->sold);
    broadcast(r, Payload(stock.take()), Delivery::superseding, supersede_key("stock", product_id));
    auto pit = r.purchases.find(product_id);
    if (pit != r.purchases.end()) {
      std::string purchase = JsonObject()
                                 .str("type", "purchase")
                                 .str("product_id", product_id)
                                 .num("qty", pit->second.qty)
                                 .str("buyer", pit->second.buyer)
                                 .num("count", p->sold)
                                 .take();
      broadcast(r, Payload(purchase), Delivery::superseding, supersede_key("purchase", product_id));
      r.purchases.erase(pit);
    }
  }
  const std::set<std::string> changed = std::move(r.dirty_stock);
  r.dirty_stock.clear();
  for (const auto& product_id : changed) card_updated(r, product_id);
}

void RoomService::mark_viewers(Room& r) {
  r.viewers_dirty = true;
  int& peak = r.peak_by_minute[now_ms() / 60000 * 60000];
  peak = std::max(peak, static_cast<int>(r.conns.size()));
  if (r.peak_by_minute.size() > 24 * 60) r.peak_by_minute.erase(r.peak_by_minute.begin());
  streams_.set_viewers(r.stream_id, static_cast<int>(r.conns.size()));
  if (r.viewers_flush_armed) return;
  r.viewers_flush_armed = true;
  const std::string stream_id = r.stream_id;
  loop_.run_after(options_.viewers_interval, [this, stream_id] { flush_viewers(stream_id); });
}

void RoomService::flush_viewers(const std::string& stream_id) {
  Room& r = room(stream_id);
  r.viewers_flush_armed = false;
  if (!r.viewers_dirty) return;
  r.viewers_dirty = false;
  const int count = static_cast<int>(r.conns.size());
  if (count == r.viewers_sent) return;
  r.viewers_sent = count;
  broadcast(r, Payload(JsonObject().str("type", "viewers").num("count", count).take()), Delivery::superseding,
            supersede_key("viewers", ""));
}

// ---------------------------------------------------------------- stream health (hosts only)

json RoomService::health_json(const StreamState& s) const {
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

void RoomService::send_health(const StreamState& s) {
  auto rit = rooms_.find(s.record.id);
  if (rit == rooms_.end()) return;
  const Room& r = rit->second;
  if (r.hosts.empty()) return;
  const Payload health(health_json(s).dump());
  for (ConnId id : r.hosts) http_.send(id, health, Delivery::superseding, supersede_key("stream.health", ""));
}

void RoomService::health_tick() {
  health_timer_ = loop_.run_after(options_.health_interval, [this] { health_tick(); });
  for (const auto& [stream_id, r] : rooms_) {
    if (r.conns.empty()) continue;
    if (const StreamState* s = streams_.find(stream_id)) send_health(*s);
  }
}

std::map<int64_t, int> RoomService::peak_viewers_by_minute(const std::string& stream_id) const {
  auto it = rooms_.find(stream_id);
  return it == rooms_.end() ? std::map<int64_t, int>() : it->second.peak_by_minute;
}

// ---------------------------------------------------------------- catalog and media seam

Status RoomService::replace_catalog(const std::string& stream_id, std::vector<commerce::Product> products) {
  std::vector<std::string> ids;
  for (const auto& p : products) ids.push_back(p.id);
  if (auto st = commerce_.replace_catalog(stream_id, std::move(products), now_ms()); !st) return st;
  Room& r = room(stream_id);
  commerce::Shop& shop = commerce_.shop(stream_id, now_ms());
  // Sales of removed products ended inside the engine.
  std::vector<std::string> timed;
  for (const auto& [sale_id, timer] : r.sale_timers) timed.push_back(sale_id);
  for (const auto& sale_id : timed) {
    const commerce::FlashSale* s = shop.sale(sale_id);
    if (s != nullptr && s->ended) sale_ended(r, *s);
  }
  // Cards of removed products disappear.
  std::vector<VisibleCard> gone;
  for (size_t i = 0; i < r.cards.size();) {
    if (shop.product(r.cards[i].product_id) == nullptr) {
      gone.push_back(r.cards[i]);
      r.cards.erase(r.cards.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  for (auto& vc : gone) {
    vc.change_id = next_change_id_++;
    announce_card(r, vc, false, nullptr, "");
  }
  json j = {{"type", "catalog"}, {"products", products_json(stream_id)}, {"server_time", now_ms()}};
  broadcast(r, Payload(j.dump()));
  return Status::ok();
}

json RoomService::products_json(const std::string& stream_id) {
  json list = json::array();
  for (const auto& p : commerce_.shop(stream_id, now_ms()).products()) list.push_back(product_json(p));
  return list;
}

bool RoomService::card_presented(const std::string& stream_id, uint64_t change_id, std::optional<double> pts,
                                 std::optional<std::string> program_date_time) {
  auto rit = rooms_.find(stream_id);
  if (rit == rooms_.end()) return false;
  Room& r = rit->second;
  for (const auto& rc : r.recent_changes) {
    if (rc.event.change_id != change_id) continue;
    for (auto& vc : r.cards) {
      if (vc.change_id == change_id) {
        vc.pts = pts;
        vc.program_date_time = program_date_time;
      }
    }
    json j = {{"type", rc.event.shown ? "card.shown" : "card.hidden"},
              {"product_id", rc.event.product_id},
              {"slot", rc.event.slot},
              {"change_id", change_id},
              {"card", rc.event.card},
              {"server_time", rc.event.server_time_ms},
              {"pts", pts ? json(*pts) : json(nullptr)},
              {"program_date_time", program_date_time ? json(*program_date_time) : json(nullptr)},
              {"amended", true}};
    broadcast(r, Payload(j.dump()));
    return true;
  }
  return false;
}

}  // namespace harvest::realtime

#include "realtime/rooms.h"

#include "core/json_writer.h"
#include "core/tokens.h"
#include "realtime/messages.h"

namespace harvest::realtime {

using nlohmann::json;

RoomService::RoomService(EventLoop& loop, HttpServer& http, StreamRegistry& streams,
                         const AccessConfig& access, commerce::CommerceService& commerce, RoomOptions options,
                         bus::Bus* bus)
    : streams_(streams),
      access_(access),
      options_(options),
      audience_(http, options_),
      // The show asks the catalog what a card says; selling_ is constructed before any card
      // is shown.
      show_([this](const std::string& stream_id, const std::string& product_id) {
        return selling_.card(stream_id, product_id);
      }),
      stage_(audience_, show_),
      selling_(loop, audience_, commerce, show_, stage_, options_),
      chat_(audience_),
      monitor_(loop, audience_, streams, options_) {
  if (bus != nullptr && bus->spans_nodes()) {
    relay_ = std::make_unique<RoomRelay>(loop, *bus, audience_, stage_, monitor_);
    audience_.set_relay(relay_.get());
    stage_.set_relay(relay_.get());
    monitor_.set_relay(relay_.get());
    cluster_ = std::make_unique<ClusterSync>(loop, *relay_, streams, commerce);
  }
}

RoomService::~RoomService() {
  // The relay stops the bus first, so nothing from another node arrives half torn down.
  relay_.reset();
  cluster_.reset();
  audience_.set_relay(nullptr);
  stage_.set_relay(nullptr);
  monitor_.set_relay(nullptr);
}

void RoomService::start() {
  monitor_.start();
  if (cluster_) cluster_->start();
  if (relay_) relay_->start();
  std::vector<std::string> ids;
  for (const StreamState* s : streams_.all()) ids.push_back(s->record.id);
  selling_.start(ids);
}

// ---------------------------------------------------------------- connections

bool RoomService::on_open(ConnId id, const HttpRequest& upgrade) {
  Member c;
  c.id = id;
  auto get = [&](const char* k) {
    auto it = upgrade.query.find(k);
    return it == upgrade.query.end() ? std::string() : it->second;
  };
  c.stream_id = get("stream");
  const std::string token = get("token");
  // The server gives the buyer identity (a new viewer gets a token in `welcome` and comes back
  // with &buyer=TOKEN): a client-chosen id would escape per-buyer limits and mutes.
  Buyer buyer = buyer_for(access_, get("buyer"));
  c.viewer_id = std::move(buyer.id);
  c.buyer_token = std::move(buyer.token);
  if (get("batch") == "1") audience_.set_batching(id, true);
  c.identity = identify(access_, token, now_ms() / 1000);
  Member& member = audience_.add(std::move(c));

  // Refusals are sent as an error and a close (1008) rather than a failed upgrade, so browsers
  // can show why.
  auto refuse = [&](const std::string& code, const std::string& message) {
    audience_.send_error(id, code, message, "");
    audience_.close(id, 1008, message);
    member.stream_id.clear();  // not in any room
    return true;
  };
  if (member.stream_id.empty() || streams_.find(member.stream_id) == nullptr)
    return refuse("invalid", "unknown stream");
  if (!member.identity.token_problem.empty())
    return refuse("forbidden", "token " + member.identity.token_problem);
  if (member.identity.role == Role::host && !member.manages())
    return refuse("forbidden", "this host token is for another stream");
  if (auto rp = upgrade.query.find("replay"); rp != upgrade.query.end()) {
    if (!is_replay_session_id(rp->second)) return refuse("invalid", "bad replay session id");
    member.replay_session = rp->second;
  }

  audience_.join(id);
  audience_.send(id, welcome_json(member));
  monitor_.viewers_changed(member.stream_id);
  if (!member.manages()) monitor_.viewer_seen(member.stream_id, member.viewer_id);
  if (member.replay_session.empty() && member.manages()) monitor_.send_health(id, member.stream_id);
  return true;
}

void RoomService::on_close(ConnId id) {
  const std::string stream_id = audience_.remove(id);
  if (!stream_id.empty()) monitor_.viewers_changed(stream_id);
}

void RoomService::on_message(ConnId id, std::string_view text) {
  Member* c = audience_.find(id);
  if (c == nullptr || c->stream_id.empty()) return;
  ParseResult parsed = parse_client_message(text);
  const bool is_buy = parsed.message ? parsed.message->type == ClientType::buy : parsed.error.type == "buy";
  const bool is_chat = parsed.message && parsed.message->type == ClientType::chat_send;
  if (!audience_.admit(id, is_chat)) {
    const std::string& re = parsed.message ? parsed.message->id_json : parsed.error.id_json;
    if (is_buy)
      selling_.reject_buy(id, commerce::Rejection::rate_limited, "too many messages", re,
                          parsed.message ? parsed.message->product_id : "");
    else
      audience_.send_error(id, "rate_limited", "too many messages; slow down", re);
    audience_.strike(id);
    return;
  }
  if (!parsed.message) {
    if (is_buy)
      selling_.reject_buy(id, commerce::Rejection::invalid, parsed.error.message, parsed.error.id_json, "");
    else
      audience_.send_error(id, parsed.error.code, parsed.error.message, parsed.error.id_json);
    return;
  }
  handle(*c, *parsed.message);
}

// ---------------------------------------------------------------- commands

void RoomService::handle(Member& c, const ClientMessage& m) {
  if (is_host_command(m.type) && !c.manages()) {
    audience_.send_error(c.id, "forbidden",
                         std::string(client_type_name(m.type)) + " needs the host token of this stream",
                         m.id_json);
    return;
  }
  if (is_host_command(m.type) && !c.replay_session.empty()) {
    audience_.send_error(c.id, "forbidden", "a replay connection is a viewer", m.id_json);
    return;
  }
  switch (m.type) {
    case ClientType::card_show:
      if (!stage_.show_card(c.stream_id, m.product_id, m.slot, &c, m.id_json))
        audience_.send_error(c.id, "invalid", "unknown product", m.id_json);
      return;
    case ClientType::card_hide:
      return stage_.hide_card(c, m);
    case ClientType::product_update:
      return selling_.update_product(c, m);
    case ClientType::sale_start:
      return selling_.start_sale(c, m);
    case ClientType::sale_stop:
      return selling_.stop_sale(c, m);
    case ClientType::buy:
      return selling_.buy(c, m);
    case ClientType::chat_send:
      return chat_.send(c, m);
    case ClientType::chat_delete:
      return chat_.delete_line(c, m);
    case ClientType::viewer_mute:
      return chat_.mute(c, m);
    case ClientType::ping: {
      JsonObject pong;
      pong.str("type", "pong");
      if (!m.id_json.empty()) pong.raw("re", m.id_json);
      audience_.send(c.id, pong.num("server_time", now_ms()).take());
      return;
    }
  }
}

std::string RoomService::welcome_json(const Member& c) {
  const int64_t now = now_ms();
  commerce::Shop& shop = selling_.shop(c.stream_id);
  json cards = json::array();
  for (const auto& vc : show_.visible(c.stream_id))
    cards.push_back(visible_card_json(vc, selling_.card(c.stream_id, vc.product_id)));
  json sales = json::array();
  for (const auto& s : shop.running_sales()) {
    json j = sale_json("", s, now);
    j["bought"] = shop.bought_in_sale(s.id, c.viewer_id);
    sales.push_back(std::move(j));
  }
  // The last few chat messages, so a newcomer does not join an empty chat (hosts also see who
  // wrote them, to moderate).
  json recent_chat = json::array();
  for (const auto& line : chat_.recent(c.stream_id))
    recent_chat.push_back(json::parse(ChatRoom::chat_json(line, c.manages())));
  const StreamState* st = streams_.find(c.stream_id);
  return json{
      {"type", "welcome"},
      {"protocol", 1},
      {"stream", c.stream_id},
      {"role", role_name(c.identity.role)},
      {"viewer_id", c.viewer_id},
      {"buyer_token", c.buyer_token},
      {"payments", selling_.commerce().payment_methods()},
      {"payment_window_s", selling_.commerce().options().payment_window_ms / 1000},
      {"replay", c.replay_session.empty() ? json(nullptr) : json(c.replay_session)},
      {"server_time", now},
      {"products", products_json(shop.products())},
      {"cards", cards},
      {"sales", sales},
      {"chat", recent_chat},
      {"viewers", st != nullptr ? st->viewers : static_cast<int>(audience_.members(c.stream_id).size())}}
      .dump();
}

}  // namespace harvest::realtime

#include "realtime/chat_room.h"

#include "core/json_writer.h"
#include "core/log.h"
#include "core/stream_registry.h"

namespace harvest::realtime {
namespace {
// Chat messages a newcomer gets in its welcome.
constexpr size_t kRecentChat = 20;

std::string chat_name(const Identity& who, const std::string& viewer_id) {
  if (who.role == Role::host) return "主播";
  if (who.role == Role::admin) return "管理员";
  return "观众 " + viewer_id.substr(0, 4);
}
}  // namespace

std::string ChatRoom::chat_json(const ChatLine& line, bool for_host, const std::string& id_json) {
  JsonObject j;
  j.str("type", "chat");
  if (!id_json.empty()) j.raw("re", id_json);
  j.num("id", line.id)
      .str("from", line.from)
      .str("role", role_name(line.role))
      .str("text", line.text)
      .num("server_time", line.server_time_ms);
  if (for_host) j.str("viewer_id", line.viewer_id);
  return j.take();
}

const std::deque<ChatLine>& ChatRoom::recent(const std::string& stream_id) const {
  static const std::deque<ChatLine> kNone;
  auto it = logs_.find(stream_id);
  return it == logs_.end() ? kNone : it->second.recent;
}

void ChatRoom::send(const Member& c, const ClientMessage& m) {
  Log& room = logs_[c.stream_id];
  const int64_t now = now_ms();
  if (!c.manages()) {
    auto muted = room.muted_until_ms.find(c.viewer_id);
    if (muted != room.muted_until_ms.end() && muted->second > now) {
      audience_.send_error(
          c.id, "forbidden",
          "the host has muted you for " + std::to_string((muted->second - now + 999) / 1000) + " s",
          m.id_json);
      return;
    }
  }
  ChatLine line{room.next_id++,  c.viewer_id, chat_name(c.identity, c.viewer_id),
                c.identity.role, m.text,      now};
  // Viewers see an id (so a deleted message can be removed) but never another viewer's
  // viewer_id: it is the key a client resumes its identity (and its orders) with. Hosts get it
  // to mute the sender.
  audience_.by_role(c.stream_id, chat_json(line, true), chat_json(line, false), c.id);
  audience_.send(c.id, chat_json(line, c.manages(), m.id_json));
  room.recent.push_back(std::move(line));
  while (room.recent.size() > kRecentChat) room.recent.pop_front();
}

void ChatRoom::delete_line(const Member& c, const ClientMessage& m) {
  Log& room = logs_[c.stream_id];
  if (m.message_id >= room.next_id) {
    audience_.send_error(c.id, "invalid", "no chat message " + std::to_string(m.message_id) + " in this room",
                         m.id_json);
    return;
  }
  std::erase_if(room.recent, [&](const ChatLine& l) { return l.id == m.message_id; });
  auto deleted = [&](bool with_re) {
    JsonObject j;
    j.str("type", "chat.deleted");
    if (with_re) j.raw("re", m.id_json);
    return j.num("id", m.message_id).num("server_time", now_ms()).take();
  };
  audience_.broadcast(c.stream_id, Payload(deleted(false)), Delivery::reliable, 0, c.id);
  audience_.send(c.id, deleted(!m.id_json.empty()));
  log::info("chat_deleted").kv("stream", c.stream_id).kv("message", m.message_id);
}

void ChatRoom::mute(const Member& c, const ClientMessage& m) {
  Log& room = logs_[c.stream_id];
  const int64_t now = now_ms();
  // Expired mutes are dropped as new ones come, so the map stays as small as the mutes in force.
  std::erase_if(room.muted_until_ms, [now](const auto& kv) { return kv.second <= now; });
  const int64_t until = now + m.duration_s * 1000;
  room.muted_until_ms[m.viewer_id] = until;
  JsonObject j;
  j.str("type", "viewer.muted");
  if (!m.id_json.empty()) j.raw("re", m.id_json);
  audience_.send(c.id,
                 j.str("viewer_id", m.viewer_id).num("until", until).num("duration_s", m.duration_s).take());
  log::info("viewer_muted")
      .kv("stream", c.stream_id)
      .kv("viewer", m.viewer_id)
      .kv("duration_s", m.duration_s);
}

}  // namespace harvest::realtime

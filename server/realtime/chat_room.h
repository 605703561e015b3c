#pragma once
// Chat and its moderation in every room: chat.send (with mutes), chat.delete and viewer.mute
// from hosts, and the last few lines a newcomer sees. Loop thread only.
#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "realtime/audience.h"
#include "realtime/protocol.h"

namespace harvest::realtime {

struct ChatLine {
  int64_t id = 0;         // per room, from 1: what chat.delete names
  std::string viewer_id;  // the sender's; only hosts see it (it is the key a viewer resumes with)
  std::string from;       // display name
  Role role = Role::viewer;
  std::string text;
  int64_t server_time_ms = 0;
};

class ChatRoom {
public:
  explicit ChatRoom(Audience& audience) : audience_(audience) {}

  void send(const Member& from, const ClientMessage& m);         // chat.send
  void delete_line(const Member& host, const ClientMessage& m);  // chat.delete
  void mute(const Member& host, const ClientMessage& m);         // viewer.mute

  // The last lines of the room, oldest first (welcome.chat).
  const std::deque<ChatLine>& recent(const std::string& stream_id) const;
  // The `chat` event; hosts also get the sender's viewer_id. `id_json` non-empty adds "re".
  static std::string chat_json(const ChatLine& line, bool for_host, const std::string& id_json = "");

private:
  struct Log {
    int64_t next_id = 1;
    std::deque<ChatLine> recent;
    std::map<std::string, int64_t> muted_until_ms;  // viewer_id -> until (server time)
  };

  Audience& audience_;
  std::map<std::string, Log> logs_;
};

}  // namespace harvest::realtime

#pragma once
// Protocol v1 (docs/protocol.md): client frames parsed into typed messages. A pure function from frame
// text to a message or an error — no sockets, no room state — so it is unit tested and fuzzed.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace harvest::realtime {

enum class ClientType {
  card_show, card_hide, product_update, sale_start, sale_stop, buy, chat_send, ping,
  // Chat moderation (an extension of v1, docs/protocol.md): host only.
  chat_delete, viewer_mute,
};

// Every client command, for whoever needs the whole list (the server logs it at debug level,
// event=ws_command, for the cross-tenant test).
inline constexpr ClientType kClientTypes[] = {
    ClientType::card_show,   ClientType::card_hide,   ClientType::product_update, ClientType::sale_start,
    ClientType::sale_stop,   ClientType::buy,         ClientType::chat_send,      ClientType::ping,
    ClientType::chat_delete, ClientType::viewer_mute,
};

struct ClientMessage {
  ClientType type = ClientType::ping;
  std::string id_json;  // the client's "id" as JSON text (string or integer), "" when absent
  std::string product_id;
  std::string slot = "bottom";  // card.show
  std::optional<int64_t> price;  // product.update (optional), sale.start (required)
  std::optional<int64_t> stock;
  std::optional<std::string> title;
  int64_t quantity = 0;
  int64_t per_buyer_limit = 0;
  int64_t duration_s = 0;
  std::string sale_id;  // sale.stop; buy (optional)
  int64_t qty = 0;
  std::string idempotency_key;
  std::optional<double> media_time;
  std::string text;
  int64_t message_id = 0;  // chat.delete
  std::string viewer_id;   // viewer.mute (duration_s: how long)
};

struct ParseError {
  // bad_json, unknown_type or invalid (docs/protocol.md error codes).
  std::string code;
  std::string message;
  std::string id_json;  // echoed as "re" when the frame had a usable id
  std::string type;     // the frame's type when known ("buy" errors are answered with order.rejected)
};

struct ParseResult {
  std::optional<ClientMessage> message;
  ParseError error;  // meaningful when !message
};

// Limits of the moderation commands.
constexpr int64_t kMaxChatMessageId = 1'000'000'000'000;
constexpr int64_t kDefaultMuteS = 600;
constexpr int64_t kMaxMuteS = 7 * 24 * 3600;

ParseResult parse_client_message(std::string_view text);
// The reference parser (nlohmann::json). parse_client_message() answers the same for every
// frame; it only skips the JSON DOM for well-formed buys, the hot frame (fuzz_protocol checks).
ParseResult parse_client_message_json(std::string_view text);

const char* client_type_name(ClientType t);
// Host-only commands: card.*, product.update, sale.*, chat.delete, viewer.mute.
bool is_host_command(ClientType t);

// [A-Za-z0-9_-]{min,max}
bool is_token_chars(std::string_view s, size_t min_len, size_t max_len);
// A replay session id: 1-64 characters [0-9a-z-].
bool is_replay_session_id(std::string_view s);
// Number of Unicode code points in valid UTF-8 text.
size_t utf8_length(std::string_view s);

}  // namespace harvest::realtime

#pragma once
// What crosses between nodes on the bus: one room event, tagged with the node that made it, so
// a node ignores its own. The bus carries envelopes and knows nothing of what `kind`, `tag` and
// `body` mean (realtime/room_relay.h gives them meaning).
//
// Wire form (one Redis pub/sub message):
//   hb1 <origin> <room> <kind> <tag>\n<body>
// origin, room, kind and tag are tokens of 1..128 characters from [A-Za-z0-9._:-] ("-" when
// there is no tag); body is any bytes (usually JSON text).
#include <optional>
#include <string>
#include <string_view>

namespace harvest::bus {

struct Envelope {
  std::string origin;  // the node id of the sender
  std::string room;    // the stream id
  std::string kind;    // what it is, e.g. "all", "card.show", "viewers"
  std::string tag = "-";
  std::string body;
};

// True when `s` may be a header field (origin, room, kind, tag).
bool is_envelope_token(std::string_view s);
// The wire form. Precondition: the header fields are tokens (encode_envelope checks and
// returns "" otherwise, so a bad room id is never sent).
std::string encode_envelope(const Envelope& e);
// Parses the wire form; nullopt for anything else (a foreign publisher on our channel, a
// truncated message). Pure: fuzzed by tests/fuzz/fuzz_bus_envelope.cpp.
std::optional<Envelope> decode_envelope(std::string_view wire);

}  // namespace harvest::bus

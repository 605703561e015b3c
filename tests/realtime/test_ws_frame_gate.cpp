// ClientFrameGate: the mask-bit check on the bytes a websocket client sends (RFC 6455 5.1).
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "realtime/ws_frame_gate.h"

using harvest::realtime::ClientFrameGate;

namespace {

std::string frame(uint8_t opcode, const std::string& payload, bool masked = true) {
  std::string f(1, static_cast<char>(0x80 | opcode));
  const uint8_t mask_bit = masked ? 0x80 : 0x00;
  const size_t n = payload.size();
  if (n < 126) {
    f += static_cast<char>(mask_bit | n);
  } else if (n < 65536) {
    f += static_cast<char>(mask_bit | 126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xff);
  } else {
    f += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) f += static_cast<char>((n >> shift) & 0xff);
  }
  if (masked) f += "k3y!";
  // The payload's bytes are left as they are: the gate never looks inside a payload.
  return f + payload;
}

bool feed(ClientFrameGate& gate, const std::string& bytes) {
  return gate.feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

TEST_CASE("masked frames of every length encoding pass, split anywhere", "[ws_frame_gate]") {
  const std::string head = "GET /ws HTTP/1.1\r\n\r\n";
  // Payloads that look like unmasked headers must not confuse it.
  const std::string stream = head + frame(0x1, "\x81\x02hi") + frame(0x2, std::string(300, '\x01')) +
                             frame(0x1, std::string(70000, '\x81')) + frame(0x9, "") + frame(0x8, "\x03\xe8");
  ClientFrameGate whole(head.size());
  CHECK(feed(whole, stream));
  for (size_t piece : {1u, 2u, 3u, 7u, 4096u}) {
    ClientFrameGate split(head.size());
    bool ok = true;
    for (size_t at = 0; at < stream.size(); at += piece) ok = feed(split, stream.substr(at, piece)) && ok;
    CHECK(ok);
  }
}

TEST_CASE("an unmasked frame is caught wherever it starts", "[ws_frame_gate]") {
  ClientFrameGate gate;
  CHECK(feed(gate, frame(0x1, "{\"type\":\"hello\"}")));
  CHECK_FALSE(feed(gate, frame(0x1, "hi", /*masked=*/false)));
  CHECK(gate.violated());
  CHECK_FALSE(feed(gate, frame(0x1, "later")));  // stays violated

  ClientFrameGate first;  // the very first frame, after a skipped head
  ClientFrameGate with_head(4);
  CHECK_FALSE(feed(with_head, "HEAD" + frame(0x8, "", /*masked=*/false)));
  CHECK_FALSE(feed(first, std::string("\x81\x00", 2)));
}

TEST_CASE("the skipped head is never read as a frame", "[ws_frame_gate]") {
  // "GE" would be an unmasked header if it were read as one.
  ClientFrameGate gate(3);
  CHECK(feed(gate, "GET"));
  CHECK(feed(gate, frame(0x1, "x")));
}

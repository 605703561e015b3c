#pragma once
// Client websocket frames must be masked (RFC 6455 5.1: "a server MUST close the connection
// upon receiving a frame that is not masked"). Debian's lws 4.1.6 reads the mask bit into
// private parser state and accepts either, and after it unmasks, the payload of a masked and
// of an unmasked frame look the same. So the bytes lws reads from a websocket are looked at
// on their way in: ClientFrameGate follows the frame headers in that byte stream (a pure
// state machine, fuzzed by tests/fuzz/fuzz_ws_frames.cpp), and ws_read_hook.cpp wraps the
// calls lws reads through (recv, SSL_read) for the descriptors that are watched.
#include <cstddef>
#include <cstdint>

namespace harvest::realtime {

class ClientFrameGate {
public:
  // `skip`: bytes of the stream before the first frame (the upgrade request's head).
  explicit ClientFrameGate(uint64_t skip = 0) : skip_(skip) {}

  // Follows `n` more bytes of the client's stream. False once a frame header without the mask
  // bit was seen (and from then on).
  bool feed(const uint8_t* data, size_t n);
  bool violated() const { return violated_; }

private:
  enum class Stage : uint8_t { opcode, length, extended_length, mask_key, payload };
  uint64_t skip_;
  Stage stage_ = Stage::opcode;
  uint8_t extended_left_ = 0;  // bytes of a 16- or 64-bit length still to come
  uint8_t mask_left_ = 0;
  uint64_t payload_left_ = 0;
  bool violated_ = false;
};

// Watches the client frames of the websocket on `fd` from now on: `skip` bytes still to be read
// from the socket belong to the upgrade request. Reading an unmasked frame closes the
// connection with a 1002 close frame. Watching ends when the descriptor is closed.
void watch_client_frames(int fd, uint64_t skip);
// The same for a TLS websocket whose handshake lws has read: the frames are watched in what
// SSL_read returns, from its next call, and a violation closes without a close frame.
void watch_client_frames_tls(int fd);
bool client_frames_watched(int fd);

}  // namespace harvest::realtime

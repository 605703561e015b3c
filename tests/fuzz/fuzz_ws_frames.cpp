// libFuzzer: ClientFrameGate (realtime/ws_frame_gate.h) follows frame headers in every byte a
// client sends on a websocket. It must never crash or read past what it is given, and how the
// bytes are split into reads must not change its verdict.
#include <cstddef>
#include <cstdint>

#include "realtime/ws_frame_gate.h"

using harvest::realtime::ClientFrameGate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint64_t skip = data[0] % 8;
  ClientFrameGate whole(skip);
  const bool whole_ok = whole.feed(data + 1, size - 1);
  ClientFrameGate bytewise(skip);
  bool bytewise_ok = true;
  for (size_t i = 1; i < size; ++i) bytewise_ok = bytewise.feed(data + i, 1) && bytewise_ok;
  if (whole_ok != bytewise_ok) __builtin_trap();
  return 0;
}

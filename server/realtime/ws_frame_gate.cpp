#include "realtime/ws_frame_gate.h"

namespace harvest::realtime {

bool ClientFrameGate::feed(const uint8_t* data, size_t n) {
  size_t i = 0;
  while (i < n && !violated_) {
    if (skip_ > 0) {
      const uint64_t take = skip_ < n - i ? skip_ : n - i;
      skip_ -= take;
      i += static_cast<size_t>(take);
      continue;
    }
    const uint8_t byte = data[i];
    switch (stage_) {
      case Stage::opcode:
        ++i;
        stage_ = Stage::length;
        break;
      case Stage::length: {
        ++i;
        if ((byte & 0x80) == 0) {
          violated_ = true;
          break;
        }
        mask_left_ = 4;
        const uint8_t len7 = byte & 0x7f;
        payload_left_ = 0;
        if (len7 < 126) {
          payload_left_ = len7;
          stage_ = Stage::mask_key;
        } else {
          extended_left_ = len7 == 126 ? 2 : 8;
          stage_ = Stage::extended_length;
        }
        break;
      }
      case Stage::extended_length:
        ++i;
        payload_left_ = (payload_left_ << 8) | byte;
        if (--extended_left_ == 0) stage_ = Stage::mask_key;
        break;
      case Stage::mask_key:
        ++i;
        if (--mask_left_ == 0) stage_ = payload_left_ > 0 ? Stage::payload : Stage::opcode;
        break;
      case Stage::payload: {
        const uint64_t take = payload_left_ < n - i ? payload_left_ : n - i;
        payload_left_ -= take;
        i += static_cast<size_t>(take);
        if (payload_left_ == 0) stage_ = Stage::opcode;
        break;
      }
    }
  }
  return !violated_;
}

}  // namespace harvest::realtime

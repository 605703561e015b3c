#pragma once
// A small QR Code encoder (ISO/IEC 18004): byte mode, error correction level M,
// versions 1-10, the mask with the lowest penalty. Enough for a trace URL on a
// burned-in card (docs/media-link.md "Origin and trace QR"); no QR library is in
// the distribution's packages we build against. Pure: no I/O, no drawing.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace harvest::livecommerce {

class QrCode {
 public:
  static constexpr int kMinVersion = 1;
  static constexpr int kMaxVersion = 10;  // 57x57 modules, 213 bytes at level M

  // The smallest version that holds `bytes` (byte mode, level M); nullopt when
  // longer than version 10 holds. `mask` 0-7 forces a mask (tests), -1 picks the
  // one with the lowest penalty score.
  static std::optional<QrCode> encode(std::string_view bytes, int mask = -1);

  // Bytes a version holds in byte mode at level M (14 for version 1, 213 for 10).
  static int byte_capacity(int version);

  int version() const { return version_; }
  int size() const { return size_; }  // modules per side, 17 + 4 * version
  int mask() const { return mask_; }
  // x: column, y: row, both 0..size()-1; outside the symbol: light.
  bool dark(int x, int y) const {
    return x >= 0 && y >= 0 && x < size_ && y < size_ &&
           modules_[static_cast<std::size_t>(y * size_ + x)] != 0;
  }

 private:
  QrCode(int version, int mask);
  int version_;
  int size_;
  int mask_;
  std::vector<std::uint8_t> modules_;
  std::vector<std::uint8_t> function_;  // finder, timing, alignment, format and version modules

  void set_function(int x, int y, bool dark);
  void draw_function_patterns();
  void draw_format_bits(int mask);
  void draw_version_bits();
  void draw_codewords(const std::vector<std::uint8_t>& codewords);
  void apply_mask(int mask);
  long penalty() const;
};

// Reed-Solomon error correction codewords over GF(256) (polynomial 0x11D, the
// generator with roots 2^0..2^(n-1)), as QR uses them. Exposed for its test vector.
std::vector<std::uint8_t> reed_solomon_remainder(const std::vector<std::uint8_t>& data, int ecc_length);

}  // namespace harvest::livecommerce

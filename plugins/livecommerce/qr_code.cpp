#include "qr_code.h"

#include <algorithm>
#include <array>
#include <cstdlib>

// Section numbers refer to ISO/IEC 18004:2015.
namespace harvest::livecommerce {
namespace {

// Table 9, level M, versions 1-10 (index 0 unused): error correction codewords per
// block and number of blocks.
constexpr std::array<int, 11> kEccPerBlock = {0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26};
constexpr std::array<int, 11> kBlocks = {0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5};

// Modules left for data and error correction once the function patterns are drawn (7.1).
int raw_data_modules(int version) {
  int result = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const int alignments = version / 7 + 2;
    result -= (25 * alignments - 10) * alignments - 55;
    if (version >= 7) result -= 36;  // two version information blocks
  }
  return result;
}

int data_codewords(int version) {
  return raw_data_modules(version) / 8 -
         kEccPerBlock[static_cast<std::size_t>(version)] * kBlocks[static_cast<std::size_t>(version)];
}

// Byte mode character count indicator: 8 bits up to version 9, 16 from 10 (Table 3).
int count_bits(int version) { return version <= 9 ? 8 : 16; }

std::uint8_t gf_multiply(std::uint8_t x, std::uint8_t y) {
  int z = 0;
  for (int i = 7; i >= 0; --i) {
    z = (z << 1) ^ ((z >> 7) * 0x11D);
    z ^= ((y >> i) & 1) * x;
  }
  return static_cast<std::uint8_t>(z);
}

// Coefficients of the generator polynomial (x - 2^0)...(x - 2^(n-1)), highest power
// first, the leading 1 left out.
std::vector<std::uint8_t> generator(int degree) {
  std::vector<std::uint8_t> result(static_cast<std::size_t>(degree), 0);
  result.back() = 1;
  std::uint8_t root = 1;
  for (int i = 0; i < degree; ++i) {
    for (std::size_t j = 0; j < result.size(); ++j) {
      result[j] = gf_multiply(result[j], root);
      if (j + 1 < result.size()) result[j] ^= result[j + 1];
    }
    root = gf_multiply(root, 0x02);
  }
  return result;
}

// Centres of the alignment patterns on each axis (Annex E).
std::vector<int> alignment_positions(int version) {
  if (version == 1) return {};
  const int count = version / 7 + 2;
  const int size = version * 4 + 17;
  const int step = (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2;
  std::vector<int> result(static_cast<std::size_t>(count));
  result[0] = 6;
  for (int i = count - 1, pos = size - 7; i >= 1; --i, pos -= step) result[static_cast<std::size_t>(i)] = pos;
  return result;
}

bool mask_bit(int mask, int x, int y) {
  switch (mask) {  // Table 10
    case 0:
      return (x + y) % 2 == 0;
    case 1:
      return y % 2 == 0;
    case 2:
      return x % 3 == 0;
    case 3:
      return (x + y) % 3 == 0;
    case 4:
      return (x / 3 + y / 2) % 2 == 0;
    case 5:
      return x * y % 2 + x * y % 3 == 0;
    case 6:
      return (x * y % 2 + x * y % 3) % 2 == 0;
    default:
      return ((x + y) % 2 + x * y % 3) % 2 == 0;
  }
}

class BitBuffer {
 public:
  void append(std::uint32_t value, int bits) {
    for (int i = bits - 1; i >= 0; --i) bits_.push_back(((value >> i) & 1) != 0);
  }
  std::size_t size() const { return bits_.size(); }
  std::vector<std::uint8_t> bytes() const {
    std::vector<std::uint8_t> out(bits_.size() / 8, 0);
    for (std::size_t i = 0; i < bits_.size(); ++i)
      if (bits_[i]) out[i / 8] = static_cast<std::uint8_t>(out[i / 8] | (0x80 >> (i % 8)));
    return out;
  }

 private:
  std::vector<bool> bits_;
};

// The data codewords (7.4): mode, count, bytes, terminator, padding.
std::vector<std::uint8_t> data_codewords_for(std::string_view bytes, int version) {
  BitBuffer bb;
  bb.append(0x4, 4);  // byte mode
  bb.append(static_cast<std::uint32_t>(bytes.size()), count_bits(version));
  for (char c : bytes) bb.append(static_cast<std::uint8_t>(c), 8);
  const std::size_t capacity = static_cast<std::size_t>(data_codewords(version)) * 8;
  bb.append(0, static_cast<int>(std::min<std::size_t>(4, capacity - bb.size())));
  bb.append(0, static_cast<int>((8 - bb.size() % 8) % 8));
  for (std::uint32_t pad = 0xEC; bb.size() < capacity; pad ^= 0xEC ^ 0x11) bb.append(pad, 8);
  return bb.bytes();
}

// Splits into blocks, adds each block's error correction, interleaves (7.5, 7.6).
std::vector<std::uint8_t> add_ecc_and_interleave(const std::vector<std::uint8_t>& data, int version) {
  const int blocks = kBlocks[static_cast<std::size_t>(version)];
  const int ecc_len = kEccPerBlock[static_cast<std::size_t>(version)];
  const int raw = raw_data_modules(version) / 8;
  const int short_blocks = blocks - raw % blocks;  // the others hold one more data codeword
  const int short_len = raw / blocks;              // data + ecc of a short block
  std::vector<std::vector<std::uint8_t>> all;
  std::size_t k = 0;
  for (int i = 0; i < blocks; ++i) {
    const auto len = static_cast<std::size_t>(short_len - ecc_len + (i < short_blocks ? 0 : 1));
    std::vector<std::uint8_t> block(data.begin() + static_cast<std::ptrdiff_t>(k),
                                    data.begin() + static_cast<std::ptrdiff_t>(k + len));
    k += len;
    const auto ecc = reed_solomon_remainder(block, ecc_len);
    if (i < short_blocks) block.push_back(0);  // placeholder, skipped when interleaving
    block.insert(block.end(), ecc.begin(), ecc.end());
    all.push_back(std::move(block));
  }
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < all[0].size(); ++i) {
    for (std::size_t j = 0; j < all.size(); ++j) {
      if (i != static_cast<std::size_t>(short_len - ecc_len) || j >= static_cast<std::size_t>(short_blocks))
        out.push_back(all[j][i]);
    }
  }
  return out;
}

}  // namespace

std::vector<std::uint8_t> reed_solomon_remainder(const std::vector<std::uint8_t>& data, int ecc_length) {
  const auto divisor = generator(ecc_length);
  std::vector<std::uint8_t> result(divisor.size(), 0);
  for (std::uint8_t b : data) {
    const auto factor = static_cast<std::uint8_t>(b ^ result.front());
    result.erase(result.begin());
    result.push_back(0);
    for (std::size_t i = 0; i < result.size(); ++i) result[i] ^= gf_multiply(divisor[i], factor);
  }
  return result;
}

int QrCode::byte_capacity(int version) {
  if (version < kMinVersion || version > kMaxVersion) return 0;
  return (data_codewords(version) * 8 - 4 - count_bits(version)) / 8;
}

QrCode::QrCode(int version, int mask)
    : version_(version),
      size_(version * 4 + 17),
      mask_(mask),
      modules_(static_cast<std::size_t>(size_ * size_), 0),
      function_(static_cast<std::size_t>(size_ * size_), 0) {}

std::optional<QrCode> QrCode::encode(std::string_view bytes, int mask) {
  if (mask < -1 || mask > 7) return std::nullopt;
  int version = kMinVersion;
  while (version <= kMaxVersion && byte_capacity(version) < static_cast<int>(bytes.size())) ++version;
  if (version > kMaxVersion) return std::nullopt;

  QrCode qr(version, 0);
  qr.draw_function_patterns();
  qr.draw_codewords(add_ecc_and_interleave(data_codewords_for(bytes, version), version));
  if (mask == -1) {
    // Try all eight (7.8.3); each mask is its own inverse.
    long best = -1;
    for (int m = 0; m < 8; ++m) {
      qr.apply_mask(m);
      qr.draw_format_bits(m);
      const long score = qr.penalty();
      if (best < 0 || score < best) {
        best = score;
        mask = m;
      }
      qr.apply_mask(m);
    }
  }
  qr.mask_ = mask;
  qr.apply_mask(mask);
  qr.draw_format_bits(mask);
  return qr;
}

void QrCode::set_function(int x, int y, bool dark) {
  const auto i = static_cast<std::size_t>(y * size_ + x);
  modules_[i] = dark ? 1 : 0;
  function_[i] = 1;
}

void QrCode::draw_function_patterns() {
  for (int i = 0; i < size_; ++i) {  // timing patterns (6.3.5)
    set_function(6, i, i % 2 == 0);
    set_function(i, 6, i % 2 == 0);
  }
  // Finder patterns with their separators (6.3.3, 6.3.4).
  for (auto [cx, cy] : {std::pair{3, 3}, std::pair{size_ - 4, 3}, std::pair{3, size_ - 4}}) {
    for (int dy = -4; dy <= 4; ++dy) {
      for (int dx = -4; dx <= 4; ++dx) {
        const int x = cx + dx, y = cy + dy;
        if (x < 0 || y < 0 || x >= size_ || y >= size_) continue;
        const int dist = std::max(std::abs(dx), std::abs(dy));
        set_function(x, y, dist != 2 && dist != 4);
      }
    }
  }
  // Alignment patterns, except where they would overlap a finder (6.3.6).
  const auto pos = alignment_positions(version_);
  const std::size_t n = pos.size();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      if ((i == 0 && j == 0) || (i == 0 && j == n - 1) || (i == n - 1 && j == 0)) continue;
      for (int dy = -2; dy <= 2; ++dy)
        for (int dx = -2; dx <= 2; ++dx)
          set_function(pos[i] + dx, pos[j] + dy, std::max(std::abs(dx), std::abs(dy)) != 1);
    }
  }
  draw_format_bits(0);  // reserves the format areas; redrawn with the chosen mask
  draw_version_bits();
}

void QrCode::draw_format_bits(int mask) {
  // Level M is 00 (Table 12); BCH(15,5) with generator 0x537, then XOR 0x5412 (7.9.1).
  const int data = mask;
  int rem = data;
  for (int i = 0; i < 10; ++i) rem = (rem << 1) ^ ((rem >> 9) * 0x537);
  const int bits = ((data << 10) | rem) ^ 0x5412;
  auto bit = [bits](int i) { return ((bits >> i) & 1) != 0; };
  for (int i = 0; i <= 5; ++i) set_function(8, i, bit(i));
  set_function(8, 7, bit(6));
  set_function(8, 8, bit(7));
  set_function(7, 8, bit(8));
  for (int i = 9; i < 15; ++i) set_function(14 - i, 8, bit(i));
  for (int i = 0; i < 8; ++i) set_function(size_ - 1 - i, 8, bit(i));
  for (int i = 8; i < 15; ++i) set_function(8, size_ - 15 + i, bit(i));
  set_function(8, size_ - 8, true);  // the dark module
}

void QrCode::draw_version_bits() {
  if (version_ < 7) return;
  // BCH(18,6) with generator 0x1F25 (7.10).
  int rem = version_;
  for (int i = 0; i < 12; ++i) rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
  const long bits = (static_cast<long>(version_) << 12) | rem;
  for (int i = 0; i < 18; ++i) {
    const bool dark = ((bits >> i) & 1) != 0;
    const int a = size_ - 11 + i % 3, b = i / 3;
    set_function(a, b, dark);
    set_function(b, a, dark);
  }
}

void QrCode::draw_codewords(const std::vector<std::uint8_t>& codewords) {
  // Two-module columns from the right, zig-zagging up and down, skipping the
  // vertical timing column (7.7.3).
  std::size_t i = 0;
  const std::size_t total = codewords.size() * 8;
  for (int right = size_ - 1; right >= 1; right -= 2) {
    if (right == 6) right = 5;
    for (int vert = 0; vert < size_; ++vert) {
      for (int j = 0; j < 2; ++j) {
        const int x = right - j;
        const bool upward = ((right + 1) & 2) == 0;
        const int y = upward ? size_ - 1 - vert : vert;
        const auto idx = static_cast<std::size_t>(y * size_ + x);
        if (function_[idx] != 0 || i >= total) continue;
        modules_[idx] = (codewords[i / 8] >> (7 - i % 8)) & 1;
        ++i;
      }
    }
  }
}

void QrCode::apply_mask(int mask) {
  for (int y = 0; y < size_; ++y)
    for (int x = 0; x < size_; ++x) {
      const auto idx = static_cast<std::size_t>(y * size_ + x);
      if (function_[idx] == 0 && mask_bit(mask, x, y)) modules_[idx] ^= 1;
    }
}

long QrCode::penalty() const {
  // 7.8.3.1: N1 = 3 (runs of 5+, +1 per extra), N2 = 3 (2x2 blocks), N3 = 40
  // (1:1:3:1:1 finder-like runs with 4 light modules on one side; outside the
  // symbol counts as light), N4 = 10 per 5 % of dark modules away from 50 %.
  long score = 0;
  auto line = [&](bool rows, int k, int i) { return rows ? dark(i, k) : dark(k, i); };
  static constexpr std::array<int, 11> kFinderA = {0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1};
  static constexpr std::array<int, 11> kFinderB = {1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0};
  for (bool rows : {true, false}) {
    for (int k = 0; k < size_; ++k) {
      int run = 1;
      for (int i = 1; i <= size_; ++i) {
        if (i < size_ && line(rows, k, i) == line(rows, k, i - 1)) {
          ++run;
          continue;
        }
        if (run >= 5) score += 3 + (run - 5);
        run = 1;
      }
      for (int i = -4; i + 11 <= size_ + 4; ++i) {
        bool a = true, b = true;
        for (int j = 0; j < 11; ++j) {
          const int v = line(rows, k, i + j) ? 1 : 0;  // dark() is light outside
          a = a && v == kFinderA[static_cast<std::size_t>(j)];
          b = b && v == kFinderB[static_cast<std::size_t>(j)];
        }
        if (a) score += 40;
        if (b) score += 40;
      }
    }
  }
  long dark_count = 0;
  for (int y = 0; y < size_; ++y) {
    for (int x = 0; x < size_; ++x) {
      if (dark(x, y)) ++dark_count;
      if (x + 1 < size_ && y + 1 < size_) {
        const bool c = dark(x, y);
        if (c == dark(x + 1, y) && c == dark(x, y + 1) && c == dark(x + 1, y + 1)) score += 3;
      }
    }
  }
  const long total = static_cast<long>(size_) * size_;
  const long k = (std::labs(dark_count * 20 - total * 10) + total - 1) / total - 1;
  score += k * 10;
  return score;
}

}  // namespace harvest::livecommerce

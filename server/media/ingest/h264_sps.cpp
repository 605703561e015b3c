#include "media/ingest/h264_sps.h"

#include <cstdint>
#include <vector>

namespace harvest::media {
namespace {

class BitReader {
public:
  explicit BitReader(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  bool ok() const { return !overrun_; }
  uint32_t bits(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 1) | bit();
    return v;
  }
  uint32_t ue() {
    int zeros = 0;
    while (bit() == 0 && ok() && zeros < 32) ++zeros;
    if (zeros >= 32) {
      overrun_ = true;
      return 0;
    }
    return ((uint32_t{1} << zeros) - 1) + bits(zeros);
  }
  int32_t se() {
    const uint32_t k = ue();
    return (k & 1) != 0 ? static_cast<int32_t>((k + 1) / 2) : -static_cast<int32_t>(k / 2);
  }

private:
  uint32_t bit() {
    if (pos_ >= bytes_.size() * 8) {
      overrun_ = true;
      return 0;
    }
    const uint32_t b = (bytes_[pos_ / 8] >> (7 - pos_ % 8)) & 1u;
    ++pos_;
    return b;
  }
  std::vector<uint8_t> bytes_;
  size_t pos_ = 0;
  bool overrun_ = false;
};

void skip_scaling_list(BitReader& r, int size) {
  int last = 8, next = 8;
  for (int j = 0; j < size && r.ok(); ++j) {
    // delta_scale is -128..127 in a valid stream; a hostile one may hold any 32-bit value, so
    // the sum is taken in 64 bits and wrapped into 0..255 (a fuzz finding: int overflow).
    if (next != 0) next = static_cast<int>(((int64_t{last} + r.se()) % 256 + 256) % 256);
    last = next == 0 ? last : next;
  }
}

const char* profile_name(uint32_t idc, uint32_t constraints) {
  switch (idc) {
    case 66: return (constraints & 0x40) != 0 ? "constrained-baseline" : "baseline";
    case 77: return "main";
    case 88: return "extended";
    case 100: return "high";
    case 110: return "high-10";
    case 122: return "high-4:2:2";
    case 244: return "high-4:4:4";
    default: return "unknown";
  }
}

}  // namespace

std::optional<SpsFacts> parse_sps(std::string_view sps) {
  if (sps.size() < 4 || (static_cast<uint8_t>(sps[0]) & 0x1f) != 7) return std::nullopt;
  std::vector<uint8_t> rbsp;  // without emulation prevention bytes (00 00 03)
  rbsp.reserve(sps.size());
  int zeros = 0;
  for (size_t i = 1; i < sps.size(); ++i) {
    const auto b = static_cast<uint8_t>(sps[i]);
    if (zeros >= 2 && b == 3) {
      zeros = 0;
      continue;
    }
    zeros = b == 0 ? zeros + 1 : 0;
    rbsp.push_back(b);
  }
  BitReader r(std::move(rbsp));
  const uint32_t profile_idc = r.bits(8);
  const uint32_t constraints = r.bits(8);
  r.bits(8);  // level
  r.ue();     // seq_parameter_set_id
  uint32_t chroma_format = 1;
  uint32_t depth_luma = 0, depth_chroma = 0;  // minus 8
  if (profile_idc == 100 || profile_idc == 110 || profile_idc == 122 || profile_idc == 244 || profile_idc == 44 ||
      profile_idc == 83 || profile_idc == 86 || profile_idc == 118 || profile_idc == 128 || profile_idc == 138 ||
      profile_idc == 139 || profile_idc == 134 || profile_idc == 135) {
    chroma_format = r.ue();
    if (chroma_format == 3) r.bits(1);  // separate_colour_plane
    depth_luma = r.ue();
    depth_chroma = r.ue();
    r.bits(1);                          // qpprime_y_zero_transform_bypass
    if (r.bits(1) != 0) {               // seq_scaling_matrix_present
      for (int i = 0; i < (chroma_format != 3 ? 8 : 12) && r.ok(); ++i)
        if (r.bits(1) != 0) skip_scaling_list(r, i < 6 ? 16 : 64);
    }
  }
  r.ue();  // log2_max_frame_num
  const uint32_t poc_type = r.ue();
  if (poc_type == 0) {
    r.ue();
  } else if (poc_type == 1) {
    r.bits(1);
    r.se();
    r.se();
    const uint32_t n = r.ue();
    for (uint32_t i = 0; i < n && i < 256 && r.ok(); ++i) r.se();
  }
  r.ue();     // max_num_ref_frames
  r.bits(1);  // gaps_in_frame_num_allowed
  const uint32_t width_mbs = r.ue() + 1;
  const uint32_t height_map_units = r.ue() + 1;
  const uint32_t frame_mbs_only = r.bits(1);
  if (frame_mbs_only == 0) r.bits(1);  // mb_adaptive_frame_field
  r.bits(1);                           // direct_8x8_inference
  uint32_t crop_l = 0, crop_r = 0, crop_t = 0, crop_b = 0;
  if (r.bits(1) != 0) {
    crop_l = r.ue();
    crop_r = r.ue();
    crop_t = r.ue();
    crop_b = r.ue();
  }
  if (!r.ok() || width_mbs > 1024 || height_map_units > 1024) return std::nullopt;
  const uint32_t crop_x = chroma_format == 1 || chroma_format == 2 ? 2 : 1;
  const uint32_t crop_y = (chroma_format == 1 ? 2 : 1) * (2 - frame_mbs_only);
  SpsFacts f;
  // In 64 bits, and the cropping must leave a picture: the crop offsets are exp-Golomb numbers
  // up to 2^32 from the publisher, and in 32 unsigned bits a crop larger than the picture
  // wrapped around into a huge "size" (found by fuzz_h264_sps: 62x2114473536).
  const int64_t full_w = int64_t{width_mbs} * 16;
  const int64_t full_h = int64_t{2 - frame_mbs_only} * height_map_units * 16;
  const int64_t cut_w = int64_t{crop_x} * (int64_t{crop_l} + crop_r);
  const int64_t cut_h = int64_t{crop_y} * (int64_t{crop_t} + crop_b);
  if (cut_w >= full_w || cut_h >= full_h) return std::nullopt;
  f.width = static_cast<int>(full_w - cut_w);
  f.height = static_cast<int>(full_h - cut_h);
  f.profile = profile_name(profile_idc, constraints);
  f.profile_idc = static_cast<int>(profile_idc);
  // Kept only within the spec's ranges (chroma_format_idc 0..3, bit depth 8..14): they go into
  // 2- and 3-bit fields of the avcC.
  if (chroma_format <= 3 && depth_luma <= 6 && depth_chroma <= 6) {
    f.chroma_format_idc = static_cast<int>(chroma_format);
    f.bit_depth_luma = static_cast<int>(depth_luma) + 8;
    f.bit_depth_chroma = static_cast<int>(depth_chroma) + 8;
  }
  if (f.width <= 0 || f.height <= 0) return std::nullopt;
  if (r.bits(1) != 0) {  // vui_parameters_present
    if (r.bits(1) != 0 && r.bits(8) == 255) r.bits(32);  // aspect_ratio_info (+ extended SAR)
    if (r.bits(1) != 0) r.bits(1);                        // overscan
    if (r.bits(1) != 0) {                                 // video_signal_type
      r.bits(4);
      if (r.bits(1) != 0) r.bits(24);
    }
    if (r.bits(1) != 0) {  // chroma_loc_info
      r.ue();
      r.ue();
    }
    if (r.bits(1) != 0) {  // timing_info_present
      const uint32_t units = r.bits(32);
      const uint32_t scale = r.bits(32);
      if (r.ok() && units > 0 && scale > 0) f.fps = static_cast<double>(scale) / (2.0 * units);
    }
  }
  return f;
}

std::optional<SpsFacts> parse_avc_config_sps(std::string_view c) {
  if (c.size() < 8 || (static_cast<uint8_t>(c[5]) & 0x1f) == 0) return std::nullopt;
  const size_t len = (size_t{static_cast<uint8_t>(c[6])} << 8) | static_cast<uint8_t>(c[7]);
  if (8 + len > c.size()) return std::nullopt;
  return parse_sps(c.substr(8, len));
}

}  // namespace harvest::media

#pragma once
// Facts about an H.264 stream from its sequence parameter set: picture size (after cropping),
// declared frame rate (VUI timing) and profile. Pure; used where no h264parse runs (the RTMP
// passthrough gets its parameter sets in the AVC decoder configuration record) and for the
// LL-HLS rendition of MPEG-TS inputs (picture size and the avcC's high-profile fields).
#include <optional>
#include <string>
#include <string_view>

namespace harvest::media {

struct SpsFacts {
  int width = 0;
  int height = 0;
  double fps = 0;  // 0: not declared
  std::string profile;
  // For the avcC's extension of the high profiles (ISO/IEC 14496-15 5.3.3.1.2).
  int profile_idc = 0;
  int chroma_format_idc = 1;  // 4:2:0 unless the SPS says otherwise
  int bit_depth_luma = 8;
  int bit_depth_chroma = 8;
};

// `sps`: one SPS NAL unit (header byte first, emulation prevention bytes still in).
std::optional<SpsFacts> parse_sps(std::string_view sps);
// The first SPS of an AVCDecoderConfigurationRecord, parsed.
std::optional<SpsFacts> parse_avc_config_sps(std::string_view avc_config);

}  // namespace harvest::media

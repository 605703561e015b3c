#pragma once
// Facts about an H.264 stream from its sequence parameter set: picture size (after cropping),
// declared frame rate (VUI timing) and profile. Pure; used where no h264parse runs (the RTMP
// passthrough gets its parameter sets in the AVC decoder configuration record).
#include <optional>
#include <string>
#include <string_view>

namespace harvest::media {

struct SpsFacts {
  int width = 0;
  int height = 0;
  double fps = 0;  // 0: not declared
  std::string profile;
};

// `sps`: one SPS NAL unit (header byte first, emulation prevention bytes still in).
std::optional<SpsFacts> parse_sps(std::string_view sps);
// The first SPS of an AVCDecoderConfigurationRecord, parsed.
std::optional<SpsFacts> parse_avc_config_sps(std::string_view avc_config);

}  // namespace harvest::media

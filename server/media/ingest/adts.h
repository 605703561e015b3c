#pragma once
// AAC in ADTS frames (ISO/IEC 13818-7 / 14496-3 1.A.2: a 7-byte header, 9 with a CRC, before
// each frame), as SRT's MPEG-TS brings it out of tsdemux ! aacparse, turned into what the CMAF
// writer (hls::Fmp4Muxer) takes: raw AAC frames and an AudioSpecificConfig (14496-3 1.6.2.1).
// RTMP brings both ready-made; for SRT the LL-HLS rendition needs them (docs/ll-hls.md).
// Pure; fuzzed by tests/fuzz/fuzz_annexb_adts.cpp.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace harvest::media {

struct AdtsHeader {
  int object_type = 0;      // MPEG-4 audio object type: ADTS profile + 1 (2 = AAC LC)
  int frequency_index = 0;  // 0..12
  int sample_rate = 0;      // from frequency_index
  int channel_config = 0;   // 0: given by a program config element in the stream
  size_t header_size = 0;   // 7, or 9 with the CRC (protection_absent = 0)
  size_t frame_size = 0;    // header + payload (aac_frame_length)
};

// The header of the ADTS frame at the start of `bytes`; nullopt unless it is one: the sync word,
// layer 0, a sampling index below 13, a frame length that covers its header and fits in `bytes`,
// and one raw data block (several blocks in one frame would need the AAC bitstream parsed to
// split them; no encoder in use writes them).
std::optional<AdtsHeader> parse_adts_header(std::string_view bytes);

// 2-byte AudioSpecificConfig for a header: object type, sampling index, channel configuration
// (frameLengthFlag, dependsOnCoreCoder, extensionFlag 0).
std::string audio_specific_config(const AdtsHeader& h);

struct AdtsFrames {
  AdtsHeader header;                     // the first frame's
  std::vector<std::string_view> frames;  // raw AAC payloads (views into the input), in order
};

// The ADTS frames one after the other at the start of `bytes`. Stops at the first thing that is
// not a complete frame (truncated, garbage) or whose configuration (object type, rate, channels)
// differs from the first's: those bytes are left out, never read past. nullopt: no frame at all.
std::optional<AdtsFrames> split_adts(std::string_view bytes);

}  // namespace harvest::media

#pragma once
// H.264 byte-stream (ITU-T H.264 Annex B: start codes, parameter sets in band), as SRT's MPEG-TS
// brings it out of tsdemux ! h264parse, turned into what the CMAF writer (hls::Fmp4Muxer) takes:
// AVCC access units (4-byte big-endian NAL unit lengths) and an AVCDecoderConfigurationRecord
// (avcC, ISO/IEC 14496-15 5.3.3.1) built from the SPS and PPS found in the stream. RTMP brings
// both ready-made; for SRT the LL-HLS rendition needs them converted (docs/ll-hls.md).
// Pure functions over bytes; fuzzed by tests/fuzz/fuzz_annexb_adts.cpp.
#include <string>
#include <string_view>
#include <vector>

namespace harvest::media {

// The NAL units of an Annex B buffer, start codes (00 00 01 / 00 00 00 01) removed, trailing
// zero bytes of each (trailing_zero_8bits, the leading zero of a 4-byte start code) cut off,
// empty ones left out. Bytes before the first start code are not a NAL unit and are skipped.
std::vector<std::string_view> split_annexb(std::string_view bytes);

// The first SPS (NAL type 7) and PPS (type 8) seen in a stream.
struct H264ParameterSets {
  std::string sps;
  std::string pps;
  bool complete() const { return !sps.empty() && !pps.empty(); }
};

// One Annex B access unit as AVCC, appended to `out`: every NAL unit with a 4-byte length,
// except access unit delimiters (type 9; a CMAF sample has none). SPS and PPS stay in the sample
// (allowed in band for avc1) and, when `sets` is given, are kept there if none was seen before.
// Returns the number of NAL units written.
size_t annexb_to_avcc(std::string_view access_unit, std::string& out, H264ParameterSets* sets = nullptr);

// AVCDecoderConfigurationRecord with one SPS and one PPS, 4-byte NAL lengths. Profile,
// compatibility and level come from the SPS's first three bytes after its header. Empty when
// either is not what it says (wrong NAL type, an SPS shorter than 4 bytes, a set over 65535 bytes).
std::string make_avc_config(std::string_view sps, std::string_view pps);

}  // namespace harvest::media

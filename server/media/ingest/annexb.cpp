#include "media/ingest/annexb.h"

#include <cstdint>
#include <span>

#include "media/ingest/h264_sps.h"
#include "sei.h"

namespace harvest::media {
namespace {

constexpr int kNalSps = 7;
constexpr int kNalPps = 8;
constexpr int kNalAud = 9;

int nal_type(std::string_view nal) { return static_cast<uint8_t>(nal[0]) & 0x1f; }

void put_u8(std::string& s, uint32_t v) { s.push_back(static_cast<char>(v & 0xff)); }
void put_u16(std::string& s, size_t v) {
  put_u8(s, static_cast<uint32_t>(v >> 8));
  put_u8(s, static_cast<uint32_t>(v));
}
void put_u32(std::string& s, size_t v) {
  put_u16(s, v >> 16);
  put_u16(s, v & 0xffff);
}

}  // namespace

std::vector<std::string_view> split_annexb(std::string_view bytes) {
  // The productcue element's splitter (livecommerce/sei.h), the same rules, as string_views.
  const std::span<const uint8_t> au(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  std::vector<std::string_view> nals;
  for (const auto& unit : livecommerce::split_nal_units(au, {.framing = livecommerce::H264Framing::kByteStream}))
    nals.push_back(bytes.substr(unit.offset, unit.size));
  return nals;
}

size_t annexb_to_avcc(std::string_view access_unit, std::string& out, H264ParameterSets* sets) {
  size_t written = 0;
  for (std::string_view nal : split_annexb(access_unit)) {
    const int type = nal_type(nal);
    if (type == kNalAud) continue;
    if (sets != nullptr && type == kNalSps && sets->sps.empty()) sets->sps.assign(nal);
    if (sets != nullptr && type == kNalPps && sets->pps.empty()) sets->pps.assign(nal);
    put_u32(out, nal.size());
    out.append(nal);
    ++written;
  }
  return written;
}

std::string make_avc_config(std::string_view sps, std::string_view pps) {
  if (sps.size() < 4 || pps.empty() || sps.size() > 0xffff || pps.size() > 0xffff) return {};
  if (nal_type(sps) != kNalSps || nal_type(pps) != kNalPps) return {};
  std::string c;
  put_u8(c, 1);                // configurationVersion
  c.append(sps.substr(1, 3));  // AVCProfileIndication, profile_compatibility, AVCLevelIndication
  put_u8(c, 0xfc | 3);         // reserved, lengthSizeMinusOne = 3
  put_u8(c, 0xe0 | 1);         // reserved, numOfSequenceParameterSets = 1
  put_u16(c, sps.size());
  c.append(sps);
  put_u8(c, 1);  // numOfPictureParameterSets
  put_u16(c, pps.size());
  c.append(pps);
  // The high profiles carry chroma format and bit depths too (ISO/IEC 14496-15 5.3.3.1.2);
  // written when the SPS can be read, as ffmpeg and GStreamer write them.
  const int profile = static_cast<uint8_t>(sps[1]);
  if (profile == 100 || profile == 110 || profile == 122 || profile == 144) {
    if (const auto facts = parse_sps(sps)) {
      put_u8(c, 0xfc | static_cast<uint32_t>(facts->chroma_format_idc));
      put_u8(c, 0xf8 | static_cast<uint32_t>(facts->bit_depth_luma - 8));
      put_u8(c, 0xf8 | static_cast<uint32_t>(facts->bit_depth_chroma - 8));
      put_u8(c, 0);  // numOfSequenceParameterSetExt
    }
  }
  return c;
}

}  // namespace harvest::media

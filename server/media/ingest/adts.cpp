#include "media/ingest/adts.h"

#include <array>
#include <cstdint>

namespace harvest::media {

std::optional<AdtsHeader> parse_adts_header(std::string_view bytes) {
  static constexpr std::array<int, 13> kRates{96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                              22050, 16000, 12000, 11025, 8000,  7350};
  if (bytes.size() < 7) return std::nullopt;
  const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
  if (b[0] != 0xff || (b[1] & 0xf6) != 0xf0) return std::nullopt;  // sync word, layer 0
  AdtsHeader h;
  h.header_size = (b[1] & 0x01) != 0 ? 7 : 9;  // protection_absent = 0: a 16-bit CRC follows
  h.object_type = (b[2] >> 6) + 1;
  h.frequency_index = (b[2] >> 2) & 0x0f;
  if (h.frequency_index >= static_cast<int>(kRates.size())) return std::nullopt;
  h.sample_rate = kRates[static_cast<size_t>(h.frequency_index)];
  h.channel_config = ((b[2] & 0x01) << 2) | (b[3] >> 6);
  h.frame_size = (size_t{b[3] & 0x03u} << 11) | (size_t{b[4]} << 3) | (b[5] >> 5);
  const int raw_blocks = (b[6] & 0x03) + 1;
  if (raw_blocks != 1 || h.frame_size <= h.header_size || h.frame_size > bytes.size()) return std::nullopt;
  return h;
}

std::string audio_specific_config(const AdtsHeader& h) {
  std::string asc(2, '\0');
  asc[0] = static_cast<char>(((h.object_type & 0x1f) << 3) | ((h.frequency_index & 0x0f) >> 1));
  asc[1] = static_cast<char>(((h.frequency_index & 0x01) << 7) | ((h.channel_config & 0x0f) << 3));
  return asc;
}

std::optional<AdtsFrames> split_adts(std::string_view bytes) {
  std::optional<AdtsFrames> out;
  size_t at = 0;
  while (auto h = parse_adts_header(bytes.substr(at))) {
    if (!out) {
      out.emplace();
      out->header = *h;
    } else if (h->object_type != out->header.object_type ||
               h->frequency_index != out->header.frequency_index ||
               h->channel_config != out->header.channel_config) {
      break;
    }
    out->frames.push_back(bytes.substr(at + h->header_size, h->frame_size - h->header_size));
    at += h->frame_size;
  }
  return out;
}

}  // namespace harvest::media

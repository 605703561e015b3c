#include "media/rtmp/flv.h"

namespace harvest::media::rtmp {
namespace {
uint8_t byte_at(std::string_view s, size_t i) { return static_cast<uint8_t>(s[i]); }
uint32_t be24(std::string_view s, size_t i) {
  return (uint32_t{byte_at(s, i)} << 16) | (uint32_t{byte_at(s, i + 1)} << 8) | byte_at(s, i + 2);
}
int32_t si24(std::string_view s, size_t i) {
  uint32_t v = be24(s, i);
  if (v & 0x800000) v |= 0xff000000u;
  return static_cast<int32_t>(v);
}
}  // namespace

std::string_view codec_name(VideoCodec c) {
  switch (c) {
    case VideoCodec::none: return "none";
    case VideoCodec::h264: return "h264";
    case VideoCodec::hevc: return "hevc";
    case VideoCodec::av1: return "av1";
    case VideoCodec::vp9: return "vp9";
    case VideoCodec::other: return "other";
  }
  return "other";
}

std::string_view codec_name(AudioCodec c) {
  switch (c) {
    case AudioCodec::none: return "none";
    case AudioCodec::aac: return "aac";
    case AudioCodec::mp3: return "mp3";
    case AudioCodec::other: return "other";
  }
  return "other";
}

std::optional<VideoTag> parse_video_tag(std::string_view body) {
  if (body.empty()) return std::nullopt;
  VideoTag tag;
  const uint8_t b0 = byte_at(body, 0);
  if (b0 & 0x80) {
    // Enhanced RTMP: [IsExHeader|FrameType:3|PacketType:4] FourCC ...
    if (body.size() < 5) return std::nullopt;
    tag.fourcc = std::string(body.substr(1, 4));
    const int frame_type = (b0 >> 4) & 0x07;
    const int packet_type = b0 & 0x0f;
    tag.keyframe = frame_type == 1;
    tag.sequence_header = packet_type == 0;
    tag.end_of_sequence = packet_type == 2;
    if (tag.fourcc == "hvc1") tag.codec = VideoCodec::hevc;
    else if (tag.fourcc == "av01") tag.codec = VideoCodec::av1;
    else if (tag.fourcc == "vp09") tag.codec = VideoCodec::vp9;
    else if (tag.fourcc == "avc1") tag.codec = VideoCodec::h264;
    else tag.codec = VideoCodec::other;
    size_t pos = 5;
    if (packet_type == 1 && (tag.codec == VideoCodec::h264 || tag.codec == VideoCodec::hevc)) {
      if (body.size() < pos + 3) return std::nullopt;
      tag.composition_ms = si24(body, pos);
      pos += 3;
    }
    tag.data = body.substr(pos);
    return tag;
  }
  const int frame_type = b0 >> 4;
  tag.codec_id = b0 & 0x0f;
  tag.keyframe = frame_type == 1;
  switch (tag.codec_id) {
    case 7: tag.codec = VideoCodec::h264; break;
    case 12: tag.codec = VideoCodec::hevc; break;  // the unofficial "HEVC over FLV" id used by Chinese CDNs
    case 13: tag.codec = VideoCodec::av1; break;
    default: tag.codec = VideoCodec::other; break;
  }
  if (tag.codec == VideoCodec::h264 || tag.codec == VideoCodec::hevc) {
    if (body.size() < 5) return std::nullopt;
    const uint8_t packet_type = byte_at(body, 1);
    tag.sequence_header = packet_type == 0;
    tag.end_of_sequence = packet_type == 2;
    tag.composition_ms = si24(body, 2);
    tag.data = body.substr(5);
  } else {
    tag.data = body.substr(1);
  }
  return tag;
}

std::optional<AudioTag> parse_audio_tag(std::string_view body) {
  if (body.empty()) return std::nullopt;
  AudioTag tag;
  tag.sound_format = byte_at(body, 0) >> 4;
  if (tag.sound_format == 10) {
    if (body.size() < 2) return std::nullopt;
    tag.codec = AudioCodec::aac;
    tag.sequence_header = byte_at(body, 1) == 0;
    tag.data = body.substr(2);
  } else {
    tag.codec = tag.sound_format == 2 || tag.sound_format == 14 ? AudioCodec::mp3 : AudioCodec::other;
    tag.data = body.substr(1);
  }
  return tag;
}

std::optional<AacConfig> parse_audio_specific_config(std::string_view asc) {
  if (asc.size() < 2) return std::nullopt;
  static constexpr int kRates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050,
                                   16000, 12000, 11025, 8000,  7350};
  uint64_t bits = 0;
  const size_t n = std::min<size_t>(asc.size(), 8);
  for (size_t i = 0; i < 8; ++i) bits = (bits << 8) | (i < n ? byte_at(asc, i) : 0);
  int pos = 0;
  auto take = [&](int count) {
    const auto v = static_cast<int>((bits >> (64 - pos - count)) & ((1ull << count) - 1));
    pos += count;
    return v;
  };
  AacConfig cfg;
  cfg.object_type = take(5);
  if (cfg.object_type == 31) cfg.object_type = 32 + take(6);
  const int freq_index = take(4);
  if (freq_index == 15) {
    if (asc.size() < 5) return std::nullopt;
    cfg.sample_rate = take(24);
  } else if (freq_index < 13) {
    cfg.sample_rate = kRates[freq_index];
  } else {
    return std::nullopt;
  }
  cfg.channels = take(4);
  if (cfg.object_type == 0 || cfg.sample_rate == 0) return std::nullopt;
  return cfg;
}

bool looks_like_avc_config(std::string_view r) {
  // configurationVersion 1, profile, compat, level, lengthSizeMinusOne, numSPS...
  return r.size() >= 7 && byte_at(r, 0) == 1 && (byte_at(r, 5) & 0x1f) >= 1;
}

std::optional<std::vector<FlvTag>> parse_flv_file(std::string_view f) {
  if (f.size() < 13 || f.substr(0, 3) != "FLV") return std::nullopt;
  const uint32_t header_size = (uint32_t{byte_at(f, 5)} << 24) | be24(f, 6);
  size_t pos = header_size + 4;  // header + PreviousTagSize0
  std::vector<FlvTag> tags;
  while (pos + 11 <= f.size()) {
    FlvTag tag;
    tag.type = byte_at(f, pos) & 0x1f;
    const uint32_t size = be24(f, pos + 1);
    tag.timestamp = be24(f, pos + 4) | (uint32_t{byte_at(f, pos + 7)} << 24);
    if (pos + 11 + size + 4 > f.size()) break;
    tag.body = std::string(f.substr(pos + 11, size));
    tags.push_back(std::move(tag));
    pos += 11 + size + 4;
  }
  return tags;
}

std::string write_flv_file(const std::vector<FlvTag>& tags, bool has_audio, bool has_video) {
  std::string out = "FLV";
  out.push_back(1);
  out.push_back(static_cast<char>((has_audio ? 4 : 0) | (has_video ? 1 : 0)));
  out.append("\0\0\0\x09\0\0\0\0", 8);
  for (const auto& t : tags) {
    const auto size = static_cast<uint32_t>(t.body.size());
    out.push_back(static_cast<char>(t.type));
    for (int s = 16; s >= 0; s -= 8) out.push_back(static_cast<char>((size >> s) & 0xff));
    for (int s = 16; s >= 0; s -= 8) out.push_back(static_cast<char>((t.timestamp >> s) & 0xff));
    out.push_back(static_cast<char>(t.timestamp >> 24));
    out.append("\0\0\0", 3);
    out += t.body;
    const uint32_t prev = size + 11;
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((prev >> s) & 0xff));
  }
  return out;
}

}  // namespace harvest::media::rtmp

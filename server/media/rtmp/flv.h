#pragma once
// FLV tag bodies as carried in RTMP audio/video messages, and FLV files (the demo loop and
// tests replay them). Pure functions over bytes.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace harvest::media::rtmp {

enum class VideoCodec { none, h264, hevc, av1, vp9, other };
enum class AudioCodec { none, aac, mp3, other };
std::string_view codec_name(VideoCodec c);
std::string_view codec_name(AudioCodec c);

struct VideoTag {
  VideoCodec codec = VideoCodec::none;
  int codec_id = 0;           // legacy FLV codec id, or 0 for an enhanced-RTMP FourCC
  std::string fourcc;         // enhanced RTMP only
  bool keyframe = false;
  bool sequence_header = false;  // AVCDecoderConfigurationRecord
  bool end_of_sequence = false;
  int32_t composition_ms = 0;    // PTS - DTS
  std::string_view data;         // AVCC NAL units, or the configuration record
};
// nullopt when the body is too short to hold its header.
std::optional<VideoTag> parse_video_tag(std::string_view body);

struct AudioTag {
  AudioCodec codec = AudioCodec::none;
  int sound_format = 0;
  bool sequence_header = false;  // AudioSpecificConfig
  std::string_view data;
};
std::optional<AudioTag> parse_audio_tag(std::string_view body);

struct AacConfig {
  int object_type = 0;
  int sample_rate = 0;
  int channels = 0;
};
std::optional<AacConfig> parse_audio_specific_config(std::string_view asc);

// Width/height are not read here (h264parse reports them); this only checks the record's shape.
bool looks_like_avc_config(std::string_view record);

// --- FLV files ---
struct FlvTag {
  uint8_t type = 0;        // 8 audio, 9 video, 18 script data
  uint32_t timestamp = 0;  // ms
  std::string body;
};
// Parses a whole FLV file; stops at the first truncated tag. nullopt if there is no FLV header.
std::optional<std::vector<FlvTag>> parse_flv_file(std::string_view file);
std::string write_flv_file(const std::vector<FlvTag>& tags, bool has_audio, bool has_video);

}  // namespace harvest::media::rtmp

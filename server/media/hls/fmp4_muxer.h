#pragma once
// Fragmented MP4 (CMAF) for the LL-HLS passthrough rendition: an init segment (ftyp + moov with
// an avc1/avcC video track and an mp4a/esds audio track, mvex) and then one moof + mdat per
// part, each fragment decodable after the init segment and the fragments before it.
//
// Why our own and not mp4mux/qtmux: GStreamer 1.22's fragmented mp4mux (and isofmp4mux in
// gst-plugins-rs, not in Debian bookworm) fragments on its own clock and would add an
// aggregator thread and a GstBuffer per fragment per stream, as mpegtsmux did before TsMuxer
// replaced it (docs/benchmarks.md); the part boundaries must also be ours (LlHlsStream cuts
// parts and segments). The boxes needed for H.264 + AAC passthrough are few and fixed.
//
// Timestamps: decode/presentation times are running time + TsMuxer::kTimestampOffsetNs, so an
// fMP4 player's media time maps to the same stream PTS as the MPEG-TS rendition's (the card cue
// `pts` sent to players, docs/media-link.md). Video timescale 90 kHz, audio: its sample rate.
//
// Input: video as AVCC access units (length-prefixed NAL units, as RTMP brings them) with the
// AVCDecoderConfigurationRecord; audio as raw AAC frames with the AudioSpecificConfig.
// Pure (no I/O), not thread-safe; unit-tested box by box.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace harvest::media::hls {

class Fmp4Muxer {
public:
  static constexpr uint32_t kVideoTrack = 1;
  static constexpr uint32_t kAudioTrack = 2;
  static constexpr uint32_t kVideoTimescale = 90000;

  struct Sample {
    std::string data;      // AVCC access unit / raw AAC frame
    int64_t dts_ns = 0;    // running time
    int64_t pts_ns = 0;
    int64_t duration_ns = 0;
    bool keyframe = true;  // audio: always
  };

  // Tracks: video if `avc_config` is set, audio if `audio_specific_config` is set (or rate > 0).
  void set_video(std::string_view avc_config, int width, int height);
  void set_audio(std::string_view audio_specific_config, int rate, int channels);
  bool has_video() const { return !avc_config_.empty(); }
  bool has_audio() const { return audio_rate_ > 0; }
  int audio_rate() const { return audio_rate_; }

  // ftyp + moov for the tracks set; empty if there is none.
  std::string init_segment() const;
  // moof + mdat with these samples (either list may be empty, not both); `sequence` is the
  // fragment's sequence number (mfhd), counting from 1.
  std::string fragment(uint32_t sequence, const std::vector<Sample>& video, const std::vector<Sample>& audio) const;

  // Duration of one AAC frame at `rate` (1024 samples), in ns.
  static int64_t aac_frame_ns(int rate) { return rate > 0 ? 1024LL * 1'000'000'000 / rate : 0; }
  // Time in a track's timescale (running time + the stream offset).
  static uint64_t to_timescale(int64_t running_ns, uint32_t timescale);

private:
  std::string avc_config_;
  int width_ = 0, height_ = 0;
  std::string asc_;
  int audio_rate_ = 0;
  int audio_channels_ = 2;
};

}  // namespace harvest::media::hls

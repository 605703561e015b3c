#pragma once
// MPEG-TS muxing for the passthrough rendition: parsed H.264 access units and AAC frames in,
// 188-byte TS packets out (appended to a caller's string), ready for hls::TsSegmenter.
//
// Why our own and not mpegtsmux: the passthrough needs no timing decisions (the timestamps are
// the publisher's, already repaired) and no buffering, and mpegtsmux's aggregator costs a thread
// per stream plus a GstBuffer per 188-byte packet; on the ingest benchmark it was about half of
// the server's CPU per stream. This writes what nginx-rtmp and mpegtsmux write for HLS:
//   - PAT + PMT (program 1; video PID 0x100 H.264, audio PID 0x101 AAC/ADTS) at the start, before
//     every video keyframe and, for audio-only streams, every 100 ms;
//   - one PES per access unit / AAC frame, PTS (+DTS for video), PCR on the first packet of each
//     PES of the PCR track (video if any), random_access_indicator on keyframes;
//   - video as Annex B with an access unit delimiter; AVCC input ("avc") is converted and the
//     SPS/PPS from the decoder configuration are repeated before every keyframe that lacks them,
//     so each segment decodes on its own; byte-stream input is written as it is;
//   - raw AAC gets an ADTS header built from the AudioSpecificConfig; ADTS input is written as it is.
//
// Not thread-safe; pure (no I/O), so it is unit-tested byte by byte.
#include <cstdint>
#include <string>
#include <string_view>

namespace harvest::media::hls {

class TsMuxer {
public:
  static constexpr int kPmtPid = 0x1000;
  static constexpr int kVideoPid = 0x100;
  static constexpr int kAudioPid = 0x101;
  // PTS/DTS = running time + 1 h, as mpegtsmux writes them: the card cue times sent to players
  // (media::kMpegTsPtsOffsetS, docs/media-link.md) and the burned-in rendition rely on it.
  static constexpr int64_t kTimestampOffsetNs = 3'600'000'000'000;
  static constexpr int64_t kPcrLeadNs = 700'000'000;

  TsMuxer(bool has_video, bool has_audio);
  // A track found later (SRT: the demuxer's pads): the next write carries a new PMT version.
  void add_track(bool video);
  bool has_video() const { return has_video_; }

  // AVCDecoderConfigurationRecord ("codec_data" of stream-format=avc). Returns false if malformed.
  bool set_avc_config(std::string_view avcc);
  // AudioSpecificConfig; `rate`/`channels` are used when it cannot be read.
  void set_aac_config(std::string_view asc, int rate, int channels);

  // One access unit; `avc`: length-prefixed NAL units (else Annex B byte-stream).
  void write_video(std::string& out, std::string_view au, bool avc, int64_t pts_ns, int64_t dts_ns, bool keyframe);
  // One AAC frame; `raw`: without ADTS header (else ADTS as it is).
  void write_audio(std::string& out, std::string_view frame, bool raw, int64_t pts_ns);

  // --- pure helpers (exposed for tests) ---
  static uint32_t crc32_mpeg(const uint8_t* data, size_t size);
  // 7-byte ADTS header for a raw frame of `payload_size` bytes.
  static std::string adts_header(int object_type, int frequency_index, int channels, size_t payload_size);

private:
  void write_tables(std::string& out);
  void write_pes(std::string& out, int pid, bool with_pcr, int64_t pcr_ns, bool random_access);
  uint8_t next_cc(int pid);

  bool has_video_;
  bool has_audio_;
  size_t nal_length_size_ = 4;
  std::string parameter_sets_;  // SPS + PPS as Annex B, from the AVC config
  int aac_object_type_ = 2;     // LC
  int aac_frequency_index_ = 4;  // 44.1 kHz
  int aac_channels_ = 2;
  uint8_t cc_pat_ = 0, cc_pmt_ = 0, cc_video_ = 0, cc_audio_ = 0;
  bool tables_written_ = false;
  uint8_t pmt_version_ = 0;
  int64_t last_tables_ns_ = 0;
  std::string pes_;  // the PES being packetised (reused)
};

}  // namespace harvest::media::hls

#include "media/hls/fmp4_muxer.h"

#include <algorithm>
#include <array>

#include "media/hls/ts_muxer.h"

namespace harvest::media::hls {
namespace {

void u8(std::string& s, uint32_t v) { s.push_back(static_cast<char>(v & 0xff)); }
void u16(std::string& s, uint32_t v) {
  u8(s, v >> 8);
  u8(s, v);
}
void u32(std::string& s, uint32_t v) {
  u16(s, v >> 16);
  u16(s, v);
}
void u64(std::string& s, uint64_t v) {
  u32(s, static_cast<uint32_t>(v >> 32));
  u32(s, static_cast<uint32_t>(v));
}
void zeros(std::string& s, size_t n) { s.append(n, '\0'); }
void put32_at(std::string& s, size_t at, uint32_t v) {
  s[at] = static_cast<char>(v >> 24);
  s[at + 1] = static_cast<char>(v >> 16);
  s[at + 2] = static_cast<char>(v >> 8);
  s[at + 3] = static_cast<char>(v);
}

// Opens a box: writes a size placeholder and the type; close_box() fills the size in.
size_t open_box(std::string& s, const char (&type)[5]) {
  const size_t at = s.size();
  u32(s, 0);
  s.append(type, 4);
  return at;
}
size_t open_full_box(std::string& s, const char (&type)[5], uint8_t version, uint32_t flags) {
  const size_t at = open_box(s, type);
  u32(s, (uint32_t{version} << 24) | (flags & 0xffffff));
  return at;
}
void close_box(std::string& s, size_t at) { put32_at(s, at, static_cast<uint32_t>(s.size() - at)); }

void matrix(std::string& s) {
  for (uint32_t v : {0x00010000u, 0u, 0u, 0u, 0x00010000u, 0u, 0u, 0u, 0x40000000u}) u32(s, v);
}

int frequency_index(int rate) {
  static constexpr std::array<int, 13> kRates{96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                               22050, 16000, 12000, 11025, 8000,  7350};
  for (size_t i = 0; i < kRates.size(); ++i)
    if (rate >= kRates[i]) return static_cast<int>(i);
  return 11;
}

// MPEG-4 descriptor (ISO 14496-1): tag, a one-byte size (everything here is < 128 bytes).
void descriptor(std::string& s, uint8_t tag, const std::string& body) {
  u8(s, tag);
  u8(s, static_cast<uint32_t>(std::min<size_t>(body.size(), 127)));
  s += body.substr(0, 127);
}

constexpr uint32_t kKeyframeFlags = 0x02000000;     // sample_depends_on = 2 (an I frame)
constexpr uint32_t kNonKeyframeFlags = 0x01010000;  // depends on others, not a sync sample

}  // namespace

uint64_t Fmp4Muxer::to_timescale(int64_t running_ns, uint32_t timescale) {
  const int64_t t = std::max<int64_t>(running_ns + TsMuxer::kTimestampOffsetNs, 0);
  // Split to keep the product in range for any running time. Rounded, not truncated: 30 fps
  // frames of 33,333,333 ns are 3000 ticks each at 90 kHz, not 2999 with a 3001 now and then.
  const auto secs = static_cast<uint64_t>(t / 1'000'000'000);
  const auto rem = static_cast<uint64_t>(t % 1'000'000'000);
  return secs * timescale + (rem * timescale + 500'000'000) / 1'000'000'000;
}

void Fmp4Muxer::set_video(std::string_view avc_config, int width, int height) {
  avc_config_.assign(avc_config);
  width_ = std::max(width, 0);
  height_ = std::max(height, 0);
}

void Fmp4Muxer::set_audio(std::string_view asc, int rate, int channels) {
  asc_.assign(asc);
  if (asc_.size() >= 2) {
    static constexpr std::array<int, 13> kRates{96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                                 22050, 16000, 12000, 11025, 8000,  7350};
    const auto* b = reinterpret_cast<const uint8_t*>(asc_.data());
    const int index = ((b[0] & 0x07) << 1) | (b[1] >> 7);
    const int ch = (b[1] >> 3) & 0x0f;
    if (index < 13 && (b[0] >> 3) != 31) rate = kRates[static_cast<size_t>(index)];
    if (ch > 0 && ch < 8) channels = ch;
  }
  audio_rate_ = rate > 0 ? rate : 44100;
  audio_channels_ = channels > 0 ? channels : 2;
  if (asc_.size() < 2) {  // AAC LC with the rate and channels known
    const int idx = frequency_index(audio_rate_);
    asc_.clear();
    u8(asc_, (2u << 3) | (static_cast<uint32_t>(idx) >> 1));
    u8(asc_, ((static_cast<uint32_t>(idx) & 1) << 7) | (static_cast<uint32_t>(audio_channels_) << 3));
  }
}

std::string Fmp4Muxer::init_segment() const {
  if (!has_video() && !has_audio()) return {};
  std::string s;
  const size_t ftyp = open_box(s, "ftyp");
  s += "iso6";
  u32(s, 0);
  s += "iso6cmfcisomavc1mp41";
  close_box(s, ftyp);

  const size_t moov = open_box(s, "moov");
  const size_t mvhd = open_full_box(s, "mvhd", 0, 0);
  u32(s, 0);  // creation
  u32(s, 0);  // modification
  u32(s, 1000);
  u32(s, 0);  // duration: unknown (fragmented)
  u32(s, 0x00010000);  // rate 1.0
  u16(s, 0x0100);      // volume 1.0
  zeros(s, 10);
  matrix(s);
  zeros(s, 24);
  u32(s, kAudioTrack + 1);  // next track id
  close_box(s, mvhd);

  auto trak = [&](bool video) {
    const uint32_t id = video ? kVideoTrack : kAudioTrack;
    const uint32_t timescale = video ? kVideoTimescale : static_cast<uint32_t>(audio_rate_);
    const size_t t = open_box(s, "trak");
    const size_t tkhd = open_full_box(s, "tkhd", 0, 3);  // enabled, in movie
    u32(s, 0);
    u32(s, 0);
    u32(s, id);
    u32(s, 0);
    u32(s, 0);  // duration
    zeros(s, 8);
    u16(s, 0);  // layer
    u16(s, 0);  // alternate group
    u16(s, video ? 0 : 0x0100);
    u16(s, 0);
    matrix(s);
    u32(s, video ? static_cast<uint32_t>(width_) << 16 : 0);
    u32(s, video ? static_cast<uint32_t>(height_) << 16 : 0);
    close_box(s, tkhd);

    const size_t mdia = open_box(s, "mdia");
    const size_t mdhd = open_full_box(s, "mdhd", 0, 0);
    u32(s, 0);
    u32(s, 0);
    u32(s, timescale);
    u32(s, 0);
    u16(s, 0x55c4);  // "und"
    u16(s, 0);
    close_box(s, mdhd);
    const size_t hdlr = open_full_box(s, "hdlr", 0, 0);
    u32(s, 0);
    s += video ? "vide" : "soun";
    zeros(s, 12);
    s += video ? "VideoHandler" : "SoundHandler";
    u8(s, 0);
    close_box(s, hdlr);

    const size_t minf = open_box(s, "minf");
    if (video) {
      const size_t vmhd = open_full_box(s, "vmhd", 0, 1);
      zeros(s, 8);
      close_box(s, vmhd);
    } else {
      const size_t smhd = open_full_box(s, "smhd", 0, 0);
      zeros(s, 4);
      close_box(s, smhd);
    }
    const size_t dinf = open_box(s, "dinf");
    const size_t dref = open_full_box(s, "dref", 0, 0);
    u32(s, 1);
    const size_t url = open_full_box(s, "url ", 0, 1);  // media in the same file
    close_box(s, url);
    close_box(s, dref);
    close_box(s, dinf);

    const size_t stbl = open_box(s, "stbl");
    const size_t stsd = open_full_box(s, "stsd", 0, 0);
    u32(s, 1);
    if (video) {
      const size_t avc1 = open_box(s, "avc1");
      zeros(s, 6);
      u16(s, 1);  // data reference index
      zeros(s, 16);
      u16(s, static_cast<uint32_t>(width_));
      u16(s, static_cast<uint32_t>(height_));
      u32(s, 0x00480000);  // 72 dpi
      u32(s, 0x00480000);
      u32(s, 0);
      u16(s, 1);  // frame count
      zeros(s, 32);  // compressor name
      u16(s, 0x0018);
      u16(s, 0xffff);
      const size_t avcc = open_box(s, "avcC");
      s += avc_config_;
      close_box(s, avcc);
      close_box(s, avc1);
    } else {
      const size_t mp4a = open_box(s, "mp4a");
      zeros(s, 6);
      u16(s, 1);
      zeros(s, 8);
      u16(s, static_cast<uint32_t>(audio_channels_));
      u16(s, 16);
      zeros(s, 4);
      u32(s, audio_rate_ <= 0xffff ? static_cast<uint32_t>(audio_rate_) << 16 : 0);
      const size_t esds = open_full_box(s, "esds", 0, 0);
      std::string dec_config;
      u8(dec_config, 0x40);  // MPEG-4 audio
      u8(dec_config, 0x15);  // audio stream
      zeros(dec_config, 3);  // buffer size
      u32(dec_config, 0);    // max bitrate
      u32(dec_config, 0);    // average bitrate
      descriptor(dec_config, 0x05, asc_);
      std::string es;
      u16(es, kAudioTrack);
      u8(es, 0);
      descriptor(es, 0x04, dec_config);
      descriptor(es, 0x06, std::string(1, '\x02'));
      descriptor(s, 0x03, es);
      close_box(s, esds);
      close_box(s, mp4a);
    }
    close_box(s, stsd);
    for (const char* empty : {"stts", "stsc", "stco"}) {
      u32(s, 16);  // an empty full box: version/flags, entry count 0
      s.append(empty, 4);
      u32(s, 0);
      u32(s, 0);
    }
    const size_t stsz = open_full_box(s, "stsz", 0, 0);
    u32(s, 0);
    u32(s, 0);
    close_box(s, stsz);
    close_box(s, stbl);
    close_box(s, minf);
    close_box(s, mdia);
    close_box(s, t);
  };
  if (has_video()) trak(true);
  if (has_audio()) trak(false);

  const size_t mvex = open_box(s, "mvex");
  for (bool video : {true, false}) {
    if (video ? !has_video() : !has_audio()) continue;
    const size_t trex = open_full_box(s, "trex", 0, 0);
    u32(s, video ? kVideoTrack : kAudioTrack);
    u32(s, 1);
    u32(s, 0);
    u32(s, 0);
    u32(s, 0);
    close_box(s, trex);
  }
  close_box(s, mvex);
  close_box(s, moov);
  return s;
}

std::string Fmp4Muxer::fragment(uint32_t sequence, const std::vector<Sample>& video,
                                const std::vector<Sample>& audio) const {
  std::string s;
  const size_t moof = open_box(s, "moof");
  const size_t mfhd = open_full_box(s, "mfhd", 0, 0);
  u32(s, sequence);
  close_box(s, mfhd);

  struct Patch {
    size_t at;
    size_t data_before;  // bytes of mdat payload before this track's
  };
  std::vector<Patch> patches;
  size_t data_bytes = 0;
  auto traf = [&](bool is_video, const std::vector<Sample>& samples) {
    if (samples.empty()) return;
    const uint32_t timescale = is_video ? kVideoTimescale : static_cast<uint32_t>(audio_rate_);
    const size_t t = open_box(s, "traf");
    const size_t tfhd = open_full_box(s, "tfhd", 0, 0x020000);  // default-base-is-moof
    u32(s, is_video ? kVideoTrack : kAudioTrack);
    close_box(s, tfhd);
    const size_t tfdt = open_full_box(s, "tfdt", 1, 0);
    u64(s, to_timescale(samples.front().dts_ns, timescale));
    close_box(s, tfdt);
    // data offset, duration, size (+ flags and signed composition offsets for video)
    const uint32_t flags = is_video ? 0x000f01 : 0x000301;
    const size_t trun = open_full_box(s, "trun", 1, flags);
    u32(s, static_cast<uint32_t>(samples.size()));
    patches.push_back({s.size(), data_bytes});
    u32(s, 0);  // data offset, patched below
    for (const Sample& x : samples) {
      const uint64_t start = to_timescale(x.dts_ns, timescale);
      const uint64_t end = to_timescale(x.dts_ns + std::max<int64_t>(x.duration_ns, 0), timescale);
      u32(s, static_cast<uint32_t>(end - std::min(start, end)));
      u32(s, static_cast<uint32_t>(x.data.size()));
      if (is_video) {
        u32(s, x.keyframe ? kKeyframeFlags : kNonKeyframeFlags);
        const auto cts = static_cast<int64_t>(to_timescale(x.pts_ns, timescale)) - static_cast<int64_t>(start);
        u32(s, static_cast<uint32_t>(static_cast<int32_t>(cts)));
      }
      data_bytes += x.data.size();
    }
    close_box(s, trun);
    close_box(s, t);
  };
  traf(true, video);
  traf(false, audio);
  close_box(s, moof);
  const size_t moof_size = s.size() - moof;
  for (const Patch& p : patches) put32_at(s, p.at, static_cast<uint32_t>(moof_size + 8 + p.data_before));

  u32(s, static_cast<uint32_t>(8 + data_bytes));
  s += "mdat";
  s.reserve(s.size() + data_bytes);
  for (const Sample& x : video) s += x.data;
  for (const Sample& x : audio) s += x.data;
  return s;
}

}  // namespace harvest::media::hls

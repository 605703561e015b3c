#include "media/hls/ts_muxer.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace harvest::media::hls {
namespace {

constexpr size_t kPacket = 188;
constexpr uint64_t kMask33 = (uint64_t{1} << 33) - 1;
constexpr char kStartCode[] = {0, 0, 0, 1};
constexpr char kAud[] = {0, 0, 0, 1, 0x09, static_cast<char>(0xf0)};  // access unit delimiter, any slice type

uint64_t to_90khz(int64_t ns) {
  const int64_t v = std::max<int64_t>(ns, 0) * 9 / 100'000;
  return static_cast<uint64_t>(v) & kMask33;
}

void put_timestamp(std::string& s, uint8_t prefix, uint64_t ts) {
  s.push_back(static_cast<char>((uint64_t{prefix} << 4) | ((ts >> 29) & 0x0e) | 1));
  s.push_back(static_cast<char>(ts >> 22));
  s.push_back(static_cast<char>(((ts >> 14) & 0xfe) | 1));
  s.push_back(static_cast<char>(ts >> 7));
  s.push_back(static_cast<char>(((ts << 1) & 0xfe) | 1));
}

int frequency_index_of(int rate) {
  static constexpr std::array<int, 13> kRates{96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                               22050, 16000, 12000, 11025, 8000,  7350};
  for (size_t i = 0; i < kRates.size(); ++i)
    if (rate >= kRates[i]) return static_cast<int>(i);
  return 11;
}

// One PSI section (table_id .. CRC) in its own packet, after a pointer field of 0.
void write_section_packet(std::string& out, int pid, uint8_t& cc, const std::string& section) {
  const size_t at = out.size();
  out.resize(at + kPacket, static_cast<char>(0xff));
  auto* p = reinterpret_cast<uint8_t*>(out.data() + at);
  p[0] = 0x47;
  p[1] = static_cast<uint8_t>(0x40 | ((pid >> 8) & 0x1f));
  p[2] = static_cast<uint8_t>(pid & 0xff);
  p[3] = static_cast<uint8_t>(0x10 | (cc++ & 0x0f));
  p[4] = 0;  // pointer_field
  std::memcpy(p + 5, section.data(), std::min(section.size(), kPacket - 5));
}

void finish_section(std::string& s) {
  // section_length counts from after the length field to the end of the CRC.
  const size_t len = s.size() - 3 + 4;
  s[1] = static_cast<char>(0xb0 | ((len >> 8) & 0x0f));
  s[2] = static_cast<char>(len & 0xff);
  const uint32_t crc = TsMuxer::crc32_mpeg(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((crc >> shift) & 0xff));
}

}  // namespace

TsMuxer::TsMuxer(bool has_video, bool has_audio) : has_video_(has_video), has_audio_(has_audio) {}

void TsMuxer::add_track(bool video) {
  bool& has = video ? has_video_ : has_audio_;
  if (has) return;
  has = true;
  if (tables_written_) pmt_version_ = static_cast<uint8_t>((pmt_version_ + 1) & 0x1f);
  tables_written_ = false;
}

uint32_t TsMuxer::crc32_mpeg(const uint8_t* data, size_t size) {
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < size; ++i) {
    crc ^= static_cast<uint32_t>(data[i]) << 24;
    for (int b = 0; b < 8; ++b) crc = (crc & 0x80000000u) != 0 ? (crc << 1) ^ 0x04c11db7u : crc << 1;
  }
  return crc;
}

std::string TsMuxer::adts_header(int object_type, int frequency_index, int channels, size_t payload_size) {
  const int profile = (object_type >= 1 && object_type <= 4) ? object_type - 1 : 1;  // HE-AAC: LC + implicit SBR
  const size_t len = payload_size + 7;
  std::string h(7, '\0');
  h[0] = static_cast<char>(0xff);
  h[1] = static_cast<char>(0xf1);  // MPEG-4, layer 0, no CRC
  h[2] = static_cast<char>((profile << 6) | ((frequency_index & 0x0f) << 2) | ((channels >> 2) & 0x01));
  h[3] = static_cast<char>((static_cast<size_t>(channels & 0x03) << 6) | ((len >> 11) & 0x03));
  h[4] = static_cast<char>((len >> 3) & 0xff);
  h[5] = static_cast<char>(((len & 0x07) << 5) | 0x1f);
  h[6] = static_cast<char>(0xfc);
  return h;
}

bool TsMuxer::set_avc_config(std::string_view c) {
  // configurationVersion, profile, compat, level, 0xfc|lengthSizeMinusOne, 0xe0|numSPS, SPS..., numPPS, PPS...
  if (c.size() < 7) return false;
  const auto* b = reinterpret_cast<const uint8_t*>(c.data());
  std::string sets;
  size_t off = 5;
  for (int kind = 0; kind < 2; ++kind) {
    if (off >= c.size()) return false;
    const int count = kind == 0 ? (b[off] & 0x1f) : b[off];
    ++off;
    for (int i = 0; i < count; ++i) {
      if (off + 2 > c.size()) return false;
      const size_t len = (size_t{b[off]} << 8) | b[off + 1];
      off += 2;
      if (off + len > c.size()) return false;
      sets.append(kStartCode, sizeof kStartCode).append(c.substr(off, len));
      off += len;
    }
  }
  nal_length_size_ = (b[4] & 0x03u) + 1u;
  parameter_sets_ = std::move(sets);
  return true;
}

void TsMuxer::set_aac_config(std::string_view asc, int rate, int channels) {
  aac_frequency_index_ = frequency_index_of(rate > 0 ? rate : 44100);
  if (channels > 0) aac_channels_ = std::min(channels, 7);
  if (asc.size() < 2) return;
  const auto* b = reinterpret_cast<const uint8_t*>(asc.data());
  const int object_type = b[0] >> 3;
  const int index = ((b[0] & 0x07) << 1) | (b[1] >> 7);
  if (object_type == 31 || index == 15) return;  // escaped type / explicit rate: keep the fallbacks
  aac_object_type_ = object_type;
  aac_frequency_index_ = index;
  const int ch = (b[1] >> 3) & 0x0f;
  if (ch > 0 && ch < 8) aac_channels_ = ch;
}

uint8_t TsMuxer::next_cc(int pid) {
  uint8_t& cc = pid == kVideoPid ? cc_video_ : cc_audio_;
  return cc++ & 0x0f;
}

void TsMuxer::write_tables(std::string& out) {
  std::string pat = {0x00, 0, 0, 0x00, 0x01, static_cast<char>(0xc1), 0x00, 0x00,
                     0x00, 0x01, static_cast<char>(0xe0 | (kPmtPid >> 8)), static_cast<char>(kPmtPid & 0xff)};
  finish_section(pat);
  write_section_packet(out, 0, cc_pat_, pat);

  const int pcr_pid = has_video_ ? kVideoPid : kAudioPid;
  std::string pmt = {0x02, 0, 0, 0x00, 0x01, static_cast<char>(0xc1 | (pmt_version_ << 1)), 0x00, 0x00,
                     static_cast<char>(0xe0 | (pcr_pid >> 8)), static_cast<char>(pcr_pid & 0xff),
                     static_cast<char>(0xf0), 0x00};
  auto add_stream = [&](uint8_t type, int pid) {
    pmt += {static_cast<char>(type), static_cast<char>(0xe0 | (pid >> 8)), static_cast<char>(pid & 0xff),
            static_cast<char>(0xf0), 0x00};
  };
  if (has_video_) add_stream(0x1b, kVideoPid);
  if (has_audio_) add_stream(0x0f, kAudioPid);
  finish_section(pmt);
  write_section_packet(out, kPmtPid, cc_pmt_, pmt);
  tables_written_ = true;
}

void TsMuxer::write_pes(std::string& out, int pid, bool with_pcr, int64_t pcr_ns, bool random_access) {
  const size_t total = pes_.size();
  out.reserve(out.size() + (total / 184 + 2) * kPacket);
  size_t pos = 0;
  bool first = true;
  while (pos < total) {
    const size_t remaining = total - pos;
    uint8_t flags = 0;
    if (first && random_access) flags |= 0x40;
    if (first && with_pcr) flags |= 0x10;
    bool adaptation = flags != 0;
    size_t af_len = adaptation ? 1 + ((flags & 0x10) != 0 ? 6 : 0) : 0;  // adaptation_field_length value
    size_t space = kPacket - 4 - (adaptation ? 1 + af_len : 0);
    size_t stuffing = 0;
    if (remaining < space) {
      stuffing = space - remaining;
      if (!adaptation) {
        adaptation = true;
        // A lone length byte stuffs one byte; more needs the flags byte too.
        af_len = stuffing - 1;
      } else {
        af_len += stuffing;
      }
      space = remaining;
    }
    const size_t at = out.size();
    out.resize(at + kPacket);
    auto* p = reinterpret_cast<uint8_t*>(out.data() + at);
    p[0] = 0x47;
    p[1] = static_cast<uint8_t>((first ? 0x40 : 0) | ((pid >> 8) & 0x1f));
    p[2] = static_cast<uint8_t>(pid & 0xff);
    p[3] = static_cast<uint8_t>((adaptation ? 0x30 : 0x10) | next_cc(pid));
    size_t off = 4;
    if (adaptation) {
      p[off++] = static_cast<uint8_t>(af_len);
      if (af_len > 0) {
        const size_t af_end = off + af_len;
        p[off++] = flags;
        if ((flags & 0x10) != 0) {
          const uint64_t base = to_90khz(pcr_ns);
          p[off++] = static_cast<uint8_t>(base >> 25);
          p[off++] = static_cast<uint8_t>(base >> 17);
          p[off++] = static_cast<uint8_t>(base >> 9);
          p[off++] = static_cast<uint8_t>(base >> 1);
          p[off++] = static_cast<uint8_t>(((base & 1) << 7) | 0x7e);
          p[off++] = 0;
        }
        std::memset(p + off, 0xff, af_end - off);
        off = af_end;
      }
    }
    std::memcpy(p + off, pes_.data() + pos, space);
    pos += space;
    first = false;
  }
}

void TsMuxer::write_video(std::string& out, std::string_view au, bool avc, int64_t pts_ns, int64_t dts_ns,
                          bool keyframe) {
  const uint64_t pts = to_90khz(pts_ns + kTimestampOffsetNs);
  const uint64_t dts = to_90khz(dts_ns + kTimestampOffsetNs);
  if (keyframe || !tables_written_) write_tables(out);

  pes_.clear();
  pes_ += {0, 0, 1, static_cast<char>(0xe0), 0, 0};  // video stream 0, length 0 (unbounded)
  const bool with_dts = dts != pts;
  pes_ += {static_cast<char>(0x80), static_cast<char>(with_dts ? 0xc0 : 0x80), static_cast<char>(with_dts ? 10 : 5)};
  put_timestamp(pes_, with_dts ? 3 : 2, pts);
  if (with_dts) put_timestamp(pes_, 1, dts);

  pes_.append(kAud, sizeof kAud);
  if (avc) {
    const auto* b = reinterpret_cast<const uint8_t*>(au.data());
    bool has_sps = false;
    for (size_t off = 0; off + nal_length_size_ <= au.size();) {
      size_t len = 0;
      for (size_t i = 0; i < nal_length_size_; ++i) len = (len << 8) | b[off + i];
      off += nal_length_size_;
      if (len == 0 || off + len > au.size()) break;
      if ((b[off] & 0x1f) == 7) has_sps = true;
      off += len;
    }
    if (keyframe && !has_sps) pes_ += parameter_sets_;
    for (size_t off = 0; off + nal_length_size_ <= au.size();) {
      size_t len = 0;
      for (size_t i = 0; i < nal_length_size_; ++i) len = (len << 8) | b[off + i];
      off += nal_length_size_;
      if (len == 0 || off + len > au.size()) break;
      if ((b[off] & 0x1f) != 9) pes_.append(kStartCode, sizeof kStartCode).append(au.substr(off, len));
      off += len;
    }
  } else {
    // Annex B as it comes (h264parse already repeats SPS/PPS); our own delimiter replaces one it carries.
    const size_t sc = au.substr(0, 4) == std::string_view(kStartCode, 4) ? 4
                      : au.substr(0, 3) == std::string_view(kStartCode + 1, 3) ? 3
                                                                                : 0;
    if (sc > 0 && au.size() >= sc + 2 && (au[sc] & 0x1f) == 9) au.remove_prefix(sc + 2);
    pes_.append(au);
  }
  write_pes(out, kVideoPid, true, dts_ns + kTimestampOffsetNs - kPcrLeadNs, keyframe);
}

void TsMuxer::write_audio(std::string& out, std::string_view frame, bool raw, int64_t pts_ns) {
  if (!tables_written_ || (!has_video_ && pts_ns - last_tables_ns_ >= 100'000'000)) {
    write_tables(out);
    last_tables_ns_ = pts_ns;
  }
  const uint64_t pts = to_90khz(pts_ns + kTimestampOffsetNs);
  pes_.clear();
  const size_t payload = frame.size() + (raw ? 7 : 0);
  const size_t pes_len = std::min<size_t>(3 + 5 + payload, 0xffff);
  pes_ += {0, 0, 1, static_cast<char>(0xc0), static_cast<char>(pes_len >> 8), static_cast<char>(pes_len & 0xff),
           static_cast<char>(0x80), static_cast<char>(0x80), 5};
  put_timestamp(pes_, 2, pts);
  if (raw) pes_ += adts_header(aac_object_type_, aac_frequency_index_, aac_channels_, frame.size());
  pes_.append(frame);
  write_pes(out, kAudioPid, !has_video_, pts_ns + kTimestampOffsetNs - kPcrLeadNs, false);
}

}  // namespace harvest::media::hls

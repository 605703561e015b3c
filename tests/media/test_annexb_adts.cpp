// SRT's elementary streams for the LL-HLS rendition: H.264 Annex B -> AVCC + avcC
// (media/ingest/annexb.h) and ADTS -> raw AAC + AudioSpecificConfig (media/ingest/adts.h),
// checked against what ffmpeg writes and against the readers the RTMP path already uses.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "media/hls/fmp4_muxer.h"
#include "media/hls/ll_hls.h"
#include "media/hls/ts_muxer.h"
#include "media/ingest/adts.h"
#include "media/ingest/annexb.h"
#include "media/ingest/h264_sps.h"
#include "media/rtmp/flv.h"
#include "support/temp_dir.h"

using namespace harvest::media;
using harvest::test::read_file;

namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s.push_back(static_cast<char>(v));
  return s;
}
std::string hex(const std::string& s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}
std::string unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

// x264's parameter sets for 64x48 (ffmpeg -c:v libx264 -f h264): ultrafast (Constrained
// Baseline) and medium (High), and the avcC ffmpeg's mp4 muxer writes for each of them.
const std::string kBaselineSps = unhex("6742c00ada11ec0440000003004000000c83c489a8");
const std::string kBaselinePps = unhex("68ce0fc8");
const std::string kBaselineAvcc =
    unhex("0142c00affe100156742c00ada11ec0440000003004000000c83c489a801000468ce0fc8");
const std::string kHighSps = unhex("6764000aacd9447b011000000300100000030320f1225960");
const std::string kHighPps = unhex("68ebe3cb22c0");
const std::string kHighAvcc =
    unhex("0164000affe100186764000aacd9447b011000000300100000030320f122596001000668ebe3cb22c0fdf8f800");

const std::string kStart4 = bytes({0, 0, 0, 1});
const std::string kStart3 = bytes({0, 0, 1});
const std::string kAud = bytes({0x09, 0xf0});
const std::string kIdr = bytes({0x65, 0x88, 0x84, 0x00, 0x33, 0xff});
const std::string kSlice = bytes({0x41, 0x9a, 0x02, 0x0c});

// AVCC back to its NAL units; fails the test on a length that does not fit.
std::vector<std::string> avcc_nals(const std::string& avcc) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < avcc.size()) {
    REQUIRE(at + 4 <= avcc.size());
    const size_t len =
        (size_t{static_cast<uint8_t>(avcc[at])} << 24) | (size_t{static_cast<uint8_t>(avcc[at + 1])} << 16) |
        (size_t{static_cast<uint8_t>(avcc[at + 2])} << 8) | size_t{static_cast<uint8_t>(avcc[at + 3])};
    REQUIRE(len > 0);
    REQUIRE(at + 4 + len <= avcc.size());
    out.push_back(avcc.substr(at + 4, len));
    at += 4 + len;
  }
  return out;
}

// One ADTS frame as TsMuxer writes them (7-byte header); `crc` inserts a 2-byte CRC and clears
// protection_absent (the 9-byte header some encoders write).
std::string adts_frame(int object_type, int frequency_index, int channels, const std::string& payload,
                       bool crc = false) {
  std::string h = harvest::media::hls::TsMuxer::adts_header(object_type, frequency_index, channels,
                                                            payload.size() + (crc ? 2 : 0));
  if (crc) {
    h[1] = static_cast<char>(static_cast<uint8_t>(h[1]) & 0xfe);
    h += bytes({0xab, 0xcd});
  }
  return h + payload;
}

}  // namespace

TEST_CASE("Annex B: NAL units split on 3- and 4-byte start codes, trailing zeros and leading junk dropped") {
  const std::string stream = bytes({0x12, 0x34}) + kStart4 + kAud + kStart3 + kHighSps + bytes({0, 0}) +
                             kStart4 + kHighPps + kStart3 + kIdr + bytes({0});
  const auto nals = split_annexb(stream);
  REQUIRE(nals.size() == 4);
  CHECK(nals[0] == kAud);
  CHECK(nals[1] == kHighSps);
  CHECK(nals[2] == kHighPps);
  CHECK(nals[3] == kIdr);
  CHECK(split_annexb("").empty());
  CHECK(split_annexb(bytes({0x65, 0x88, 0x84})).empty());          // no start code: nothing
  CHECK(split_annexb(kStart4 + kStart4 + bytes({0, 0})).empty());  // start codes with nothing between
  CHECK(split_annexb(bytes({0, 0})).empty());
}

TEST_CASE("Annex B -> AVCC: 4-byte lengths, AUD dropped, SPS/PPS kept in band and remembered once") {
  const std::string keyframe = kStart4 + kAud + kStart4 + kHighSps + kStart4 + kHighPps + kStart3 + kIdr;
  H264ParameterSets sets;
  std::string out;
  CHECK(annexb_to_avcc(keyframe, out, &sets) == 3);
  const auto nals = avcc_nals(out);
  REQUIRE(nals.size() == 3);
  CHECK(nals[0] == kHighSps);
  CHECK(nals[1] == kHighPps);
  CHECK(nals[2] == kIdr);
  CHECK(sets.complete());
  CHECK(sets.sps == kHighSps);
  CHECK(sets.pps == kHighPps);

  // Later parameter sets do not replace the first ones (the LL rendition keeps its first
  // configuration, as LlHlsStream does); the output is appended to what `out` holds.
  const std::string other = kStart4 + kBaselineSps + kStart4 + kBaselinePps + kStart4 + kSlice;
  const size_t before = out.size();
  CHECK(annexb_to_avcc(other, out, &sets) == 3);
  CHECK(avcc_nals(out.substr(before)).size() == 3);
  CHECK(sets.sps == kHighSps);
  CHECK(sets.pps == kHighPps);

  // A delta frame after its delimiter; nothing from a buffer with no NAL unit.
  std::string delta;
  CHECK(annexb_to_avcc(kStart4 + kAud + kStart4 + kSlice, delta) == 1);
  CHECK(delta == bytes({0, 0, 0, 4}) + kSlice);
  std::string none;
  CHECK(annexb_to_avcc(bytes({1, 2, 3, 4, 5}), none) == 0);
  CHECK(annexb_to_avcc(kStart4 + kAud, none) == 0);
  CHECK(none.empty());
}

TEST_CASE("avcC from SPS + PPS is what ffmpeg writes, and the readers of the RTMP path accept it") {
  CHECK(hex(make_avc_config(kBaselineSps, kBaselinePps)) == hex(kBaselineAvcc));
  // High profile: chroma format and bit depths appended (ISO/IEC 14496-15 5.3.3.1.2).
  CHECK(hex(make_avc_config(kHighSps, kHighPps)) == hex(kHighAvcc));
  const auto facts = parse_avc_config_sps(make_avc_config(kHighSps, kHighPps));
  REQUIRE(facts);
  CHECK(facts->width == 64);
  CHECK(facts->height == 48);
  CHECK(facts->profile == "high");
  harvest::media::hls::TsMuxer ts(true, false);
  CHECK(ts.set_avc_config(make_avc_config(kBaselineSps, kBaselinePps)));

  // Not a parameter set, too short, swapped: no configuration.
  CHECK(make_avc_config(kHighPps, kHighPps).empty());
  CHECK(make_avc_config(kHighSps, kHighSps).empty());
  CHECK(make_avc_config(bytes({0x67, 0x64, 0x00}), kHighPps).empty());
  CHECK(make_avc_config(kHighSps, "").empty());
  CHECK(make_avc_config("", "").empty());
}

TEST_CASE("ADTS -> raw AAC + AudioSpecificConfig: one frame, the config RTMP's reader reads back") {
  const std::string payload = bytes({0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c});
  const std::string input = adts_frame(2, 4, 2, payload);  // the frames are views into it
  const auto split = split_adts(input);
  REQUIRE(split);
  REQUIRE(split->frames.size() == 1);
  CHECK(split->frames[0] == payload);
  CHECK(split->header.object_type == 2);
  CHECK(split->header.sample_rate == 44100);
  CHECK(split->header.channel_config == 2);
  CHECK(split->header.header_size == 7);
  const std::string asc = audio_specific_config(split->header);
  CHECK(asc == bytes({0x12, 0x10}));  // AAC LC, 44.1 kHz, stereo (as RTMP publishers send it)
  const auto cfg = rtmp::parse_audio_specific_config(asc);
  REQUIRE(cfg);
  CHECK(cfg->object_type == 2);
  CHECK(cfg->sample_rate == 44100);
  CHECK(cfg->channels == 2);

  // 48 kHz mono (sampling index 3).
  const auto mono = split_adts(adts_frame(2, 3, 1, payload));
  REQUIRE(mono);
  const auto mono_cfg = rtmp::parse_audio_specific_config(audio_specific_config(mono->header));
  REQUIRE(mono_cfg);
  CHECK(mono_cfg->sample_rate == 48000);
  CHECK(mono_cfg->channels == 1);
}

TEST_CASE("ADTS: a CRC header (protection_absent=0) and several frames in one buffer") {
  const std::string a = bytes({0x01, 0x02, 0x03});
  const std::string b = bytes({0x04, 0x05, 0x06, 0x07, 0x08});
  const std::string with_crc = adts_frame(2, 4, 1, a, true);
  const auto crc = split_adts(with_crc);
  REQUIRE(crc);
  CHECK(crc->header.header_size == 9);
  REQUIRE(crc->frames.size() == 1);
  CHECK(crc->frames[0] == a);  // the CRC is not audio

  const std::string buffer = adts_frame(2, 4, 1, a) + adts_frame(2, 4, 1, b, true) + adts_frame(2, 4, 1, a);
  const auto three = split_adts(buffer);
  REQUIRE(three);
  REQUIRE(three->frames.size() == 3);
  CHECK(three->frames[0] == a);
  CHECK(three->frames[1] == b);
  CHECK(three->frames[2] == a);
}

TEST_CASE("ADTS: truncated, garbage and unsupported input gives nothing past the last whole frame") {
  const std::string payload = bytes({0x21, 0x10, 0x04, 0x60});
  const std::string frame = adts_frame(2, 4, 2, payload);
  CHECK_FALSE(split_adts(""));
  CHECK_FALSE(split_adts(frame.substr(0, 6)));                 // not even a header
  CHECK_FALSE(split_adts(frame.substr(0, frame.size() - 1)));  // the frame is cut short
  CHECK_FALSE(split_adts(std::string(64, '\xff')));            // sync bits everywhere, nonsense lengths
  CHECK_FALSE(split_adts(std::string(64, '\0')));

  std::string bad = frame;
  bad[1] = static_cast<char>(static_cast<uint8_t>(bad[1]) | 0x02);  // layer 1
  CHECK_FALSE(split_adts(bad));
  bad = frame;
  bad[2] = static_cast<char>((static_cast<uint8_t>(bad[2]) & 0xc3) | (13 << 2));  // sampling index 13
  CHECK_FALSE(split_adts(bad));
  bad = frame;
  bad[6] = static_cast<char>(static_cast<uint8_t>(bad[6]) | 0x01);  // two raw data blocks in one frame
  CHECK_FALSE(split_adts(bad));
  const std::string header_only = harvest::media::hls::TsMuxer::adts_header(2, 4, 2, 0);
  CHECK_FALSE(split_adts(header_only));  // a frame with no audio in it

  // Whole frames before the damage are kept; nothing after it is read.
  const auto two = split_adts(frame + frame + frame.substr(0, 9));
  REQUIRE(two);
  CHECK(two->frames.size() == 2);
  const auto one = split_adts(frame + "garbage" + frame);
  REQUIRE(one);
  CHECK(one->frames.size() == 1);
  // A frame with another configuration ends the run (one ASC describes all frames returned).
  const auto same = split_adts(frame + adts_frame(2, 3, 2, payload));
  REQUIRE(same);
  CHECK(same->frames.size() == 1);
}

TEST_CASE("LlHlsStream fed from Annex B + ADTS (the SRT path) writes an init with ffmpeg's avcC and parts") {
  harvest::test::TempDir dir;
  harvest::media::hls::LlHlsStream ll(dir.path(), {});
  ll.begin_session(1, 1'700'000'000'000, true, true);
  H264ParameterSets sets;
  bool video_set = false, audio_set = false;
  const std::string payload = bytes({0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c});
  constexpr int64_t kFrame = 40'000'000;  // 25 fps
  for (int i = 0; i < 60; ++i) {
    const bool key = i % 25 == 0;
    const std::string au =
        key ? kStart4 + kAud + kStart4 + kBaselineSps + kStart4 + kBaselinePps + kStart3 + kIdr
            : kStart4 + kAud + kStart4 + kSlice;
    std::string avcc;
    annexb_to_avcc(au, avcc, &sets);
    if (!video_set && sets.complete()) {
      const auto facts = parse_sps(sets.sps);
      REQUIRE(facts);
      ll.set_video(make_avc_config(sets.sps, sets.pps), facts->width, facts->height);
      video_set = true;
    }
    ll.add_video(avcc, i * kFrame, i * kFrame, key);
    const std::string pes = adts_frame(2, 4, 1, payload) + adts_frame(2, 4, 1, payload);
    const auto adts = split_adts(pes);
    REQUIRE(adts);
    if (!audio_set) {
      ll.set_audio(audio_specific_config(adts->header), adts->header.sample_rate, 1);
      audio_set = true;
    }
    const int64_t step = harvest::media::hls::Fmp4Muxer::aac_frame_ns(adts->header.sample_rate);
    for (size_t f = 0; f < adts->frames.size(); ++f)
      ll.add_audio(adts->frames[f], i * kFrame + static_cast<int64_t>(f) * step);
  }
  CHECK(ll.parts_written() >= 4);
  const std::string playlist = ll.playlist();
  CHECK(playlist.find("#EXTINF:") != std::string::npos);
  const auto map_at = playlist.find("#EXT-X-MAP:URI=\"");
  REQUIRE(map_at != std::string::npos);
  const std::string init_uri = playlist.substr(map_at + 16, playlist.find('"', map_at + 16) - map_at - 16);
  const std::string init = read_file(dir.path() + "/" + init_uri);
  CHECK(init.find(std::string("avcC") + kBaselineAvcc) !=
        std::string::npos);  // ffmpeg's record, byte for byte
  CHECK(init.find(std::string("esds")) != std::string::npos);
  CHECK(init.find(bytes({0x12, 0x08})) != std::string::npos);  // the ASC: AAC LC, 44.1 kHz, mono
}

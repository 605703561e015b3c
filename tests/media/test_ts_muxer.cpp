// hls::TsMuxer (our passthrough MPEG-TS muxer) and the SPS reader, byte by byte, and the muxer's
// output through hls::TsSegmenter (segments start with PAT/PMT and a keyframe).
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <vector>

#include "media/ingest/h264_sps.h"
#include "media/hls/ts_muxer.h"
#include "media/hls/ts_segmenter.h"
#include "support/temp_dir.h"

using harvest::media::hls::TsMuxer;
using harvest::media::hls::TsSegmenter;

namespace {
// x264's SPS and PPS for 720x1280 High profile, 30 fps (the benchmark's input).
const std::string kSps("\x67\x64\x00\x1f\xac\xd9\x40\xb4\x0a\x1b\x01\x10\x00\x00\x03\x00\x10\x00\x00\x03\x03\xc0\xf1\x83\x19\x60", 26);
const std::string kPps("\x68\xef\xbc\xb0", 4);

std::string avc_config() {
  std::string c = {1, 0x64, 0, 0x1f, static_cast<char>(0xff), static_cast<char>(0xe1)};
  c += {0, static_cast<char>(kSps.size())};
  c += kSps;
  c += {1, 0, static_cast<char>(kPps.size())};
  c += kPps;
  return c;
}

std::string avcc_nal(uint8_t header, size_t size) {
  std::string n = {0, 0, static_cast<char>(size >> 8), static_cast<char>(size & 0xff), static_cast<char>(header)};
  n.append(size - 1, '\x55');
  return n;
}

std::vector<std::string> packets(const std::string& ts) {
  std::vector<std::string> out;
  for (size_t off = 0; off + 188 <= ts.size(); off += 188) out.push_back(ts.substr(off, 188));
  return out;
}

// Reassembles the payload of the PES packets on `pid` (headers included).
std::string payload_of(const std::string& ts, int pid) {
  std::string out;
  for (const auto& p : packets(ts)) {
    const auto* b = reinterpret_cast<const uint8_t*>(p.data());
    if (TsSegmenter::pid(b) != pid) continue;
    size_t off = 4;
    if (b[3] & 0x20) off += 1u + b[4];
    out += p.substr(off);
  }
  return out;
}
}  // namespace

TEST_CASE("SPS facts: size after cropping, frame rate, profile", "[ingest][h264]") {
  auto facts = harvest::media::parse_sps(kSps);
  REQUIRE(facts);
  CHECK(facts->width == 720);
  CHECK(facts->height == 1280);
  CHECK(facts->profile == "high");
  CHECK(facts->fps == Approx(30.0));
  auto from_config = harvest::media::parse_avc_config_sps(avc_config());
  REQUIRE(from_config);
  CHECK(from_config->height == 1280);
  CHECK_FALSE(harvest::media::parse_sps(kPps));
  CHECK_FALSE(harvest::media::parse_sps(std::string("\x67\x64", 2)));
  CHECK_FALSE(harvest::media::parse_avc_config_sps("\x01\x64"));
}

TEST_CASE("TsMuxer writes PAT/PMT, PCR, random access and Annex B with parameter sets", "[ingest][ts]") {
  TsMuxer mux(true, true);
  REQUIRE(mux.set_avc_config(avc_config()));
  mux.set_aac_config(std::string("\x12\x10", 2), 44100, 2);  // AAC LC, 44.1 kHz, stereo
  std::string ts;
  const std::string key = avcc_nal(0x65, 500);  // IDR slice of 500 bytes
  mux.write_video(ts, key, true, 40'000'000, 0, true);
  REQUIRE(ts.size() % 188 == 0);
  auto p = packets(ts);
  REQUIRE(p.size() >= 3);
  const auto* pat = reinterpret_cast<const uint8_t*>(p[0].data());
  const auto* pmt = reinterpret_cast<const uint8_t*>(p[1].data());
  CHECK(TsSegmenter::pid(pat) == 0);
  CHECK(TsSegmenter::pid(pmt) == TsMuxer::kPmtPid);
  // Section CRCs are right: CRC over the section including its CRC is 0.
  CHECK(TsMuxer::crc32_mpeg(pat + 5, 3 + (((pat[6] & 0x0fu) << 8) | pat[7])) == 0);
  CHECK(TsMuxer::crc32_mpeg(pmt + 5, 3 + (((pmt[6] & 0x0fu) << 8) | pmt[7])) == 0);
  const auto* first = reinterpret_cast<const uint8_t*>(p[2].data());
  CHECK(TsSegmenter::pid(first) == TsMuxer::kVideoPid);
  CHECK(TsSegmenter::unit_start(first));
  CHECK(TsSegmenter::random_access(first));
  CHECK((first[5] & 0x10) != 0);  // PCR
  // PTS = running time + 1 h, in 90 kHz.
  CHECK(TsSegmenter::pes_pts(first) == uint64_t{3600} * 90000 + 40 * 90);
  const std::string es = payload_of(ts, TsMuxer::kVideoPid);
  const std::string expected_start = std::string("\0\0\0\1\x09\xf0", 6) + std::string("\0\0\0\1", 4) + kSps +
                                     std::string("\0\0\0\1", 4) + kPps + std::string("\0\0\0\1\x65", 5);
  CHECK(es.find(expected_start) != std::string::npos);
  // Continuity counters run on.
  ts.clear();
  mux.write_video(ts, avcc_nal(0x41, 300), true, 73'000'000, 33'000'000, false);
  auto q = packets(ts);
  REQUIRE_FALSE(q.empty());
  const auto* delta = reinterpret_cast<const uint8_t*>(q[0].data());
  CHECK(TsSegmenter::pid(delta) == TsMuxer::kVideoPid);  // no tables before a delta frame
  CHECK_FALSE(TsSegmenter::random_access(delta));
  CHECK((delta[3] & 0x0f) == ((first[3] & 0x0f) + p.size() - 2) % 16);
  CHECK(payload_of(ts, TsMuxer::kVideoPid).find(kSps) == std::string::npos);  // SPS only on keyframes
}

TEST_CASE("TsMuxer: ADTS for raw AAC, stuffing keeps packets whole", "[ingest][ts]") {
  CHECK(TsMuxer::adts_header(2, 4, 2, 100) == std::string("\xff\xf1\x50\x80\x0d\x7f\xfc", 7));
  TsMuxer mux(false, true);
  mux.set_aac_config(std::string("\x12\x10", 2), 44100, 2);
  for (size_t size : {1u, 160u, 169u, 170u, 171u, 400u}) {
    std::string ts;
    mux.write_audio(ts, std::string(size, '\x21'), true, 1'000'000'000);
    REQUIRE(ts.size() % 188 == 0);
    const std::string pes = payload_of(ts, TsMuxer::kAudioPid);
    // PES header (14) + ADTS (7) + frame.
    REQUIRE(pes.size() == 14 + 7 + size);
    CHECK(pes.substr(14, 2) == "\xff\xf1");
    CHECK(pes.substr(21) == std::string(size, '\x21'));
  }
}

TEST_CASE("TsMuxer output cut by TsSegmenter: each segment starts with tables and a keyframe", "[ingest][ts]") {
  harvest::test::TempDir dir;
  std::vector<std::pair<uint64_t, uint64_t>> closed;
  TsSegmenter seg({dir.path() + "/s", 0, 1'000'000'000},
                  [&](const std::string&, uint64_t start, uint64_t end) { closed.emplace_back(start, end); });
  TsMuxer mux(true, true);
  REQUIRE(mux.set_avc_config(avc_config()));
  mux.set_aac_config(std::string("\x12\x10", 2), 44100, 2);
  std::string ts;
  for (int i = 0; i < 75; ++i) {  // 2.5 s at 30 fps, keyframe every second
    const int64_t t = int64_t{i} * 1'000'000'000 / 30;
    mux.write_audio(ts, std::string(200, '\x21'), true, t);
    seg.write(reinterpret_cast<const uint8_t*>(ts.data()), ts.size(), static_cast<uint64_t>(t));
    ts.clear();
    mux.write_video(ts, avcc_nal(i % 30 == 0 ? 0x65 : 0x41, 800), true, t, t, i % 30 == 0);
    seg.write(reinterpret_cast<const uint8_t*>(ts.data()), ts.size(), static_cast<uint64_t>(t));
    ts.clear();
  }
  seg.finish();
  REQUIRE(closed.size() == 3);
  CHECK(closed[0].second == 1'000'000'000);
  CHECK(closed[1].first == 1'000'000'000);
  CHECK(closed[1].second == 2'000'000'000);
  for (int i = 0; i < 3; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "s%06d.ts", i);
    std::ifstream f(dir.path() + "/" + name, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), {});
    REQUIRE(bytes.size() > 3 * 188);
    const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
    CHECK(TsSegmenter::pid(b) == 0);
    CHECK(TsSegmenter::pid(b + 188) == TsMuxer::kPmtPid);
  }
}

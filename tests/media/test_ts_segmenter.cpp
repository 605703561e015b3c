// hls::TsSegmenter on synthetic MPEG-TS: cuts at keyframes (random access on the video PID),
// at PATs for audio-only streams, PAT/PMT in front of every segment, times from PES PTS.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "media/hls/ts_segmenter.h"
#include "support/temp_dir.h"

using harvest::media::hls::TsSegmenter;

namespace {
constexpr int kPmtPid = 0x1000, kVideoPid = 0x41, kAudioPid = 0x42;

std::string packet(int pid, bool unit_start, std::string payload, bool random_access = false) {
  std::string p(188, '\xff');
  p[0] = 0x47;
  p[1] = static_cast<char>((unit_start ? 0x40 : 0) | ((pid >> 8) & 0x1f));
  p[2] = static_cast<char>(pid & 0xff);
  size_t off = 4;
  if (random_access) {
    p[3] = 0x30;  // adaptation field + payload
    p[4] = 1;     // adaptation length
    p[5] = 0x40;  // random_access_indicator
    off = 6;
  } else {
    p[3] = 0x10;
  }
  payload.resize(std::min(payload.size(), 188 - off));
  p.replace(off, payload.size(), payload);
  return p;
}
std::string section(std::initializer_list<int> bytes) {
  std::string s(1, '\0');  // pointer_field
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}
std::string pat() {
  // table 0, length 13: ts id, version, section numbers, program 1 -> PMT PID, CRC
  return packet(0, true, section({0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01,
                                  0xe0 | (kPmtPid >> 8), kPmtPid & 0xff, 0, 0, 0, 0}));
}
std::string pmt(bool video) {
  if (video)
    return packet(kPmtPid, true, section({0x02, 0xb0, 0x1c, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe0, kVideoPid, 0xf0, 0x00,
                                          0x1b, 0xe0, kVideoPid, 0xf0, 0x00, 0x0f, 0xe0, kAudioPid, 0xf0, 0x00,
                                          0, 0, 0, 0}));
  return packet(kPmtPid, true, section({0x02, 0xb0, 0x17, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe0, kAudioPid, 0xf0, 0x00,
                                        0x0f, 0xe0, kAudioPid, 0xf0, 0x00, 0, 0, 0, 0}));
}
std::string pes(int pid, uint64_t pts90, bool keyframe = false) {
  std::string h = {0, 0, 1, static_cast<char>(pid == kVideoPid ? 0xe0 : 0xc0), 0, 0, static_cast<char>(0x80),
                   static_cast<char>(0x80), 5};
  h.push_back(static_cast<char>(0x21 | ((pts90 >> 29) & 0x0e)));
  h.push_back(static_cast<char>((pts90 >> 22) & 0xff));
  h.push_back(static_cast<char>(0x01 | ((pts90 >> 14) & 0xfe)));
  h.push_back(static_cast<char>((pts90 >> 7) & 0xff));
  h.push_back(static_cast<char>(0x01 | ((pts90 << 1) & 0xfe)));
  return packet(pid, true, h, keyframe);
}
std::string data(int pid) { return packet(pid, false, std::string(184, 'd')); }

struct Closed {
  std::string path;
  uint64_t start, end;
};
void feed(TsSegmenter& s, const std::string& bytes, uint64_t rt = 0) {
  s.write(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), rt);
}
}  // namespace

TEST_CASE("TS packet facts: pid, unit start, random access, PES PTS", "[unit][hls]") {
  const std::string k = pes(kVideoPid, 123456789, true);
  const auto* p = reinterpret_cast<const uint8_t*>(k.data());
  CHECK(TsSegmenter::pid(p) == kVideoPid);
  CHECK(TsSegmenter::unit_start(p));
  CHECK(TsSegmenter::random_access(p));
  CHECK(TsSegmenter::pes_pts(p) == 123456789u);
  const std::string d = data(kVideoPid);
  CHECK_FALSE(TsSegmenter::pes_pts(reinterpret_cast<const uint8_t*>(d.data())));
  CHECK_FALSE(TsSegmenter::random_access(reinterpret_cast<const uint8_t*>(d.data())));
}

TEST_CASE("segmenter cuts on the first keyframe after the target, with PAT/PMT in front", "[unit][hls]") {
  harvest::test::TempDir dir;
  std::vector<Closed> closed;
  TsSegmenter seg({.path_prefix = dir.path() + "/s-", .start_index = 5, .target_ns = 1'000'000'000},
                  [&](const std::string& p, uint64_t a, uint64_t b) { closed.push_back({p, a, b}); });
  const uint64_t base = 3600 * 90000;  // muxers start their clock anywhere
  feed(seg, pat() + pmt(true), 0);
  for (int frame = 0; frame < 75; ++frame) {  // 2.5 s at 30 fps, keyframe every 15 frames
    const uint64_t pts = base + static_cast<uint64_t>(frame) * 3000;
    // Seven packets per buffer, as mpegtsmux alignment=7 writes them.
    feed(seg, pes(kVideoPid, pts, frame % 15 == 0) + data(kVideoPid) + data(kVideoPid) + pes(kAudioPid, pts) +
                  data(kAudioPid) + data(kVideoPid) + data(kVideoPid),
         static_cast<uint64_t>(frame) * 33'333'333);
    if (frame % 10 == 9) feed(seg, pat() + pmt(true));  // periodic tables do not cut
  }
  seg.finish();
  REQUIRE(closed.size() == 3);
  CHECK(closed[0].path == dir.path() + "/s-000005.ts");
  CHECK(closed[0].start == 0);
  CHECK(closed[0].end == 1'000'000'000);  // the keyframe at frame 30
  CHECK(closed[1].start == 1'000'000'000);
  CHECK(closed[1].end == 2'000'000'000);
  CHECK(closed[2].path == dir.path() + "/s-000007.ts");
  CHECK(closed[2].end >= 2'400'000'000);
  for (const auto& c : closed) {
    const std::string bytes = harvest::test::read_file(c.path);
    REQUIRE(bytes.size() % 188 == 0);
    CHECK(bytes.substr(0, 188) == pat());
    CHECK(bytes.substr(188, 188) == pmt(true));
    if (c.start > 0) CHECK(TsSegmenter::random_access(reinterpret_cast<const uint8_t*>(bytes.data() + 376)));
  }
  CHECK(seg.segments_written() == 3);
}

TEST_CASE("segmenter cut(): a segment ends before the keyframe that follows it is written", "[unit][hls]") {
  harvest::test::TempDir dir;
  std::vector<Closed> closed;
  TsSegmenter seg({.path_prefix = dir.path() + "/c-", .start_index = 0, .target_ns = 1'000'000'000},
                  [&](const std::string& p, uint64_t a, uint64_t b) { closed.push_back({p, a, b}); });
  const uint64_t base = 90000;
  auto frame = [&](int n, bool key) {
    const uint64_t pts = base + static_cast<uint64_t>(n) * 3000;
    feed(seg, pes(kVideoPid, pts, key) + data(kVideoPid) + pes(kAudioPid, pts), static_cast<uint64_t>(n) * 33'333'333);
  };
  feed(seg, pat() + pmt(true), 0);
  for (int n = 0; n < 30; ++n) frame(n, n == 0);
  CHECK_FALSE(seg.cut(500'000'000));  // too soon: not due, nothing happens
  CHECK_FALSE(seg.cut_due(966'666'666));
  REQUIRE(seg.cut_due(1'000'000'000));
  REQUIRE(seg.cut(1'000'000'000));  // the keyframe at frame 30 is coming, none of it written yet
  REQUIRE(closed.size() == 1);
  CHECK(closed[0].start == 0);
  CHECK(closed[0].end == 1'000'000'000);
  const std::string first = harvest::test::read_file(closed[0].path);
  CHECK(first.size() == 188 * (2 + 30 * 3));  // the tables and frames 0-29, nothing more
  frame(30, true);  // the keyframe itself starts the open segment instead of cutting again
  for (int n = 31; n < 45; ++n) frame(n, false);
  seg.finish();
  REQUIRE(closed.size() == 2);
  CHECK(closed[1].start == 1'000'000'000);
  const std::string second = harvest::test::read_file(closed[1].path);
  CHECK(second.substr(0, 188) == pat());
  CHECK(second.substr(188, 188) == pmt(true));
  CHECK(TsSegmenter::random_access(reinterpret_cast<const uint8_t*>(second.data() + 376)));
  CHECK(second.size() == 188 * (2 + 15 * 3));
}

TEST_CASE("segmenter cuts audio-only streams at a PAT", "[unit][hls]") {
  harvest::test::TempDir dir;
  std::vector<Closed> closed;
  TsSegmenter seg({.path_prefix = dir.path() + "/a-", .target_ns = 1'000'000'000},
                  [&](const std::string& p, uint64_t a, uint64_t b) { closed.push_back({p, a, b}); });
  for (int i = 0; i < 100; ++i) {  // 100 AAC frames of ~23 ms, tables every 5 frames
    if (i % 5 == 0) feed(seg, pat() + pmt(false));
    const uint64_t pts = static_cast<uint64_t>(i) * 2090;
    feed(seg, pes(kAudioPid, pts) + data(kAudioPid), pts * 100000 / 9);
  }
  seg.finish();
  REQUIRE(closed.size() == 3);
  CHECK(closed[0].end - closed[0].start >= 1'000'000'000);
  CHECK(closed[0].end - closed[0].start < 1'150'000'000);
  for (const auto& c : closed) CHECK(harvest::test::read_file(c.path).substr(0, 188) == pat());
}

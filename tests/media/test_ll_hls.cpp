// LL-HLS: the playlist with parts (render_ll_playlist), the blocking-reload rules, our fMP4
// (CMAF) boxes, and hls::LlHlsStream cutting parts and segments from timed samples.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <optional>
#include <tuple>
#include <map>
#include <string>
#include <vector>

#include "media/hls/fmp4_muxer.h"
#include "media/hls/ll_hls.h"
#include "media/hls/ll_playlist.h"
#include "support/temp_dir.h"

using namespace harvest::media::hls;
using harvest::test::count_of;
using harvest::test::read_file;

namespace {

uint32_t be32(const std::string& s, size_t at) {
  return (uint32_t{static_cast<uint8_t>(s[at])} << 24) | (uint32_t{static_cast<uint8_t>(s[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[at + 2])} << 8) | uint32_t{static_cast<uint8_t>(s[at + 3])};
}

// Top-level boxes of `s` from `from` to `to`: (type, offset, size). Fails on a malformed size.
std::vector<std::tuple<std::string, size_t, size_t>> boxes(const std::string& s, size_t from, size_t to) {
  std::vector<std::tuple<std::string, size_t, size_t>> out;
  size_t at = from;
  while (at + 8 <= to) {
    const size_t size = be32(s, at);
    REQUIRE(size >= 8);
    REQUIRE(at + size <= to);
    out.emplace_back(s.substr(at + 4, 4), at, size);
    at += size;
  }
  REQUIRE(at == to);
  return out;
}

// The first box of `type` anywhere inside (depth-first over container boxes). Boxes that hold
// children after fields of their own are entered past those fields (ISO 14496-12/-15: stsd's
// version, flags and entry count; a visual or audio sample entry's fixed fields).
std::optional<std::pair<size_t, size_t>> find_box(const std::string& s, size_t from, size_t to, const std::string& type) {
  static const std::map<std::string, size_t> kContainers{{"moov", 0}, {"trak", 0}, {"mdia", 0}, {"minf", 0},
                                                         {"stbl", 0}, {"mvex", 0}, {"moof", 0}, {"traf", 0},
                                                         {"dinf", 0}, {"stsd", 8}, {"avc1", 78}, {"mp4a", 28}};
  for (const auto& [t, at, size] : boxes(s, from, to)) {
    if (t == type) return std::make_pair(at, size);
    if (auto c = kContainers.find(t); c != kContainers.end())
      if (auto inner = find_box(s, at + 8 + c->second, at + size, type)) return inner;
  }
  return std::nullopt;
}

const std::string kAvcc("\x01\x64\x00\x1f\xff\xe1\x00\x04\x67\x64\x00\x1f\x01\x00\x04\x68\xef\xbc\xb0", 19);
const std::string kAsc("\x12\x10", 2);  // AAC LC, 44.1 kHz, stereo

LlPlaylistView three_segments() {
  LlPlaylistView v;
  v.part_target_s = 0.5;
  v.media_sequence = 10;
  for (int i = 0; i < 3; ++i) {
    LlSegment s;
    s.uri = "s" + std::to_string(10 + i) + ".m4s";
    s.duration_s = 1.0;
    s.program_date_time_ms = 1'700'000'000'000 + i * 1000;
    s.map_uri = "init1.mp4";
    s.parts = {{"p" + std::to_string(10 + i) + ".0.m4s", 0.5, true}, {"p" + std::to_string(10 + i) + ".1.m4s", 0.5, false}};
    v.segments.push_back(s);
  }
  LlSegment open;
  open.program_date_time_ms = 1'700'000'003'000;
  open.map_uri = "init1.mp4";
  open.parts = {{"p13.0.m4s", 0.5, true}};
  v.segments.push_back(open);
  v.preload_hint_uri = "p13.1.m4s";
  return v;
}

}  // namespace

TEST_CASE("LL-HLS playlist: server control, part info, parts, preload hint, full segments for plain players") {
  LlPlaylistView v = three_segments();
  v.part_segments = 2;  // parts only for the last complete segment and the open one
  const std::string text = render_ll_playlist(v);
  CHECK(text.rfind("#EXTM3U\n", 0) == 0);
  CHECK(count_of(text, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500\n") == 1);
  CHECK(count_of(text, "#EXT-X-PART-INF:PART-TARGET=0.500\n") == 1);
  CHECK(count_of(text, "#EXT-X-MEDIA-SEQUENCE:10\n") == 1);
  CHECK(count_of(text, "#EXT-X-MAP:URI=\"init1.mp4\"\n") == 1);
  // Every complete segment is listed (a plain player needs nothing else).
  CHECK(count_of(text, "#EXTINF:1.000,\n") == 3);
  CHECK(count_of(text, "\ns12.m4s\n") == 1);
  // Parts of the last complete segment and the open one only.
  CHECK(count_of(text, "#EXT-X-PART:") == 3);
  CHECK(count_of(text, "p10.0.m4s") == 0);
  CHECK(count_of(text, "#EXT-X-PART:DURATION=0.500,URI=\"p12.0.m4s\",INDEPENDENT=YES\n") == 1);
  CHECK(count_of(text, "#EXT-X-PART:DURATION=0.500,URI=\"p12.1.m4s\"\n") == 1);
  // The parts of a segment come before its EXTINF, the open segment's last of all.
  CHECK(text.find("p12.1.m4s") < text.find("s12.m4s"));
  CHECK(text.find("p13.0.m4s") > text.find("s12.m4s"));
  const std::string hint = "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p13.1.m4s\"\n";
  CHECK(text.substr(text.size() - hint.size()) == hint);
  CHECK(count_of(text, "#EXT-X-PROGRAM-DATE-TIME:") == 4);
}

TEST_CASE("LL-HLS playlist: a new session's init, discontinuity, date ranges, the end") {
  LlPlaylistView v = three_segments();
  v.segments[2].map_uri = "init2.mp4";
  v.segments[2].discontinuity = true;
  v.segments[3].map_uri = "init2.mp4";
  DateRange card;
  card.id = "card-1";
  card.cls = "com.harvestlive.card";
  card.start_ms = 1'700'000'001'500;
  v.date_ranges.push_back(card);
  v.ended = true;
  const std::string text = render_ll_playlist(v);
  CHECK(count_of(text, "#EXT-X-MAP:URI=\"init2.mp4\"\n") == 1);
  CHECK(text.find("#EXT-X-DISCONTINUITY\n") < text.find("init2.mp4"));
  CHECK(count_of(text, "#EXT-X-DATERANGE:ID=\"card-1\"") == 1);
  CHECK(text.find("card-1") > text.find("s10.m4s"));
  CHECK(text.find("card-1") < text.find("s11.m4s"));
  CHECK(count_of(text, "#EXT-X-PRELOAD-HINT") == 0);
  CHECK(text.substr(text.size() - 15) == "#EXT-X-ENDLIST\n");
}

TEST_CASE("blocking reload query: _HLS_msn and _HLS_part") {
  std::string error;
  CHECK_FALSE(parse_blocking_request({}, error));
  CHECK(error.empty());
  auto r = parse_blocking_request({{"_HLS_msn", "42"}}, error);
  REQUIRE(r);
  CHECK(r->msn == 42);
  CHECK_FALSE(r->part);
  r = parse_blocking_request({{"_HLS_msn", "42"}, {"_HLS_part", "3"}, {"_HLS_skip", "YES"}}, error);
  REQUIRE(r);
  CHECK(*r->part == 3);
  for (const std::map<std::string, std::string>& bad :
       std::vector<std::map<std::string, std::string>>{{{"_HLS_part", "1"}},
                                                        {{"_HLS_msn", "-1"}},
                                                        {{"_HLS_msn", ""}},
                                                        {{"_HLS_msn", "1e3"}},
                                                        {{"_HLS_msn", "99999999999999999999"}},
                                                        {{"_HLS_msn", "4"}, {"_HLS_part", "x"}}}) {
    CHECK_FALSE(parse_blocking_request(bad, error));
    CHECK_FALSE(error.empty());
  }
}

TEST_CASE("blocking reload: ready, wait, too far") {
  const LlPosition now{20, 2, false};  // segment 20 open with parts 0 and 1 written
  CHECK(decide_blocking(now, {19, std::nullopt}) == BlockVerdict::ready);
  CHECK(decide_blocking(now, {19, 7}) == BlockVerdict::ready);
  CHECK(decide_blocking(now, {20, 1}) == BlockVerdict::ready);
  CHECK(decide_blocking(now, {20, 2}) == BlockVerdict::wait);
  CHECK(decide_blocking(now, {20, std::nullopt}) == BlockVerdict::wait);  // the whole segment
  CHECK(decide_blocking(now, {21, 0}) == BlockVerdict::wait);
  CHECK(decide_blocking(now, {22, 0}) == BlockVerdict::too_far);
  CHECK(decide_blocking(now, {1000, std::nullopt}) == BlockVerdict::too_far);
  CHECK(decide_blocking(LlPosition{20, 2, true}, {20, 5}) == BlockVerdict::ready);  // ended: nothing more comes
  // The Advance Part Limit (RFC 8216bis 6.2.5.2): 3 / 0.5 s = 6 parts past the last one listed.
  CHECK(advance_part_limit(0.5) == 6);
  CHECK(advance_part_limit(0.333) == 10);
  CHECK(advance_part_limit(1.0) == 3);
  CHECK(now.advance_part_limit == 6);
  CHECK(decide_blocking(now, {20, 7}) == BlockVerdict::wait);
  CHECK(decide_blocking(now, {20, 8}) == BlockVerdict::too_far);
  CHECK(decide_blocking(now, {21, 5}) == BlockVerdict::wait);
  CHECK(decide_blocking(now, {21, 6}) == BlockVerdict::too_far);
}

TEST_CASE("LL-HLS playlist: a segment opened but without a part yet is not listed") {
  LlPlaylistView v = three_segments();
  v.segments.back().parts.clear();
  v.preload_hint_uri = "p13.0.m4s";
  const std::string text = render_ll_playlist(v);
  CHECK(count_of(text, "#EXT-X-PROGRAM-DATE-TIME:") == 3);
  const std::string tail = "s12.m4s\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p13.0.m4s\"\n";
  CHECK(text.substr(text.size() - tail.size()) == tail);
}

TEST_CASE("part file names round-trip") {
  CHECK(part_file_name("llab-", 123) == "llab-p123.m4s");
  CHECK(parse_part_file_name("llab-", "llab-p123.m4s") == uint64_t{123});
  for (const char* bad : {"llab-s12.m4s", "llab-p12.3.m4s", "llab-p12.ts", "other-p1.m4s", "llab-p.m4s", "llab-p-3.m4s", "llab-p"})
    CHECK_FALSE(parse_part_file_name("llab-", bad));
}

TEST_CASE("a part file asked for by number: ready, wait, too far") {
  const LlPosition now{20, 2, false, 6, 41, 3};  // 41 parts written (0..40)
  CHECK(decide_part_file(now, 40) == BlockVerdict::ready);
  CHECK(decide_part_file(now, 0) == BlockVerdict::ready);
  CHECK(decide_part_file(now, 41) == BlockVerdict::wait);  // the preload hint
  CHECK(decide_part_file(now, 46) == BlockVerdict::wait);
  CHECK(decide_part_file(now, 47) == BlockVerdict::too_far);
  CHECK(decide_part_file(LlPosition{20, 2, true, 6, 41, 3}, 42) == BlockVerdict::ready);  // ended: 404 from the file
}

TEST_CASE("blocking reload: a part index past the last part of a complete segment is the next one's part 0") {
  const LlPosition now{20, 0, false, 6, 41, 3};  // segment 19 complete with parts 0..2, 20 open with none
  CHECK(decide_blocking(now, {19, 2}) == BlockVerdict::ready);
  CHECK(decide_blocking(now, {19, 3}) == BlockVerdict::wait);  // = 20.0, not written yet
  const LlPosition later{20, 1, false, 6, 42, 3};
  CHECK(decide_blocking(later, {19, 3}) == BlockVerdict::ready);
}

TEST_CASE("fMP4 init segment: ftyp, moov with avc1/avcC and mp4a/esds, mvex") {
  Fmp4Muxer m;
  m.set_video(kAvcc, 720, 1280);
  m.set_audio(kAsc, 0, 0);
  CHECK(m.audio_rate() == 44100);
  const std::string init = m.init_segment();
  const auto top = boxes(init, 0, init.size());
  REQUIRE(top.size() == 2);
  CHECK(std::get<0>(top[0]) == "ftyp");
  CHECK(std::get<0>(top[1]) == "moov");
  const auto avcc = find_box(init, 0, init.size(), "avcC");
  REQUIRE(avcc);
  CHECK(init.substr(avcc->first + 8, avcc->second - 8) == kAvcc);
  REQUIRE(find_box(init, 0, init.size(), "esds"));
  CHECK(init.find(kAsc) != std::string::npos);
  REQUIRE(find_box(init, 0, init.size(), "trex"));
  const auto tkhd = find_box(init, 0, init.size(), "tkhd");
  REQUIRE(tkhd);
  CHECK(be32(init, tkhd->first + tkhd->second - 8) == 720u << 16);
  CHECK(be32(init, tkhd->first + tkhd->second - 4) == 1280u << 16);
}

TEST_CASE("fMP4 fragment: moof + mdat, data offsets at each track's samples, decode times with the stream offset") {
  Fmp4Muxer m;
  m.set_video(kAvcc, 720, 1280);
  m.set_audio(kAsc, 44100, 2);
  std::vector<Fmp4Muxer::Sample> video{{"KEYFRAME", 0, 66'666'666, 33'333'333, true},
                                       {"DELTA", 33'333'333, 33'333'333, 33'333'333, false}};
  std::vector<Fmp4Muxer::Sample> audio{{"AAC1", 0, 0, Fmp4Muxer::aac_frame_ns(44100), true}};
  const std::string f = m.fragment(7, video, audio);
  const auto top = boxes(f, 0, f.size());
  REQUIRE(top.size() == 2);
  CHECK(std::get<0>(top[0]) == "moof");
  CHECK(std::get<0>(top[1]) == "mdat");
  const size_t moof_size = std::get<2>(top[0]);
  CHECK(f.substr(moof_size + 8) == "KEYFRAMEDELTAAAC1");
  const auto mfhd = find_box(f, 0, f.size(), "mfhd");
  REQUIRE(mfhd);
  CHECK(be32(f, mfhd->first + 12) == 7);
  // The first trun (video): data offset from the moof's start to "KEYFRAME".
  const auto trun = find_box(f, 0, f.size(), "trun");
  REQUIRE(trun);
  CHECK(be32(f, trun->first + 12) == 2);  // samples
  CHECK(f.substr(be32(f, trun->first + 16), 8) == "KEYFRAME");
  CHECK(be32(f, trun->first + 20) == 3000);                     // 33.3 ms at 90 kHz
  CHECK(be32(f, trun->first + 28) == 0x02000000);               // sync sample
  CHECK(be32(f, trun->first + 32) == 6000);                     // composition offset: pts - dts
  const auto tfdt = find_box(f, 0, f.size(), "tfdt");
  REQUIRE(tfdt);
  CHECK(be32(f, tfdt->first + 16) == 3600u * 90000u);  // running time 0 = 1 h, as in the TS rendition
  // The audio trun points at "AAC1".
  const size_t second_traf = f.find("traf", tfdt->first);
  const size_t audio_trun = f.find("trun", second_traf);
  REQUIRE(audio_trun != std::string::npos);
  CHECK(f.substr(be32(f, audio_trun + 12), 4) == "AAC1");
}

TEST_CASE("LlHlsStream: parts never exceed the target, segments start on keyframes, files and playlist follow") {
  harvest::test::TempDir dir;
  LlHlsOptions o;
  o.part_target_s = 0.5;
  o.segment_target_s = 1.0;
  o.window_segments = 3;
  o.linger_segments = 1;
  LlHlsStream ll(dir.path(), o);
  int wakeups = 0;
  ll.set_on_part([&] { ++wakeups; });
  ll.begin_session(1, 1'700'000'000'000, true, true);
  ll.set_video(kAvcc, 720, 1280);
  ll.set_audio(kAsc, 44100, 2);
  // 6 s of 30 fps video, a keyframe every second; audio every 23.2 ms, as the pipeline orders it.
  const int64_t frame = 33'333'333;
  const int64_t aac = Fmp4Muxer::aac_frame_ns(44100);
  int64_t next_audio = 0;
  for (int i = 0; i < 180; ++i) {
    const int64_t t = i * frame;
    while (next_audio <= t) {
      ll.add_audio("aac", next_audio);
      next_audio += aac;
    }
    ll.add_video("frame", t, t, i % 30 == 0);
  }
  const LlPosition now = ll.position();
  CHECK(now.open_msn == 5);  // 5 complete segments, the 6th open
  CHECK(wakeups >= static_cast<int>(ll.parts_written()));  // each part, and each segment cut
  const std::string text = ll.playlist();
  CHECK(count_of(text, "#EXT-X-MEDIA-SEQUENCE:2\n") == 1);  // window of 3
  CHECK(count_of(text, "#EXTINF:1.000,\n") == 3);
  CHECK(count_of(text, "#EXT-X-MAP:URI=\"" + ll.prefix() + "init1.mp4\"") == 1);
  CHECK(count_of(text, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"" + part_file_name(ll.prefix(), ll.parts_written()) + "\"") == 1);
  // Each 1 s segment in parts of at most 0.5 s: 0.5 + 0.5 (the frame that would pass 0.5 s starts the next).
  CHECK(count_of(text, "#EXT-X-PART:DURATION=0.500,URI=\"" + part_file_name(ll.prefix(), 8) + "\",INDEPENDENT=YES") == 1);
  CHECK(count_of(text, "#EXT-X-PART:DURATION=0.500,URI=\"" + part_file_name(ll.prefix(), 9) + "\"\n") == 1);
  namespace fs = std::filesystem;
  CHECK(fs::exists(dir.path() + "/" + ll.prefix() + "init1.mp4"));
  CHECK(fs::exists(dir.path() + "/" + ll.prefix() + "s4.m4s"));
  CHECK(fs::exists(dir.path() + "/" + part_file_name(ll.prefix(), 9)));
  // A segment file is its parts, one after the other.
  CHECK(read_file(dir.path() + "/" + ll.prefix() + "s4.m4s") ==
        read_file(dir.path() + "/" + part_file_name(ll.prefix(), 8)) +
            read_file(dir.path() + "/" + part_file_name(ll.prefix(), 9)));
  // Segments that left the window (and the linger) are deleted with their parts.
  CHECK_FALSE(fs::exists(dir.path() + "/" + ll.prefix() + "s0.m4s"));
  CHECK_FALSE(fs::exists(dir.path() + "/" + part_file_name(ll.prefix(), 0)));

  // The publisher leaves and comes back: the open segment completes, the next has a new init.
  ll.finish();
  CHECK(ll.position().open_msn == 6);
  ll.begin_session(2, 1'700'000'010'000, true, true);
  ll.set_video(kAvcc, 720, 1280);
  ll.set_audio(kAsc, 44100, 2);
  for (int i = 0; i < 40; ++i) ll.add_video("frame", i * frame, i * frame, i % 30 == 0);
  const std::string after = ll.playlist();
  CHECK(count_of(after, "#EXT-X-DISCONTINUITY\n") == 1);
  CHECK(count_of(after, "#EXT-X-MAP:URI=\"" + ll.prefix() + "init2.mp4\"") == 1);
  ll.end_stream();
  CHECK(count_of(ll.playlist(), "#EXT-X-ENDLIST") == 1);
}

// The audio track's decode time and length (in its timescale) in a part file: the second traf.
std::pair<uint64_t, uint64_t> audio_span(const std::string& part) {
  const size_t video_traf = part.find("traf");
  const size_t audio_traf = part.find("traf", video_traf + 4);
  REQUIRE(audio_traf != std::string::npos);
  const size_t tfdt = part.find("tfdt", audio_traf) - 4;
  const size_t trun = part.find("trun", audio_traf) - 4;
  const uint64_t start = (uint64_t{be32(part, tfdt + 12)} << 32) | be32(part, tfdt + 16);
  uint64_t length = 0;
  for (uint32_t i = 0, n = be32(part, trun + 12); i < n; ++i) length += be32(part, trun + 20 + 8 * i);
  return {start, length};
}

TEST_CASE("LlHlsStream: a 25-frame GOP at 25 fps in even parts, and a gapless audio track from millisecond times") {
  harvest::test::TempDir dir;
  LlHlsOptions o;  // parts of at most 0.5 s, segments from 1 s
  LlHlsStream ll(dir.path(), o);
  ll.begin_session(1, 1'700'000'000'000, true, true);
  ll.set_video(kAvcc, 360, 640);
  ll.set_audio(kAsc, 44100, 2);
  // As RTMP brings them: video every 40 ms, AAC frames of 23.22 ms at whole milliseconds.
  const int64_t ms = 1'000'000;
  int audio_frame = 0;
  for (int i = 0; i < 150; ++i) {
    const int64_t t = i * 40 * ms;
    for (int64_t a; (a = (audio_frame * 1024LL * 1000 + 22050) / 44100 * ms) <= t; ++audio_frame) ll.add_audio("aac", a);
    ll.add_video("frame", t, t, i % 25 == 0);
  }
  // The first segment is cut on duration alone (0.48 + 0.48 + 0.04 s); from the second on, the
  // GOP is known and divides into 9 + 9 + 7 frames: no part shorter than 0.28 s.
  const std::string text = ll.playlist();
  CHECK(count_of(text, "#EXT-X-PART:DURATION=0.360,") >= 6);
  CHECK(count_of(text, "#EXT-X-PART:DURATION=0.280,") >= 3);
  // (Parts are listed for the last 4 segments, so the first one's 0.04 s part is not among them.)
  for (size_t at = text.find("#EXT-X-PART:DURATION="); at != std::string::npos;
       at = text.find("#EXT-X-PART:DURATION=", at + 1))
    CHECK(std::stod(text.substr(at + 21, 5)) >= 0.28);
  // Audio: every part's audio starts where the previous part's ended (in 44.1 kHz ticks).
  const uint64_t parts = ll.parts_written();
  REQUIRE(parts > 10);
  std::optional<uint64_t> expected;
  for (uint64_t n = 0; n < parts; ++n) {
    const std::string path = dir.path() + "/" + part_file_name(ll.prefix(), n);
    if (!std::filesystem::exists(path)) continue;
    const auto [start, length] = audio_span(read_file(path));
    if (expected) CHECK(start == *expected);
    expected = start + length;
  }
}

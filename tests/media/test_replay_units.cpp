// Replays: the recording beside the live window (hard links, EVENT -> VOD), reading the
// playlists back after a restart, retention, and chapters on the replay's timeline.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "media/hls/hls_writer.h"
#include "media/hls/playlist.h"
#include "media/hls/replay_library.h"
#include "api/replays.h"
#include "support/temp_dir.h"

using namespace harvest::media::hls;
namespace fs = std::filesystem;

namespace {
void touch(const std::string& path) { harvest::test::write_file(path, "ts"); }
}  // namespace

TEST_CASE("playlist text reads back: segments, PDT, discontinuity, type, end list", "[unit][hls][replay]") {
  PlaylistView v;
  v.playlist_type = "VOD";
  v.ended = true;
  v.segments = {{"a.ts", 2.0, 1'700'000'000'000, false}, {"b.ts", 1.5, 1'700'000'010'123, true}};
  v.date_ranges = {{.id = "card-1", .cls = "c", .start_ms = 1'700'000'000'500}};
  const std::string text = render_media_playlist(v);
  CHECK(text.find("#EXT-X-PLAYLIST-TYPE:VOD\n") != std::string::npos);
  const PlaylistView back = parse_media_playlist(text);
  REQUIRE(back.segments.size() == 2);
  CHECK(back.segments[0].uri == "a.ts");
  CHECK(back.segments[1].program_date_time_ms == 1'700'000'010'123);
  CHECK(back.segments[1].duration_s == Approx(1.5));
  CHECK_FALSE(back.segments[0].discontinuity);
  CHECK(back.segments[1].discontinuity);
  CHECK(back.ended);
  CHECK(back.playlist_type == "VOD");
  CHECK(parse_iso8601_ms("2026-11-22T19:20:00.123Z") == int64_t{1795375200123});
  CHECK_FALSE(parse_iso8601_ms("yesterday").has_value());
}

TEST_CASE("a recording keeps every segment of the session beyond the live window", "[unit][hls][replay]") {
  harvest::test::TempDir tmp;
  const std::string live = tmp.path() + "/hls/s1";
  ReplayLibrary lib(tmp.path() + "/replays", ReplayRetention{.keep_per_stream = 2});
  HlsWriter w(live, HlsOptions{.window_segments = 2, .linger_segments = 0});
  w.record_to(lib.start_recording("s1", "1000", 0));
  REQUIRE(w.recording() != nullptr);
  w.begin_session(1'000'000);
  auto add = [&](int i, uint64_t start_s) {
    const std::string path = live + "/seg" + std::to_string(i) + ".ts";
    touch(path);
    REQUIRE(w.add_segment(path, start_s * 1'000'000'000, (start_s + 1) * 1'000'000'000));
  };
  add(0, 0);
  w.add_date_range({.id = "card-1",
                    .cls = "com.harvestlive.card",
                    .start_ms = 1'000'500,
                    .attributes = {{"product-id", "pear"}}});
  add(1, 1);
  add(2, 2);
  w.begin_session(2'000'000);  // a reconnect within the grace period
  add(3, 0);
  add(4, 1);
  w.end_date_range("card-1", 2'000'500);       // long out of the live window
  CHECK_FALSE(fs::exists(live + "/seg0.ts"));  // the live window let it go
  const std::string dir = tmp.path() + "/replays/s1/1000";
  CHECK(fs::exists(dir + "/seg0.ts"));                // the replay kept it
  CHECK(fs::hard_link_count(dir + "/seg4.ts") == 2);  // a link, not a copy
  w.recording()->flush();  // while live it is rewritten every few seconds: now, for the checks
  std::string text = harvest::test::read_file(dir + "/index.m3u8");
  CHECK(text.find("#EXT-X-PLAYLIST-TYPE:EVENT\n") != std::string::npos);
  CHECK(text.find("#EXT-X-ENDLIST") == std::string::npos);
  auto info = lib.find("s1", "1000");
  REQUIRE(info.has_value());
  CHECK(info->live);
  CHECK(info->segments == 5);
  CHECK(info->discontinuities == 1);
  CHECK(info->duration_s == Approx(5.0));
  w.end_stream();
  CHECK(w.recording() == nullptr);
  text = harvest::test::read_file(dir + "/index.m3u8");
  CHECK(text.find("#EXT-X-PLAYLIST-TYPE:VOD\n") != std::string::npos);
  CHECK(text.find("#EXT-X-ENDLIST\n") != std::string::npos);
  CHECK(text.find("ID=\"card-1\"") != std::string::npos);
  CHECK(text.find("END-DATE=") != std::string::npos);
  CHECK(text.find("seg0.ts") != std::string::npos);
  CHECK(text.find("#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:33:20.000Z\n#EXTINF:1.000,"
                  "\nseg3.ts") != std::string::npos);
  w.remove_files();
  CHECK(fs::exists(dir + "/seg0.ts"));
  CHECK_FALSE(lib.find("s1", "1000")->live);

  SECTION("chapters sit on the replay's timeline, gaps between reconnects removed") {
    harvest::show::CardExposure e;
    e.stream_id = "s1";
    e.session_id = "1000";
    e.product_id = "pear";
    e.shown_pts = 3600.5;
    e.shown_pdt_ms = 1'000'500;
    e.hidden_pdt_ms = 2'000'500;  // after the reconnect: 3 s of the first session + 0.5 s
    auto other = e;
    other.session_id = "999";
    auto chapters = harvest::api::replay_chapters({e, other}, "1000", *lib.playlist("s1", "1000"),
                                                       {{"pear", "Pears"}});
    REQUIRE(chapters.size() == 1);
    CHECK(chapters[0]["title"] == "Pears");
    CHECK(chapters[0]["start"].get<double>() == Approx(0.5));
    CHECK(chapters[0]["end"].get<double>() == Approx(3.5));
    CHECK(chapters[0]["pts"].get<double>() == Approx(3600.5));
    CHECK(chapters[0]["program_date_time"] == "1970-01-01T00:16:40.500Z");
  }
}

TEST_CASE("a live replay's playlist is rewritten at most every live_rewrite_ms, and at the end at once",
          "[unit][hls][replay]") {
  harvest::test::TempDir tmp;
  const std::string dir = tmp.path() + "/r";
  ReplayRecording r(dir, /*live_rewrite_ms=*/3'600'000);
  auto add = [&](int i) {
    const std::string src = tmp.path() + "/live" + std::to_string(i) + ".ts";
    touch(src);
    REQUIRE(r.add_segment(src, Segment{"live" + std::to_string(i) + ".ts", 1.0, 1'000'000 + i * 1000, false}));
  };
  auto listed = [&] { return harvest::test::count_of(harvest::test::read_file(dir + "/index.m3u8"), "#EXTINF:"); };
  add(0);  // the first one is written at once
  CHECK(listed() == 1);
  add(1);
  add(2);
  CHECK(fs::exists(dir + "/live2.ts"));  // linked at once
  CHECK(listed() == 1);                  // listed later
  r.flush();
  CHECK(listed() == 3);
  add(3);
  r.finish();
  CHECK(listed() == 4);
  CHECK(harvest::test::read_file(dir + "/index.m3u8").find("#EXT-X-ENDLIST") != std::string::npos);
  CHECK_FALSE(fs::exists(dir + "/index.m3u8.tmp"));
}

TEST_CASE("replay positions: gaps map to the next segment, the end to the end", "[unit][hls][replay]") {
  const std::vector<Segment> segs = {
      {"a", 1.0, 1000, false}, {"b", 1.0, 2000, false}, {"c", 2.0, 10000, true}};
  CHECK(ReplayLibrary::position_s(segs, 0) == Approx(0));
  CHECK(ReplayLibrary::position_s(segs, 2500) == Approx(1.5));
  CHECK(ReplayLibrary::position_s(segs, 5000) == Approx(2.0));
  CHECK(ReplayLibrary::position_s(segs, 11000) == Approx(3.0));
  CHECK(ReplayLibrary::position_s(segs, 99000) == Approx(4.0));
}

TEST_CASE("replay library: crash recovery, retention by count and age, delete, names",
          "[unit][hls][replay]") {
  harvest::test::TempDir tmp;
  const std::string root = tmp.path() + "/replays";
  auto make = [&](const std::string& session, int64_t pdt_ms, bool ended) {
    ReplayRecording r(root + "/s/" + session);
    const std::string src = tmp.path() + "/" + session + ".ts";
    touch(src);
    REQUIRE(r.add_segment(src, Segment{session + ".ts", 1.0, pdt_ms, false}));
    if (ended) r.finish();
  };
  make("1000", 1000, true);
  make("2000", 2000, true);
  make("3000", 86'400'000 * 10, false);      // cut by a crash
  fs::create_directories(root + "/s/4000");  // never got a segment
  ReplayLibrary lib(root, ReplayRetention{.keep_per_stream = 2, .max_age_days = 0});
  lib.recover(86'400'000 * 10);
  CHECK_FALSE(fs::exists(root + "/s/4000"));
  auto list = lib.list("s");
  REQUIRE(list.size() == 2);  // the oldest went: 2 kept
  CHECK(list[0].session == "3000");
  CHECK_FALSE(list[0].live);  // closed at startup
  CHECK(harvest::test::read_file(root + "/s/3000/index.m3u8").find("#EXT-X-PLAYLIST-TYPE:VOD\n") != std::string::npos);
  CHECK(list[1].session == "2000");

  // Age: replays that started more than 1 day ago go; the recording one is never touched.
  auto rec = ReplayLibrary(root, ReplayRetention{.keep_per_stream = 5, .max_age_days = 1})
                 .start_recording("s", "5000", 86'400'000 * 10);
  REQUIRE(rec != nullptr);
  CHECK(lib.list("s").size() == 1);
  CHECK(lib.list("s")[0].session == "3000");

  CHECK_FALSE(lib.remove("s", "nope"));
  CHECK(lib.remove("s", "3000"));
  CHECK(lib.list("s").empty());
  CHECK_FALSE(ReplayLibrary::is_plain_name("../x"));
  CHECK_FALSE(ReplayLibrary::is_plain_name(""));
  CHECK(ReplayLibrary::is_plain_name("1763852400123"));
  CHECK_FALSE(lib.playlist("s", "..").has_value());
  CHECK(ReplayLibrary(root, ReplayRetention{.keep_per_stream = 0}).start_recording("s", "6000", 0) ==
        nullptr);
}

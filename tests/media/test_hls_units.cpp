// The HLS playlist writer (pure) and the on-disk rendition writer: window, deletion,
// discontinuities, program date times, date ranges.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "api/hls_files.h"
#include "media/hls/hls_writer.h"
#include "media/hls/playlist.h"
#include "media/hls/playlist_file.h"
#include "support/temp_dir.h"

using namespace harvest::media::hls;
using harvest::api::is_servable_hls_path;
namespace fs = std::filesystem;

namespace {
void touch(const std::string& path) { harvest::test::write_file(path, "ts"); }
using harvest::test::count_of;
}  // namespace

TEST_CASE("playlist text: header, program date times, discontinuity, end list", "[unit][hls]") {
  PlaylistView v;
  v.target_duration_s = 1;
  v.media_sequence = 7;
  v.discontinuity_sequence = 2;
  v.segments = {{"a.ts", 1.0, 1795376841000, false}, {"b.ts", 1.6, 1795376842000, true}};
  v.ended = true;
  const std::string text = render_media_playlist(v);
  CHECK(text ==
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n"
        "#EXT-X-DISCONTINUITY-SEQUENCE:2\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T19:47:21.000Z\n#EXTINF:1.000,\na.ts\n"
        "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-11-22T19:47:22.000Z\n#EXTINF:1.600,\nb.ts\n"
        "#EXT-X-ENDLIST\n");
  CHECK(format_iso8601_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_iso8601_ms(1795376841123) == "2026-11-22T19:47:21.123Z");
}

TEST_CASE("playlist text: date ranges sit before the segment they start in, with client attributes", "[unit][hls]") {
  PlaylistView v;
  v.segments = {{"a.ts", 1.0, 1000, false}, {"b.ts", 1.0, 2000, false}};
  DateRange card;
  card.id = "card-1";
  card.cls = "com.harvestlive.card";
  card.start_ms = 2500;
  card.end_ms = 4000;
  card.attributes = {{"product id", "pear-yulu"}, {"X-PRICE", "3990\"bad"}};
  v.date_ranges = {card};
  const std::string text = render_media_playlist(v);
  CHECK(text.find("#EXTINF:1.000,\na.ts\n#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:02.000Z\n"
                  "#EXT-X-DATERANGE:ID=\"card-1\",CLASS=\"com.harvestlive.card\","
                  "START-DATE=\"1970-01-01T00:00:02.500Z\",END-DATE=\"1970-01-01T00:00:04.000Z\",DURATION=1.500,"
                  "X-PRODUCT-ID=\"pear-yulu\",X-PRICE=\"3990bad\"\n#EXTINF:1.000,\nb.ts\n") != std::string::npos);
  CHECK(client_attribute_name("card.id") == "X-CARD-ID");
}

TEST_CASE("HLS writer keeps a bounded window, deletes old segments, counts discontinuities", "[unit][hls]") {
  harvest::test::TempDir tmp;
  const std::string dir = tmp.path() + "/hls/s1";
  HlsWriter w(dir, HlsOptions{.target_segment_s = 1.0, .window_segments = 3, .linger_segments = 1});
  CHECK(w.segment_prefix(1).find(dir + "/") == 0);
  w.begin_session(1'000'000);
  CHECK(w.program_date_time_ms(2'500'000'000) == 1'002'500);
  auto add = [&](int i, uint64_t start_s) {
    const std::string path = dir + "/seg" + std::to_string(i) + ".ts";
    touch(path);
    REQUIRE(w.add_segment(path, start_s * 1'000'000'000, (start_s + 1) * 1'000'000'000));
    return path;
  };
  const std::string s0 = add(0, 0);
  add(1, 1);
  add(2, 2);
  w.begin_session(2'000'000);  // a reconnect
  add(3, 0);
  std::string text = harvest::test::read_file(w.playlist_path());
  CHECK(text.find("#EXT-X-MEDIA-SEQUENCE:1\n") != std::string::npos);
  CHECK(count_of(text, "#EXT-X-DISCONTINUITY\n") == 1);
  CHECK(text.find("#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:33:20.000Z\n#EXTINF:1.000,\nseg3.ts") != std::string::npos);
  CHECK(fs::exists(s0));  // out of the window, still lingering
  add(4, 1);
  add(5, 2);
  add(6, 3);
  text = harvest::test::read_file(w.playlist_path());
  CHECK(text.find("#EXT-X-MEDIA-SEQUENCE:4\n") != std::string::npos);
  CHECK(text.find("#EXT-X-DISCONTINUITY-SEQUENCE:1\n") != std::string::npos);
  CHECK(count_of(text, "#EXT-X-DISCONTINUITY\n") == 0);
  CHECK_FALSE(fs::exists(s0));
  CHECK(w.next_sequence() == 7);
  // Empty segments are dropped; the end list closes the playlist.
  touch(dir + "/empty.ts");
  REQUIRE(w.add_segment(dir + "/empty.ts", 5, 5));
  CHECK_FALSE(fs::exists(dir + "/empty.ts"));
  w.end_stream();
  CHECK(harvest::test::read_file(w.playlist_path()).find("#EXT-X-ENDLIST") != std::string::npos);
  w.remove_files();
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("HLS writer date ranges: add, end, drop once they leave the window", "[unit][hls]") {
  harvest::test::TempDir tmp;
  const std::string dir = tmp.path() + "/s";
  HlsWriter w(dir, HlsOptions{.window_segments = 2, .linger_segments = 0});
  w.begin_session(0);
  auto add = [&](int i) {
    const std::string path = dir + "/" + std::to_string(i) + ".ts";
    touch(path);
    REQUIRE(w.add_segment(path, static_cast<uint64_t>(i) * 1'000'000'000, static_cast<uint64_t>(i + 1) * 1'000'000'000));
  };
  add(0);
  w.add_date_range({.id = "c1", .cls = "com.harvestlive.card", .start_ms = 500, .attributes = {{"product", "crab"}}});
  CHECK(harvest::test::read_file(w.playlist_path()).find("ID=\"c1\"") != std::string::npos);
  CHECK(w.end_date_range("c1", 1200));
  CHECK_FALSE(w.end_date_range("nope", 1));
  CHECK(harvest::test::read_file(w.playlist_path()).find("DURATION=0.700") != std::string::npos);
  add(1);
  add(2);
  add(3);  // the window starts at 2000 ms now; the range ended at 1200
  CHECK(harvest::test::read_file(w.playlist_path()).find("c1") == std::string::npos);
}

TEST_CASE("HLS routes serve only plain playlist and segment names", "[unit][hls]") {
  CHECK(is_servable_hls_path("abc/index.m3u8"));
  CHECK(is_servable_hls_path("abc/burned/index.m3u8"));
  CHECK(is_servable_hls_path("abc/x1-2-000001.ts"));
  CHECK_FALSE(is_servable_hls_path("abc/../x.ts"));
  CHECK_FALSE(is_servable_hls_path("/etc/passwd.ts"));
  CHECK_FALSE(is_servable_hls_path("abc/index.html"));
  CHECK_FALSE(is_servable_hls_path("abc/a b.ts"));
}

TEST_CASE("a playlist file is swapped in whole, and the file swapped out is reused", "[unit][hls]") {
  harvest::test::TempDir dir;
  const std::string path = dir.path() + "/index.m3u8";
  auto inode = [](const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
  };
  PlaylistFile file(path, /*reader_grace_ms=*/0);
  REQUIRE(file.write("first"));  // no playlist yet: a plain rename
  CHECK(harvest::test::read_file(path) == "first");
  CHECK_FALSE(fs::exists(path + ".tmp"));
  const auto first = inode(path);
  REQUIRE(file.write("second, longer"));  // a new file beside, swapped with the playlist
  CHECK(harvest::test::read_file(path) == "second, longer");
  CHECK(harvest::test::read_file(path + ".tmp") == "first");
  const auto second = inode(path);
  CHECK(second != first);
  CHECK(inode(path + ".tmp") == first);
  REQUIRE(file.write("3rd"));  // the old playlist is rewritten in place (shorter) and swapped back
  CHECK(harvest::test::read_file(path) == "3rd");
  CHECK(inode(path) == first);
  CHECK(harvest::test::read_file(path + ".tmp") == "second, longer");
  file.release();
  CHECK_FALSE(fs::exists(path + ".tmp"));
  CHECK(harvest::test::read_file(path) == "3rd");

  // Within the reader grace a file just swapped out is not rewritten (a new one is written
  // instead); readers see each playlist whole either way.
  PlaylistFile careful(path);
  for (const char* text : {"a", "bb", "c"}) {
    REQUIRE(careful.write(text));
    CHECK(harvest::test::read_file(path) == text);
  }
  CHECK(harvest::test::read_file(path + ".tmp") == "bb");
}

// The burned-in ladder's pure parts: rung sizes, bitrates, CODECS and the master playlist.
#include <catch2/catch.hpp>

#include <string>

#include "media/burned/burned_ladder.h"

using harvest::media::ladder_bitrate_kbps;
using harvest::media::ladder_codecs;
using harvest::media::ladder_rung_size;
using harvest::media::master_playlist_text;
using harvest::media::RungSize;

TEST_CASE("ladder rung size: landscape keeps the aspect ratio, even numbers") {
  CHECK(ladder_rung_size(1280, 720, 480) == RungSize{854, 480});  // 853.33 -> nearest even 854
  CHECK(ladder_rung_size(1280, 720, 360) == RungSize{640, 360});
  CHECK(ladder_rung_size(640, 360, 240) == RungSize{426, 240});  // 426.67 -> nearest even 426
  CHECK(ladder_rung_size(1920, 1080, 720) == RungSize{1280, 720});
}

TEST_CASE("ladder rung size: portrait sources scale the short side to the rung") {
  CHECK(ladder_rung_size(720, 1280, 480) == RungSize{480, 854});
  CHECK(ladder_rung_size(320, 568, 240) == RungSize{240, 426});  // 426.0
  CHECK(ladder_rung_size(1080, 1920, 720) == RungSize{720, 1280});
}

TEST_CASE("ladder rung size: odd sources and odd rungs give even sizes") {
  const auto a = ladder_rung_size(641, 359, 240);  // 428.52 -> nearest even 428
  REQUIRE(a);
  CHECK(a->width % 2 == 0);
  CHECK(a->height == 240);
  CHECK(*a == RungSize{428, 240});
  const auto b = ladder_rung_size(1280, 720, 241);  // odd rung: down to 240
  REQUIRE(b);
  CHECK(*b == RungSize{426, 240});
  const auto c = ladder_rung_size(999, 999, 500);  // square
  REQUIRE(c);
  CHECK(*c == RungSize{500, 500});
}

TEST_CASE("ladder rung size: a rung not below the source is skipped") {
  CHECK_FALSE(ladder_rung_size(1280, 720, 720));
  CHECK_FALSE(ladder_rung_size(1280, 720, 1080));
  CHECK_FALSE(ladder_rung_size(720, 1280, 720));  // portrait: the short side is 720
  CHECK(ladder_rung_size(720, 1280, 718));
  CHECK_FALSE(ladder_rung_size(0, 0, 240));
  CHECK_FALSE(ladder_rung_size(640, 360, 0));
}

TEST_CASE("ladder bitrates follow the pixels like the source-size rendition") {
  CHECK(ladder_bitrate_kbps(1280, 720) == 1935);
  CHECK(ladder_bitrate_kbps(854, 480) == 861);
  CHECK(ladder_bitrate_kbps(426, 240) == 300);     // floor
  CHECK(ladder_bitrate_kbps(3840, 2160) == 6000);  // ceiling
}

TEST_CASE("master playlist lists every rendition with BANDWIDTH, RESOLUTION and CODECS") {
  CHECK(ladder_codecs(426, 240, true) == "avc1.42c01e,mp4a.40.2");
  CHECK(ladder_codecs(1280, 720, false) == "avc1.42c01f");
  CHECK(ladder_codecs(1920, 1080, true) == "avc1.42c028,mp4a.40.2");
  const std::string text =
      master_playlist_text({{"index.m3u8", 640, 360, 612000, "avc1.42c01e,mp4a.40.2"},
                            {"240p/index.m3u8", 426, 240, 428000, "avc1.42c01e,mp4a.40.2"}});
  CHECK(text ==
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=612000,RESOLUTION=640x360,CODECS=\"avc1.42c01e,mp4a.40.2\"\nindex.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=428000,RESOLUTION=426x240,CODECS=\"avc1.42c01e,mp4a.40.2\"\n240p/"
        "index.m3u8\n");
}

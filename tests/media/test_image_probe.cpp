// The header probe of uploaded photos (server/media/images/image_probe.h): real headers made
// by ffmpeg (the fuzz corpus), every cut-short prefix of them, bombs declaring huge sizes, and
// things that are not pictures.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "media/images/image_probe.h"
#include "support/temp_dir.h"

using namespace harvest::media::images;
using harvest::test::read_file;

namespace {

std::string corpus(const std::string& name) {
  const std::string bytes = read_file(std::string(HARVEST_SOURCE_DIR) + "/tests/fuzz/corpus/fuzz_image_probe/" + name);
  REQUIRE_FALSE(bytes.empty());
  return bytes;
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}
std::string be16(uint32_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string le16(uint32_t v) { return {static_cast<char>(v), static_cast<char>(v >> 8)}; }
std::string le24(uint32_t v) { return le16(v) + std::string(1, static_cast<char>(v >> 16)); }

std::string png_header(uint32_t w, uint32_t h) {
  return std::string("\x89PNG\r\n\x1A\n", 8) + be32(13) + "IHDR" + be32(w) + be32(h) + std::string("\x08\x02\0\0\0", 5);
}

// SOI, an optional APP1, then a baseline frame header.
std::string jpeg_header(uint32_t w, uint32_t h, const std::string& app1 = {}) {
  std::string out("\xFF\xD8", 2);
  if (!app1.empty()) out += std::string("\xFF\xE1", 2) + be16(static_cast<uint32_t>(app1.size()) + 2) + app1;
  return out + std::string("\xFF\xC0", 2) + be16(11) + "\x08" + be16(h) + be16(w) + std::string("\x01\x01\x11\x00", 4);
}

// An EXIF payload whose IFD0 holds only the orientation tag.
std::string exif_orientation(int value, bool little_endian) {
  auto u16 = [&](uint32_t v) { return little_endian ? le16(v) : be16(v); };
  auto u32 = [&](uint32_t v) { return little_endian ? le16(v & 0xFFFF) + le16(v >> 16) : be32(v); };
  return std::string("Exif\0\0", 6) + (little_endian ? "II" : "MM") + u16(42) + u32(8) + u16(1) + u16(0x0112) +
         u16(3) + u32(1) + u16(static_cast<uint32_t>(value)) + u16(0) + u32(0);
}

std::string webp_vp8x(uint32_t w, uint32_t h) {
  return std::string("RIFF\0\0\0\0WEBPVP8X", 16) + std::string("\x0A\0\0\0\0\0\0\0", 8) + le24(w - 1) + le24(h - 1);
}

}  // namespace

TEST_CASE("image probe reads format and size from real JPEG, PNG and WebP headers", "[unit][images]") {
  const std::pair<const char*, ImageFormat> files[] = {
      {"real_16x8.jpg", ImageFormat::jpeg},         {"real_16x8.png", ImageFormat::png},
      {"real_16x8_lossy.webp", ImageFormat::webp},  {"real_16x8_lossless.webp", ImageFormat::webp},
      {"real_16x8_alpha.webp", ImageFormat::webp},
  };
  for (const auto& [name, format] : files) {
    INFO(name);
    const ImageProbe p = probe_image(corpus(name));
    CHECK(p.verdict == ProbeVerdict::ok);
    CHECK(p.format == format);
    CHECK(p.width == 16);
    CHECK(p.height == 8);
    CHECK(p.orientation == 1);
  }
}

TEST_CASE("image probe calls every cut-short header truncated, never ok", "[unit][images]") {
  for (const char* name : {"real_16x8.jpg", "real_16x8.png", "real_16x8_lossy.webp", "real_16x8_lossless.webp",
                           "real_16x8_alpha.webp"}) {
    const std::string bytes = corpus(name);
    size_t first_ok = 0;
    for (size_t n = 1; n <= bytes.size() && first_ok == 0; ++n) {
      const ProbeVerdict v = probe_image(bytes.substr(0, n)).verdict;
      if (v == ProbeVerdict::ok) first_ok = n;
      else if (v != ProbeVerdict::truncated) FAIL(name << " cut to " << n << " bytes is not 'truncated'");
    }
    INFO(name << ": the size is known after " << first_ok << " bytes");
    CHECK(first_ok > 0);
  }
}

TEST_CASE("image probe refuses bombs by their declared size, before any decoding", "[unit][images]") {
  const ImageProbe png = probe_image(corpus("bomb_50000x50000.png"));
  CHECK(png.verdict == ProbeVerdict::too_large);
  CHECK(png.width == 50000);
  const ImageProbe jpeg = probe_image(corpus("bomb_exif_60000.jpg"));
  CHECK(jpeg.verdict == ProbeVerdict::too_large);
  CHECK(jpeg.height == 60000);

  const ImageLimits limits;
  CHECK(probe_image(jpeg_header(8064, 6048)).verdict == ProbeVerdict::ok);  // a 48 MP phone photo
  CHECK(probe_image(jpeg_header(limits.max_side + 1, 10)).verdict == ProbeVerdict::too_large);
  CHECK(probe_image(jpeg_header(10000, 5001)).verdict == ProbeVerdict::too_large);  // 50.01 MP
  CHECK(probe_image(png_header(4000, 4000)).verdict == ProbeVerdict::ok);           // 16 MP
  CHECK(probe_image(png_header(5000, 4000)).verdict == ProbeVerdict::too_large);    // PNG decodes whole
  CHECK(probe_image(png_header(0x80000000u, 1)).verdict == ProbeVerdict::not_an_image);
  CHECK(probe_image(webp_vp8x(16384, 16384)).verdict == ProbeVerdict::too_large);
  CHECK(probe_image(webp_vp8x(1200, 900)).verdict == ProbeVerdict::ok);
}

TEST_CASE("image probe reads a JPEG's EXIF orientation in either byte order", "[unit][images]") {
  CHECK(probe_image(jpeg_header(40, 30, exif_orientation(6, false))).orientation == 6);
  CHECK(probe_image(jpeg_header(40, 30, exif_orientation(8, true))).orientation == 8);
  CHECK(probe_image(jpeg_header(40, 30, exif_orientation(9, true))).orientation == 1);  // not a valid value
  CHECK(probe_image(jpeg_header(40, 30, std::string("Exif\0\0MM", 8))).orientation == 1);  // cut short
  CHECK(probe_image(corpus("bomb_exif_60000.jpg")).orientation == 6);
}

TEST_CASE("image probe says what is not a picture", "[unit][images]") {
  CHECK(probe_image("").verdict == ProbeVerdict::not_an_image);
  CHECK(probe_image("hello, this is text").verdict == ProbeVerdict::not_an_image);
  CHECK(probe_image("GIF89a\x10\0\x08\0").verdict == ProbeVerdict::not_an_image);
  CHECK(probe_image(std::string("RIFF\0\0\0\0WAVEfmt ", 16)).verdict == ProbeVerdict::not_an_image);
  CHECK(probe_image(png_header(0, 8)).verdict == ProbeVerdict::not_an_image);
  CHECK(probe_image(jpeg_header(16, 0)).verdict == ProbeVerdict::not_an_image);  // height by DNL: not taken
  // Scan data before any frame header.
  CHECK(probe_image(std::string("\xFF\xD8\xFF\xDA\0\x08", 6)).verdict == ProbeVerdict::not_an_image);
  // A PNG whose first chunk is not IHDR.
  std::string png = png_header(16, 8);
  png.replace(12, 4, "IDAT");
  CHECK(probe_image(png).verdict == ProbeVerdict::not_an_image);
}

TEST_CASE("an upload is told from its first bytes when it begins as no picture does", "[unit][images]") {
  // Every picture the probe takes begins like one, cut anywhere in its signature.
  for (const std::string& picture : {jpeg_header(640, 480), png_header(640, 480), webp_vp8x(640, 480)}) {
    REQUIRE(probe_image(picture).verdict == ProbeVerdict::ok);
    for (size_t n = 1; n <= picture.size(); ++n) {
      INFO("first " << n << " bytes");
      CHECK(starts_like_a_picture(picture.substr(0, n)));
    }
  }
  // What the probe calls not_an_image from its signature alone.
  for (const std::string& other : {std::string(12, 'A'), std::string("hello, this is text"), std::string("GIF89a\x10\0\x08\0", 10),
                                   std::string("RIFF\0\0\0\0WAVEfmt ", 16), std::string("\xFF\xD9", 2)}) {
    INFO(other);
    CHECK_FALSE(starts_like_a_picture(other));
    CHECK(probe_image(other).verdict == ProbeVerdict::not_an_image);
  }
}

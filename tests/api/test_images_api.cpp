// POST /api/images and GET /images/{name} against the real server: real pictures made by
// ffmpeg (JPEG, PNG with alpha, WebP), a JPEG carrying GPS EXIF, bombs, garbage, wrong types,
// oversize bodies and anonymous callers. Every output is decoded again by ffmpeg.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

using harvest::test::bearer;
using harvest::test::ChildProcess;
using harvest::test::http_get;
using harvest::test::http_request;
using harvest::test::raw_exchange;
using harvest::test::HttpResult;
using harvest::test::read_file;
using harvest::test::ServerProcess;
using harvest::test::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kAdmin = "test-admin-token";

void ffmpeg(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"});
  ChildProcess p(args, dir.path() + "/ffmpeg.log");
  REQUIRE(p.wait(std::chrono::seconds(30)) == 0);
}

// A picture made by ffmpeg from a lavfi source, as bytes.
std::string picture(const TempDir& dir, const std::string& source, const std::string& name,
                    std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"-f", "lavfi", "-i", source, "-frames:v", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(dir.path() + "/" + name);
  ffmpeg(dir, args);
  return read_file(dir.path() + "/" + name);
}

struct Decoded {
  size_t width = 0;
  size_t height = 0;
  std::string rgb;  // rgb24, rows top-down
};

// The bytes decoded by ffmpeg (not by the server's own libraries).
Decoded decode(const TempDir& dir, const std::string& jpeg, size_t width, size_t height) {
  harvest::test::write_file(dir.path() + "/check.jpg", jpeg);
  ffmpeg(dir, {"-i", dir.path() + "/check.jpg", "-f", "rawvideo", "-pix_fmt", "rgb24", dir.path() + "/check.rgb"});
  Decoded d{width, height, read_file(dir.path() + "/check.rgb")};
  REQUIRE(d.rgb.size() == width * height * 3);
  return d;
}

int channel(const Decoded& d, size_t x, size_t y, size_t c) {
  return static_cast<unsigned char>(d.rgb[(y * d.width + x) * 3 + c]);
}

HttpResult upload(int port, const std::string& bytes, const std::string& type, const std::string& token = kAdmin) {
  std::map<std::string, std::string> headers = {{"Content-Type", type}};
  if (!token.empty()) headers["Authorization"] = "Bearer " + token;
  return http_request(port, "POST", "/api/images", bytes, headers, std::chrono::seconds(30));
}

// Every file in data_dir/images, temporary ones included.
size_t files_in(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  size_t n = 0;
  for (auto it = fs::directory_iterator(dir, ec); it != fs::directory_iterator(); ++it) ++n;
  return n;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

std::string be16(size_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)}; }
std::string be32(uint32_t v) { return be16(v >> 16) + be16(v & 0xFFFF); }

// An EXIF APP1 segment as a phone writes one: IFD0 with the orientation (6: the camera was held
// upright, the pixels lie on their side) and a pointer to a GPS IFD holding latitude
// 31°14'3.1415" N and longitude 121°28'26.5358" E (big-endian TIFF).
const std::string kLatitudeSeconds = be32(31415) + be32(10000);
std::string gps_exif_segment() {
  const auto entry = [](uint32_t tag, uint32_t type, uint32_t count, const std::string& value) {
    return be16(tag) + be16(type) + be32(count) + value;
  };
  // Offsets are from the TIFF header: IFD0 at 8 (2 entries: 2 + 24 + 4 = 30 bytes), GPS IFD at
  // 38 (4 entries: 2 + 48 + 4 = 54 bytes), its rationals at 92 (latitude) and 116 (longitude).
  std::string tiff = "MM" + be16(42) + be32(8);
  tiff += be16(2) + entry(0x0112, 3, 1, be16(6) + be16(0)) + entry(0x8825, 4, 1, be32(38)) + be32(0);
  tiff += be16(4) + entry(0x0001, 2, 2, std::string("N\0\0\0", 4)) + entry(0x0002, 5, 3, be32(92)) +
          entry(0x0003, 2, 2, std::string("E\0\0\0", 4)) + entry(0x0004, 5, 3, be32(116)) + be32(0);
  tiff += be32(31) + be32(1) + be32(14) + be32(1) + kLatitudeSeconds;
  tiff += be32(121) + be32(1) + be32(28) + be32(1) + be32(265358) + be32(10000);
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  return std::string("\xFF\xE1", 2) + be16(payload.size() + 2) + payload;
}

// The JPEG with `segment` inserted right after its SOI marker.
std::string with_segment(const std::string& jpeg, const std::string& segment) {
  REQUIRE(jpeg.substr(0, 2) == "\xFF\xD8");
  return jpeg.substr(0, 2) + segment + jpeg.substr(2);
}

// A PNG that declares width x height and carries no pixel data (a bomb's header).
std::string png_declaring(uint32_t width, uint32_t height) {
  const std::string ihdr = "IHDR" + be32(width) + be32(height) + std::string("\x08\x02\0\0\0", 5);
  return std::string("\x89PNG\r\n\x1A\n", 8) + be32(13) + ihdr + be32(0) + be32(0) + "IEND" + be32(0);
}

}  // namespace

TEST_CASE("uploaded JPEG, PNG and WebP are stored as plain JPEGs and served for ever", "[images]") {
  TempDir dir;
  TempDir work;
  ServerProcess server({.data_dir = dir.path(), .env = {{"HARVEST_ADMIN_TOKEN", kAdmin}}});
  const int port = server.http_port();
  const std::string images = dir.path() + "/images";

  // A JPEG larger than a card needs: scaled to 1280 on the long side.
  const std::string jpeg = picture(work, "testsrc2=size=1600x1200", "in.jpg");
  auto r = upload(port, jpeg, "image/jpeg");
  REQUIRE(r.status == 201);
  const json stored = json::parse(r.body);
  const std::string url = stored["url"];
  CHECK(url.rfind("/images/", 0) == 0);
  CHECK(stored["width"] == 1280);
  CHECK(stored["height"] == 960);
  auto got = http_get(port, url);
  REQUIRE(got.status == 200);
  CHECK(got.headers["content-type"] == "image/jpeg");
  CHECK(got.headers["cache-control"] == "public, max-age=31536000, immutable");
  const std::string etag = got.headers["etag"];
  CHECK(etag == "\"" + url.substr(8, 32) + "\"");
  decode(work, got.body, 1280, 960);
  // The same upload again: the same URL, one file.
  CHECK(json::parse(upload(port, jpeg, "image/jpeg").body)["url"] == url);
  CHECK(files_in(images) == 1);
  // A revalidation is answered without the body.
  auto again = http_get(port, url, {{"If-None-Match", etag}});
  CHECK(again.status == 304);
  CHECK(again.body.empty());

  // A PNG with alpha: half-transparent red over white, as a browser shows it (255, 128, 128).
  const std::string png = picture(work, "color=c=red@0.5:size=300x200,format=rgba", "in.png");
  r = upload(port, png, "image/png");
  REQUIRE(r.status == 201);
  const json png_stored = json::parse(r.body);
  CHECK(png_stored["width"] == 300);
  const Decoded flat = decode(work, http_get(port, png_stored["url"]).body, 300, 200);
  CHECK(channel(flat, 150, 100, 0) > 240);
  CHECK(std::abs(channel(flat, 150, 100, 1) - 128) < 12);
  CHECK(std::abs(channel(flat, 150, 100, 2) - 128) < 12);

  // A WebP, lossy; and a PNG sent as image/jpeg (decoded by what the bytes are).
  const std::string webp = picture(work, "testsrc2=size=640x480", "in.webp");
  r = upload(port, webp, "image/webp");
  REQUIRE(r.status == 201);
  decode(work, http_get(port, json::parse(r.body)["url"]).body, 640, 480);
  CHECK(upload(port, png, "image/JPEG; charset=binary").status == 201);
  CHECK(files_in(images) == 3);

  // A host token of any stream may upload too.
  auto created = json::parse(http_request(port, "POST", "/api/streams", R"({"title":"photos"})", bearer(kAdmin)).body);
  CHECK(upload(port, webp, "image/webp", created["host_token"]).status == 201);

  // Names that are not photo names are not files.
  CHECK(http_get(port, "/images/..%2Fharvest.db").status == 404);
  CHECK(http_get(port, "/images/" + std::string(32, '0') + ".jpg").status == 404);
  CHECK(http_get(port, "/images/" + url.substr(8, 32) + ".png").status == 404);
}

TEST_CASE("a photo's GPS EXIF is gone from the stored JPEG and its orientation applied", "[images]") {
  TempDir dir;
  TempDir work;
  ServerProcess server({.data_dir = dir.path(), .env = {{"HARVEST_ADMIN_TOKEN", kAdmin}}});
  const int port = server.http_port();
  // Left half red, right half blue, 800x600 as stored by the camera.
  const std::string plain = picture(work, "color=c=red:size=400x600[l];color=c=blue:size=400x600[r];[l][r]hstack",
                                    "halves.jpg", {"-filter_complex_threads", "1"});
  const std::string phone = with_segment(plain, gps_exif_segment());
  REQUIRE(phone.find(kLatitudeSeconds) != std::string::npos);  // the upload does carry it

  auto r = upload(port, phone, "image/jpeg");
  REQUIRE(r.status == 201);
  const json stored = json::parse(r.body);
  // Orientation 6: turned a quarter clockwise, so it stands 600 wide and 800 high.
  CHECK(stored["width"] == 600);
  CHECK(stored["height"] == 800);
  const std::string out = read_file(dir.path() + std::string(stored["url"]));
  REQUIRE_FALSE(out.empty());
  CHECK(out.find(std::string("Exif\0\0", 6)) == std::string::npos);
  CHECK(out.find(std::string("\xFF\xE1", 2)) == std::string::npos);  // no APP1 at all (EXIF, XMP)
  CHECK(out.find(kLatitudeSeconds) == std::string::npos);
  CHECK(out.find("MM\0*", 0) == std::string::npos);
  // Turned clockwise: the left half (red) is now on top, the right (blue) at the bottom.
  const Decoded d = decode(work, out, 600, 800);
  CHECK(channel(d, 300, 100, 0) > 200);
  CHECK(channel(d, 300, 100, 2) < 60);
  CHECK(channel(d, 300, 700, 2) > 200);
  CHECK(channel(d, 300, 700, 0) < 60);
}

TEST_CASE("bombs, garbage, wrong types, oversize bodies and anonymous callers store nothing", "[images]") {
  TempDir dir;
  TempDir work;
  ServerProcess server({.data_dir = dir.path(), .env = {{"HARVEST_ADMIN_TOKEN", kAdmin}}});
  const int port = server.http_port();
  const std::string images = dir.path() + "/images";
  const std::string jpeg = picture(work, "testsrc2=size=320x240", "ok.jpg");
  const long rss_before = rss_kib(server.pid());

  // A PNG declaring 50000 x 50000 (7.5 GB of RGB): refused from its header, at once.
  const auto started = std::chrono::steady_clock::now();
  auto bomb = upload(port, png_declaring(50000, 50000), "image/png");
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(bomb.status == 413);
  CHECK(json::parse(bomb.body)["error"] == "image_too_large");
  CHECK(bomb.body.find("50000x50000") != std::string::npos);
  CHECK(took < std::chrono::seconds(2));

  // A real PNG, 6000 x 6000 of one colour (108 MB of pixels in a small file).
  const std::string big = picture(work, "color=c=green:size=6000x6000", "big.png");
  INFO("6000x6000 PNG: " << big.size() << " bytes");
  auto real_bomb = upload(port, big, "image/png");
  CHECK(real_bomb.status == 413);
  // The same as a JPEG declared in its frame header: 60000 x 60000.
  std::string huge_jpeg = jpeg;
  const size_t sof = huge_jpeg.find(std::string("\xFF\xC0", 2));
  REQUIRE(sof != std::string::npos);
  huge_jpeg.replace(sof + 5, 4, be16(60000) + be16(60000));
  CHECK(upload(port, huge_jpeg, "image/jpeg").status == 413);
  const long rss_after = rss_kib(server.pid());
  WARN("server RSS " << rss_before << " KiB before the bombs, " << rss_after << " KiB after");
  CHECK(rss_after - rss_before < 20 * 1024);

  // Not pictures: random bytes, text, a JPEG cut after its header, a PNG whose pixel data is
  // garbage. Each a 400 with the reason.
  std::string noise(3000, '\0');
  uint32_t x = 12345;
  for (char& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  auto random = upload(port, noise, "image/png");
  CHECK(random.status == 400);
  CHECK(json::parse(random.body)["error"] == "not_an_image");
  CHECK(upload(port, "hello", "image/jpeg").status == 400);
  CHECK(upload(port, jpeg.substr(0, 20), "image/jpeg").status == 400);
  CHECK(upload(port, png_declaring(64, 64) + noise, "image/png").status == 400);
  CHECK(upload(port, "", "image/png").status == 400);

  // 6 MiB announced, 64 KiB of it sent, then nothing: bytes that begin as no picture does are
  // refused from their first bytes, at once; the server neither waits for the other 6 MB (it
  // would answer 408 at the 10 s body deadline) nor reads them.
  const std::string garbage_head = "POST /api/images HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nAuthorization: Bearer " +
                                   kAdmin + "\r\nContent-Length: " + std::to_string(6 * 1024 * 1024) + "\r\n\r\n";
  const std::string early = raw_exchange(port, garbage_head + std::string(64 * 1024, 'A'), std::chrono::seconds(8));
  CHECK(early.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(early.find("not_an_image") != std::string::npos);

  // Wrong types: refused from the head, before the body is read.
  auto text = upload(port, jpeg, "text/plain");
  CHECK(text.status == 415);
  CHECK(json::parse(text.body)["error"] == "unsupported_media_type");
  CHECK(upload(port, jpeg, "image/gif").status == 415);
  CHECK(upload(port, jpeg, "").status == 415);
  // Over the 6 MiB cap: 413 unread.
  auto over = upload(port, std::string(6 * 1024 * 1024 + 1, 'x'), "image/jpeg");
  CHECK(over.status == 413);
  // Anonymous, or a token that is not one.
  CHECK(upload(port, jpeg, "image/jpeg", "").status == 401);
  CHECK(upload(port, jpeg, "image/jpeg", "h1.nope.1.deadbeef").status == 401);

  CHECK(files_in(images) == 0);
  // The largest PNG taken (16 MP, decoded whole) goes in, scaled down.
  const std::string largest = picture(work, "color=c=green:size=4000x4000", "largest.png");
  const auto t0 = std::chrono::steady_clock::now();
  auto taken = upload(port, largest, "image/png");
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  CHECK(taken.status == 201);
  CHECK(json::parse(taken.body)["width"] == 1280);
  WARN("4000x4000 PNG (" << largest.size() << " bytes): answered in " << ms.count() << " ms; server RSS "
                         << rss_kib(server.pid()) << " KiB");
  CHECK(files_in(images) == 1);
  // And the server is well: a real picture still goes in.
  CHECK(upload(port, jpeg, "image/jpeg").status == 201);
  CHECK(files_in(images) == 2);
}

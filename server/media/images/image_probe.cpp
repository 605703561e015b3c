#include "media/images/image_probe.h"

#include <algorithm>

namespace harvest::media::images {
namespace {

using Bytes = std::string_view;

uint8_t at(Bytes b, size_t i) { return static_cast<uint8_t>(b[i]); }
uint32_t be16(Bytes b, size_t i) { return uint32_t{at(b, i)} << 8 | at(b, i + 1); }
uint32_t be32(Bytes b, size_t i) { return be16(b, i) << 16 | be16(b, i + 2); }
uint32_t le16(Bytes b, size_t i) { return uint32_t{at(b, i + 1)} << 8 | at(b, i); }
uint32_t le24(Bytes b, size_t i) { return uint32_t{at(b, i + 2)} << 16 | le16(b, i); }
uint32_t le32(Bytes b, size_t i) { return uint32_t{at(b, i + 3)} << 24 | le24(b, i); }

constexpr Bytes kJpegSignature("\xFF\xD8\xFF", 3);
constexpr Bytes kPngSignature("\x89PNG\r\n\x1A\n", 8);

// Whether `b` starts with `sig`, or is a non-empty beginning of it (cut short).
enum class Prefix { no, partial, full };
Prefix starts_with(Bytes b, Bytes sig) {
  const size_t n = std::min(b.size(), sig.size());
  if (n == 0 || b.substr(0, n) != sig.substr(0, n)) return Prefix::no;
  return n == sig.size() ? Prefix::full : Prefix::partial;
}

ImageProbe verdict(ProbeVerdict v, ImageFormat format = ImageFormat::unknown) {
  ImageProbe p;
  p.verdict = v;
  p.format = format;
  return p;
}

// TIFF tag 0x0112 of IFD0 in an EXIF payload (after "Exif\0\0"); 1 when absent or unreadable.
int exif_orientation(Bytes tiff) {
  if (tiff.size() < 8) return 1;
  const bool little = tiff.substr(0, 2) == "II";
  if (!little && tiff.substr(0, 2) != "MM") return 1;
  auto u16 = [&](size_t i) { return little ? le16(tiff, i) : be16(tiff, i); };
  auto u32 = [&](size_t i) { return little ? le32(tiff, i) : be32(tiff, i); };
  if (u16(2) != 42) return 1;
  const uint32_t ifd = u32(4);
  if (ifd > tiff.size() - 2) return 1;
  const uint32_t entries = u16(ifd);
  for (uint32_t i = 0; i < entries; ++i) {
    const size_t e = size_t{ifd} + 2 + size_t{i} * 12;
    if (e + 12 > tiff.size()) return 1;
    if (u16(e) != 0x0112) continue;
    if (u16(e + 2) != 3 /* SHORT */) return 1;
    const uint32_t v = u16(e + 8);
    return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
  }
  return 1;
}

// Markers up to the first frame header (SOFn): its height and width. EXIF (APP1) on the way
// gives the orientation. Entropy-coded data (after SOS) is never reached for a valid file.
ImageProbe probe_jpeg(Bytes b) {
  ImageProbe p = verdict(ProbeVerdict::ok, ImageFormat::jpeg);
  size_t pos = 2;
  for (;;) {
    if (pos >= b.size()) return verdict(ProbeVerdict::truncated, ImageFormat::jpeg);
    if (at(b, pos) != 0xFF) return verdict(ProbeVerdict::not_an_image, ImageFormat::jpeg);
    while (pos < b.size() && at(b, pos) == 0xFF) ++pos;  // fill bytes
    if (pos >= b.size()) return verdict(ProbeVerdict::truncated, ImageFormat::jpeg);
    const uint8_t marker = at(b, pos++);
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
    if (marker == 0x00 || marker == 0xD8 || marker == 0xD9 || marker == 0xDA)
      return verdict(ProbeVerdict::not_an_image, ImageFormat::jpeg);  // no frame header before
    if (pos + 2 > b.size()) return verdict(ProbeVerdict::truncated, ImageFormat::jpeg);
    const uint32_t length = be16(b, pos);
    if (length < 2) return verdict(ProbeVerdict::not_an_image, ImageFormat::jpeg);
    const bool frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame) {
      if (length < 8) return verdict(ProbeVerdict::not_an_image, ImageFormat::jpeg);
      if (pos + 7 > b.size()) return verdict(ProbeVerdict::truncated, ImageFormat::jpeg);
      p.height = be16(b, pos + 3);
      p.width = be16(b, pos + 5);
      return p;
    }
    if (marker == 0xE1) {
      const Bytes segment = b.substr(pos + 2, std::min<size_t>(length - 2, b.size() - pos - 2));
      if (segment.substr(0, 6) == Bytes("Exif\0\0", 6)) p.orientation = exif_orientation(segment.substr(6));
    }
    pos += length;
  }
}

// The IHDR chunk, which must come first.
ImageProbe probe_png(Bytes b) {
  if (b.size() < 24) return verdict(ProbeVerdict::truncated, ImageFormat::png);
  if (be32(b, 8) != 13 || b.substr(12, 4) != "IHDR") return verdict(ProbeVerdict::not_an_image, ImageFormat::png);
  ImageProbe p = verdict(ProbeVerdict::ok, ImageFormat::png);
  p.width = be32(b, 16);
  p.height = be32(b, 20);
  if (p.width > 0x7FFFFFFF || p.height > 0x7FFFFFFF) return verdict(ProbeVerdict::not_an_image, ImageFormat::png);
  return p;
}

// RIFF "WEBP" and its first chunk: lossy (VP8), lossless (VP8L) or extended (VP8X, canvas size).
ImageProbe probe_webp(Bytes b) {
  if (b.size() < 20) return verdict(ProbeVerdict::truncated, ImageFormat::webp);
  const Bytes chunk = b.substr(12, 4);
  ImageProbe p = verdict(ProbeVerdict::ok, ImageFormat::webp);
  constexpr size_t d = 20;  // the chunk's data
  if (chunk == "VP8 ") {
    if (b.size() < d + 10) return verdict(ProbeVerdict::truncated, ImageFormat::webp);
    if (b.substr(d + 3, 3) != "\x9D\x01\x2A") return verdict(ProbeVerdict::not_an_image, ImageFormat::webp);
    p.width = le16(b, d + 6) & 0x3FFF;
    p.height = le16(b, d + 8) & 0x3FFF;
  } else if (chunk == "VP8L") {
    if (b.size() < d + 5) return verdict(ProbeVerdict::truncated, ImageFormat::webp);
    if (at(b, d) != 0x2F) return verdict(ProbeVerdict::not_an_image, ImageFormat::webp);
    const uint32_t bits = le32(b, d + 1);
    p.width = (bits & 0x3FFF) + 1;
    p.height = ((bits >> 14) & 0x3FFF) + 1;
  } else if (chunk == "VP8X") {
    if (b.size() < d + 10) return verdict(ProbeVerdict::truncated, ImageFormat::webp);
    p.width = le24(b, d + 4) + 1;
    p.height = le24(b, d + 7) + 1;
  } else {
    return verdict(ProbeVerdict::not_an_image, ImageFormat::webp);
  }
  return p;
}

}  // namespace

const char* format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::jpeg: return "jpeg";
    case ImageFormat::png: return "png";
    case ImageFormat::webp: return "webp";
    case ImageFormat::unknown: break;
  }
  return "unknown";
}

ImageProbe probe_image(std::string_view bytes, const ImageLimits& limits) {
  ImageProbe p;
  const Prefix riff = starts_with(bytes, "RIFF");
  if (const Prefix j = starts_with(bytes, kJpegSignature); j != Prefix::no) {
    p = j == Prefix::full ? probe_jpeg(bytes) : verdict(ProbeVerdict::truncated, ImageFormat::jpeg);
  } else if (const Prefix g = starts_with(bytes, kPngSignature); g != Prefix::no) {
    p = g == Prefix::full ? probe_png(bytes) : verdict(ProbeVerdict::truncated, ImageFormat::png);
  } else if (riff != Prefix::no) {
    if (riff == Prefix::partial || bytes.size() < 12) return verdict(ProbeVerdict::truncated, ImageFormat::webp);
    if (bytes.substr(8, 4) != "WEBP") return verdict(ProbeVerdict::not_an_image);
    p = probe_webp(bytes);
  } else {
    return verdict(ProbeVerdict::not_an_image);
  }
  if (p.verdict != ProbeVerdict::ok) return p;
  if (p.width == 0 || p.height == 0) return verdict(ProbeVerdict::not_an_image, p.format);
  const uint64_t pixels = uint64_t{p.width} * p.height;
  const uint64_t max_pixels = p.format == ImageFormat::png ? limits.max_png_pixels : limits.max_pixels;
  if (p.width > limits.max_side || p.height > limits.max_side || pixels > max_pixels) p.verdict = ProbeVerdict::too_large;
  return p;
}

bool starts_like_a_picture(std::string_view first) {
  first = first.substr(0, kSignatureBytes);
  if (starts_with(first, kJpegSignature) != Prefix::no || starts_with(first, kPngSignature) != Prefix::no) return true;
  // The same test as probe_image(): "RIFF", a size, "WEBP".
  const Prefix riff = starts_with(first, "RIFF");
  if (riff == Prefix::no) return false;
  return first.size() < kSignatureBytes || first.substr(8, 4) == "WEBP";
}

}  // namespace harvest::media::images

#pragma once
// What an uploaded picture says about itself in its first bytes, before anything decodes it:
// the format (JPEG, PNG, WebP), the declared width and height, and a JPEG's EXIF orientation.
// A pure function over bytes (fuzzed: tests/fuzz/fuzz_image_probe.cpp). A picture declaring more
// pixels than the limits allow is refused here, so a decompression bomb (a small file declaring
// 50000 x 50000) costs a few header reads and no memory.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace harvest::media::images {

enum class ImageFormat { unknown, jpeg, png, webp };

const char* format_name(ImageFormat format);

struct ImageLimits {
  // A 48-megapixel phone photo is 8064 x 6048 (or 8160 x 6120); anything larger is refused.
  uint32_t max_side = 12000;
  uint64_t max_pixels = 50'000'000;
  // PNG is decoded whole at its own size (JPEG and WebP decode scaled down), so its bound is
  // lower: 16 MP is 48 MB of RGB. Phone PNGs are screenshots, a few megapixels.
  uint64_t max_png_pixels = 16'000'000;
};

enum class ProbeVerdict {
  ok,
  not_an_image,  // no JPEG/PNG/WebP signature, or a header that contradicts itself
  truncated,     // the signature is there but the bytes end before the dimensions
  too_large,     // declared dimensions over the limits
};

struct ImageProbe {
  ProbeVerdict verdict = ProbeVerdict::not_an_image;
  ImageFormat format = ImageFormat::unknown;
  uint32_t width = 0;
  uint32_t height = 0;
  // EXIF orientation of a JPEG (1..8, TIFF tag 0x0112); 1 when absent or unreadable.
  int orientation = 1;
};

ImageProbe probe_image(std::string_view bytes, const ImageLimits& limits = {});

// How many first bytes of an upload starts_like_a_picture() needs to judge it.
inline constexpr size_t kSignatureBytes = 12;

// Whether `first` (the first kSignatureBytes bytes of an upload, or all of a shorter one)
// begins as a JPEG, PNG or WebP file does. false means probe_image() would call the whole
// upload not_an_image whatever follows, so the server refuses it before reading the rest.
bool starts_like_a_picture(std::string_view first);

}  // namespace harvest::media::images

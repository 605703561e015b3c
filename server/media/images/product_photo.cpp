#include "media/images/product_photo.h"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>

namespace harvest::media::images {
namespace {

// 8-bit RGB, rows top-down without padding.
struct Rgb {
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<uint8_t> pixels;
  void resize(uint32_t w, uint32_t h) {
    width = w;
    height = h;
    pixels.assign(size_t{w} * h * 3, 0xFF);
  }
  uint8_t* at(uint32_t x, uint32_t y) { return pixels.data() + (size_t{y} * width + x) * 3; }
  const uint8_t* at(uint32_t x, uint32_t y) const { return pixels.data() + (size_t{y} * width + x) * 3; }
};

// The size that fits `max_long` on the long side, keeping the aspect ratio (never larger).
std::pair<uint32_t, uint32_t> fit(uint32_t w, uint32_t h, uint32_t max_long) {
  const uint32_t longest = std::max(w, h);
  if (longest <= max_long) return {w, h};
  const auto scale = [&](uint32_t v) {
    return std::max<uint32_t>(1, static_cast<uint32_t>((uint64_t{v} * max_long + longest / 2) / longest));
  };
  return {scale(w), scale(h)};
}

bool within(uint32_t w, uint32_t h, const ImageLimits& limits, uint64_t max_pixels) {
  return w > 0 && h > 0 && w <= limits.max_side && h <= limits.max_side && uint64_t{w} * h <= max_pixels;
}

// libjpeg reports errors through a callback that must not return: it jumps back to the
// setjmp in the function that called libjpeg. Only libjpeg's C frames lie between the two.
struct JpegErrors {
  jpeg_error_mgr mgr{};
  std::jmp_buf jump{};
  char message[JMSG_LENGTH_MAX] = {};
};

[[noreturn]] void jpeg_fail(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

void jpeg_quiet(j_common_ptr) {}  // warnings (e.g. data cut short) are not printed

// A progressive JPEG can hold thousands of tiny scans, each a pass over the whole image: a
// CPU bomb in a small file. Real encoders write about ten.
constexpr int kMaxJpegScans = 100;

void jpeg_count_scans(j_common_ptr cinfo) {
  if (!cinfo->is_decompressor) return;
  if (reinterpret_cast<j_decompress_ptr>(cinfo)->input_scan_number <= kMaxJpegScans) return;
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  std::snprintf(errors->message, sizeof errors->message, "the JPEG has more than %d scans", kMaxJpegScans);
  std::longjmp(errors->jump, 1);
}

void use_errors(jpeg_error_mgr& mgr) {
  jpeg_std_error(&mgr);
  mgr.error_exit = jpeg_fail;
  mgr.output_message = jpeg_quiet;
}

// Decodes at the smallest DCT scale (1/8, 1/4, 1/2) that still covers `max_long`: a 48 MP photo
// is decoded as 1/4 of it, a few megabytes, never the whole.
std::string decode_jpeg(std::string_view in, uint32_t max_long, const ImageLimits& limits, Rgb& out) {
  jpeg_decompress_struct cinfo{};
  JpegErrors errors;
  jpeg_progress_mgr progress{};
  progress.progress_monitor = jpeg_count_scans;
  cinfo.err = &errors.mgr;
  use_errors(errors.mgr);
  if (setjmp(errors.jump) != 0) {
    jpeg_destroy_decompress(&cinfo);
    return errors.message;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(in.data()), static_cast<unsigned long>(in.size()));
  jpeg_read_header(&cinfo, TRUE);
  if (!within(cinfo.image_width, cinfo.image_height, limits, limits.max_pixels)) {
    jpeg_destroy_decompress(&cinfo);
    return "too_large";
  }
  cinfo.out_color_space = JCS_RGB;
  const uint32_t longest = std::max(cinfo.image_width, cinfo.image_height);
  cinfo.scale_num = 1;
  cinfo.scale_denom = 1;
  while (cinfo.scale_denom < 8 && longest / (cinfo.scale_denom * 2) >= max_long) cinfo.scale_denom *= 2;
  jpeg_start_decompress(&cinfo);
  out.resize(cinfo.output_width, cinfo.output_height);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.at(0, cinfo.output_scanline);
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return {};
}

// Decoded whole at its own size (bounded by ImageLimits::max_png_pixels). Transparency is
// composed onto white in sRGB, as a browser shows the PNG on a white page (libpng's own
// composition is in linear light: half-transparent red would come out pink, not as shown).
std::string decode_png(std::string_view in, const ImageLimits& limits, Rgb& out) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&image, in.data(), in.size()) == 0) return image.message;
  if (!within(image.width, image.height, limits, limits.max_png_pixels)) {
    png_image_free(&image);
    return "too_large";
  }
  const bool alpha = (image.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  image.format = alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  std::vector<uint8_t> pixels(PNG_IMAGE_SIZE(image));
  if (png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr) == 0) return image.message;
  if (alpha) {  // RGBA -> RGB in place: each write lands at or before what is still to be read
    const size_t count = size_t{image.width} * image.height;
    for (size_t i = 0; i < count; ++i) {
      const uint8_t* src = &pixels[i * 4];
      const uint32_t a = src[3];
      uint8_t rgb[3];
      for (int c = 0; c < 3; ++c) rgb[c] = static_cast<uint8_t>((src[c] * a + 255 * (255 - a) + 127) / 255);
      std::copy_n(rgb, 3, &pixels[i * 3]);
    }
    pixels.resize(count * 3);
  }
  out.width = image.width;
  out.height = image.height;
  out.pixels = std::move(pixels);
  return {};
}

// libwebp scales while decoding, straight to the size kept.
std::string decode_webp(std::string_view in, uint32_t max_long, const ImageLimits& limits, Rgb& out) {
  WebPDecoderConfig config;
  if (WebPInitDecoderConfig(&config) == 0) return "libwebp version mismatch";
  const auto* data = reinterpret_cast<const uint8_t*>(in.data());
  if (WebPGetFeatures(data, in.size(), &config.input) != VP8_STATUS_OK) return "not a WebP picture";
  if (config.input.has_animation != 0) return "animated WebP is not supported: send one picture";
  const auto w = static_cast<uint32_t>(config.input.width);
  const auto h = static_cast<uint32_t>(config.input.height);
  if (!within(w, h, limits, limits.max_pixels)) return "too_large";
  const auto [tw, th] = fit(w, h, max_long);
  config.options.use_scaling = tw != w || th != h ? 1 : 0;
  config.options.scaled_width = static_cast<int>(tw);
  config.options.scaled_height = static_cast<int>(th);
  const bool alpha = config.input.has_alpha != 0;
  config.output.colorspace = alpha ? MODE_RGBA : MODE_RGB;
  if (WebPDecode(data, in.size(), &config) != VP8_STATUS_OK) return "the WebP data does not decode";
  const WebPRGBABuffer& rgba = config.output.u.RGBA;
  out.resize(tw, th);
  for (uint32_t y = 0; y < th; ++y) {
    const uint8_t* src = rgba.rgba + size_t{y} * static_cast<size_t>(rgba.stride);
    uint8_t* dst = out.at(0, y);
    for (uint32_t x = 0; x < tw; ++x, dst += 3) {
      if (alpha) {
        const uint32_t a = src[3];
        for (int c = 0; c < 3; ++c) dst[c] = static_cast<uint8_t>((src[c] * a + 255 * (255 - a) + 127) / 255);
        src += 4;
      } else {
        std::copy_n(src, 3, dst);
        src += 3;
      }
    }
  }
  WebPFreeDecBuffer(&config.output);
  return {};
}

// Area average into the size that fits: each output pixel is the mean of the source pixels
// that fall in it (a downscale; never called to enlarge).
Rgb shrink(const Rgb& src, uint32_t max_long) {
  const auto [dw, dh] = fit(src.width, src.height, max_long);
  if (dw == src.width && dh == src.height) return src;
  Rgb dst;
  dst.resize(dw, dh);
  std::vector<uint32_t> sums(size_t{dw} * 4);
  for (uint32_t dy = 0; dy < dh; ++dy) {
    std::fill(sums.begin(), sums.end(), 0);
    const uint32_t y0 = static_cast<uint32_t>(uint64_t{dy} * src.height / dh);
    const uint32_t y1 = std::max(y0 + 1, static_cast<uint32_t>(uint64_t{dy + 1} * src.height / dh));
    for (uint32_t y = y0; y < y1; ++y) {
      for (uint32_t dx = 0, x = 0; dx < dw; ++dx) {
        const uint32_t x1 = std::max(x + 1, static_cast<uint32_t>(uint64_t{dx + 1} * src.width / dw));
        uint32_t* s = &sums[size_t{dx} * 4];
        for (; x < x1; ++x) {
          const uint8_t* p = src.at(x, y);
          s[0] += p[0];
          s[1] += p[1];
          s[2] += p[2];
          s[3] += 1;
        }
      }
    }
    for (uint32_t dx = 0; dx < dw; ++dx) {
      const uint32_t* s = &sums[size_t{dx} * 4];
      uint8_t* d = dst.at(dx, dy);
      for (int c = 0; c < 3; ++c) d[c] = static_cast<uint8_t>((s[c] + s[3] / 2) / s[3]);
    }
  }
  return dst;
}

// EXIF orientation 2..8 applied to the pixels (TIFF 6.0 tag 0x0112: where row 0 / column 0 are).
Rgb orient(const Rgb& src, int orientation) {
  if (orientation < 2 || orientation > 8) return src;
  const uint32_t w = src.width;
  const uint32_t h = src.height;
  const bool turned = orientation >= 5;
  Rgb dst;
  dst.resize(turned ? h : w, turned ? w : h);
  for (uint32_t y = 0; y < dst.height; ++y) {
    for (uint32_t x = 0; x < dst.width; ++x) {
      uint32_t sx = x;
      uint32_t sy = y;
      switch (orientation) {
        case 2: sx = w - 1 - x; break;
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;
        case 4: sy = h - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = h - 1 - x; break;
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;
        case 8: sx = w - 1 - y; sy = x; break;
        default: break;
      }
      std::copy_n(src.at(sx, sy), 3, dst.at(x, y));
    }
  }
  return dst;
}

// A baseline JPEG with the JFIF header and nothing else: no APP1 (EXIF, XMP), no ICC, no COM.
struct JpegBuffer {
  unsigned char* data = nullptr;
  unsigned long size = 0;
};

std::string encode_jpeg(const Rgb& image, int quality, std::string& out) {
  jpeg_compress_struct cinfo{};
  JpegErrors errors;
  JpegBuffer buffer;
  cinfo.err = &errors.mgr;
  use_errors(errors.mgr);
  if (setjmp(errors.jump) != 0) {
    jpeg_destroy_compress(&cinfo);
    std::free(buffer.data);
    return errors.message;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &buffer.data, &buffer.size);
  cinfo.image_width = image.width;
  cinfo.image_height = image.height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  cinfo.optimize_coding = TRUE;
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(image.at(0, cinfo.next_scanline));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  out.assign(reinterpret_cast<const char*>(buffer.data), buffer.size);
  std::free(buffer.data);
  return {};
}

ProductPhoto refuse(ProductPhoto photo, PhotoProblem problem, std::string message) {
  photo.problem = problem;
  photo.message = std::move(message);
  return photo;
}

std::string size_text(uint32_t w, uint32_t h) { return std::to_string(w) + "x" + std::to_string(h); }

}  // namespace

ProductPhoto make_product_photo(std::string_view upload, const PhotoOptions& options) {
  ProductPhoto photo;
  photo.source = probe_image(upload, options.limits);
  const ImageProbe& probe = photo.source;
  switch (probe.verdict) {
    case ProbeVerdict::ok: break;
    case ProbeVerdict::not_an_image:
      return refuse(photo, PhotoProblem::not_an_image, "not a JPEG, PNG or WebP picture");
    case ProbeVerdict::truncated:
      return refuse(photo, PhotoProblem::not_an_image, std::string("the ") + format_name(probe.format) + " picture is cut short");
    case ProbeVerdict::too_large:
      return refuse(photo, PhotoProblem::too_large,
                    "the picture declares " + size_text(probe.width, probe.height) + " pixels; at most " +
                        std::to_string(options.limits.max_side) + " a side and " +
                        std::to_string((probe.format == ImageFormat::png ? options.limits.max_png_pixels
                                                                          : options.limits.max_pixels) / 1'000'000) +
                        " megapixels are accepted");
  }
  Rgb decoded;
  std::string error;
  switch (probe.format) {
    case ImageFormat::jpeg: error = decode_jpeg(upload, options.max_long_side, options.limits, decoded); break;
    case ImageFormat::png: error = decode_png(upload, options.limits, decoded); break;
    case ImageFormat::webp: error = decode_webp(upload, options.max_long_side, options.limits, decoded); break;
    case ImageFormat::unknown: error = "unknown format"; break;
  }
  if (error == "too_large") return refuse(photo, PhotoProblem::too_large, "the picture is larger than its header said");
  if (!error.empty())
    return refuse(photo, PhotoProblem::not_an_image,
                  std::string("the ") + format_name(probe.format) + " picture does not decode: " + error);
  Rgb kept = orient(shrink(decoded, options.max_long_side), probe.format == ImageFormat::jpeg ? probe.orientation : 1);
  if (auto err = encode_jpeg(kept, options.jpeg_quality, photo.jpeg); !err.empty())
    return refuse(photo, PhotoProblem::not_an_image, "cannot encode the photo: " + err);
  photo.width = kept.width;
  photo.height = kept.height;
  return photo;
}

}  // namespace harvest::media::images

#include "card_blender.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace harvest::livecommerce {
namespace {

// x / 255 rounded, exact for x <= 255 * 255.
inline std::uint32_t div255(std::uint32_t x) { return (x + 128 + ((x + 128) >> 8)) >> 8; }

// Premultiplied value of `channel` for one bitmap pixel, scaled by 255 (the
// caller divides once per plane sample after averaging). Y'CbCr is linear in
// R'G'B', so it is computed from the premultiplied bytes directly; the offsets
// (16, 128) are premultiplied by alpha.
double channel_value_x255(Channel channel, const std::uint8_t* bgra, const YuvMatrix& m) {
  const double b = bgra[0], g = bgra[1], r = bgra[2], a = bgra[3];
  const double kg = 1.0 - m.kr - m.kb;
  const double y = m.kr * r + kg * g + m.kb * b;  // 0..a
  const double y_scale = m.full_range ? 255.0 : 219.0;
  const double c_scale = m.full_range ? 255.0 : 224.0;
  const double y_offset = m.full_range ? 0.0 : 16.0;
  switch (channel) {
    case Channel::kY:
      return y_offset * a + y_scale * y;
    case Channel::kU:
      return 128.0 * a + c_scale * (b - y) / (2.0 * (1.0 - m.kb));
    case Channel::kV:
      return 128.0 * a + c_scale * (r - y) / (2.0 * (1.0 - m.kr));
    case Channel::kR:
      return 255.0 * r;
    case Channel::kG:
      return 255.0 * g;
    case Channel::kB:
      return 255.0 * b;
    case Channel::kA:
    case Channel::kPad:
      return 255.0 * a;
  }
  return 0.0;
}

template <int kBytes>
void blend_samples(std::uint8_t* dst, const std::uint8_t* color, const std::uint8_t* alpha, int count) {
  for (int i = 0; i < count; ++i) {
    const std::uint32_t inverse = 255u - alpha[i];
    for (int k = 0; k < kBytes; ++k) {
      const int j = i * kBytes + k;
      dst[j] = static_cast<std::uint8_t>(color[j] + div255(dst[j] * inverse));
    }
  }
}

template <int kBytes>
void blend_samples_faded(std::uint8_t* dst, const std::uint8_t* color, const std::uint8_t* alpha, int count,
                         std::uint32_t opacity) {
  for (int i = 0; i < count; ++i) {
    const std::uint32_t inverse = 255u - div255(alpha[i] * opacity);
    for (int k = 0; k < kBytes; ++k) {
      const int j = i * kBytes + k;
      dst[j] = static_cast<std::uint8_t>(div255(color[j] * opacity) + div255(dst[j] * inverse));
    }
  }
}

void blend_run(int bytes, std::uint8_t* dst, const std::uint8_t* color, const std::uint8_t* alpha, int count,
               std::uint8_t opacity) {
  if (opacity == 255) {
    switch (bytes) {
      case 1:
        return blend_samples<1>(dst, color, alpha, count);
      case 2:
        return blend_samples<2>(dst, color, alpha, count);
      case 3:
        return blend_samples<3>(dst, color, alpha, count);
      default:
        return blend_samples<4>(dst, color, alpha, count);
    }
  }
  switch (bytes) {
    case 1:
      return blend_samples_faded<1>(dst, color, alpha, count, opacity);
    case 2:
      return blend_samples_faded<2>(dst, color, alpha, count, opacity);
    case 3:
      return blend_samples_faded<3>(dst, color, alpha, count, opacity);
    default:
      return blend_samples_faded<4>(dst, color, alpha, count, opacity);
  }
}

}  // namespace

bool FrameFormat::operator==(const FrameFormat& o) const {
  if (planes.size() != o.planes.size() || matrix.kr != o.matrix.kr || matrix.kb != o.matrix.kb ||
      matrix.full_range != o.matrix.full_range) {
    return false;
  }
  for (std::size_t i = 0; i < planes.size(); ++i) {
    const auto& a = planes[i];
    const auto& b = o.planes[i];
    if (a.bytes_per_pixel != b.bytes_per_pixel || a.shift_x != b.shift_x || a.shift_y != b.shift_y ||
        a.channels != b.channels) {
      return false;
    }
  }
  return true;
}

PreparedCard::PreparedCard(const CardBitmap& bitmap, const FrameFormat& format) {
  for (const auto& plane_format : format.planes) {
    planes_.push_back(convert_plane(bitmap, plane_format, format.matrix));
  }
}

PreparedCard::Plane PreparedCard::convert_plane(const CardBitmap& bitmap, const PlaneFormat& format,
                                                const YuvMatrix& matrix) {
  Plane plane;
  plane.shift_x = format.shift_x;
  plane.shift_y = format.shift_y;
  plane.bytes_per_pixel = std::clamp(format.bytes_per_pixel, 1, 4);
  const int block_w = 1 << format.shift_x;
  const int block_h = 1 << format.shift_y;
  plane.width = (bitmap.width + block_w - 1) >> format.shift_x;
  plane.height = (bitmap.height + block_h - 1) >> format.shift_y;
  const auto bpp = static_cast<std::size_t>(plane.bytes_per_pixel);
  const auto samples = static_cast<std::size_t>(plane.width) * static_cast<std::size_t>(plane.height);
  plane.color.resize(samples * bpp);
  plane.alpha.resize(samples);

  for (int py = 0; py < plane.height; ++py) {
    for (int px = 0; px < plane.width; ++px) {
      // Average the bitmap pixels this plane sample covers (2x2 for 4:2:0 chroma).
      double alpha_sum = 0;
      std::array<double, 4> sums{};
      int count = 0;
      for (int by = py * block_h; by < std::min(bitmap.height, (py + 1) * block_h); ++by) {
        for (int bx = px * block_w; bx < std::min(bitmap.width, (px + 1) * block_w); ++bx) {
          const std::uint8_t* p = bitmap.pixel(bx, by);
          alpha_sum += p[3];
          for (std::size_t k = 0; k < bpp; ++k) sums[k] += channel_value_x255(format.channels[k], p, matrix);
          ++count;
        }
      }
      const auto index =
          static_cast<std::size_t>(py) * static_cast<std::size_t>(plane.width) + static_cast<std::size_t>(px);
      const long alpha = std::lround(alpha_sum / count);
      plane.alpha[index] = static_cast<std::uint8_t>(alpha);
      for (std::size_t k = 0; k < bpp; ++k) {
        // Premultiplied values never exceed alpha: that keeps the blend free of overflow.
        const long v = std::clamp(std::lround(sums[k] / (255.0 * count)), 0L, alpha);
        plane.color[index * bpp + k] = static_cast<std::uint8_t>(v);
      }
    }
  }
  find_spans(plane);
  return plane;
}

void PreparedCard::find_spans(Plane& plane) {
  plane.row_spans.push_back(0);
  for (int y = 0; y < plane.height; ++y) {
    const std::uint8_t* alpha =
        plane.alpha.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(plane.width);
    int x = 0;
    while (x < plane.width) {
      if (alpha[x] == 0) {
        ++x;
        continue;
      }
      const bool opaque = alpha[x] == 255;
      const int begin = x;
      while (x < plane.width && alpha[x] != 0 && (alpha[x] == 255) == opaque) ++x;
      plane.spans.push_back(Span{begin, x, opaque});
    }
    plane.row_spans.push_back(static_cast<std::uint32_t>(plane.spans.size()));
  }
}

void PreparedCard::blend(const FramePlanes& frame, int x, int y, std::uint8_t opacity) const {
  if (opacity == 0) return;
  for (std::size_t i = 0; i < planes_.size() && i < frame.data.size(); ++i) {
    if (!frame.data[i]) continue;
    blend_plane(planes_[i], frame.data[i], frame.stride[i], frame.width, frame.height, x, y, opacity);
  }
}

void PreparedCard::blend_plane(const Plane& plane, std::uint8_t* dst, int stride, int frame_w, int frame_h,
                               int x, int y, std::uint8_t opacity) const {
  const int bpp = plane.bytes_per_pixel;
  // Frame size and card origin in this plane's samples.
  const int plane_w = (frame_w + (1 << plane.shift_x) - 1) >> plane.shift_x;
  const int plane_h = (frame_h + (1 << plane.shift_y) - 1) >> plane.shift_y;
  const int ox = x >> plane.shift_x;  // arithmetic shift: floor for negative origins
  const int oy = y >> plane.shift_y;
  const int first_row = std::max(0, -oy);
  const int last_row = std::min(plane.height, plane_h - oy);
  const int min_x = std::max(0, -ox);
  const int max_x = std::min(plane.width, plane_w - ox);
  for (int row = first_row; row < last_row; ++row) {
    std::uint8_t* dst_row =
        dst + static_cast<std::ptrdiff_t>(oy + row) * stride + static_cast<std::ptrdiff_t>(ox) * bpp;
    const auto row_offset = static_cast<std::size_t>(row) * static_cast<std::size_t>(plane.width);
    const std::uint8_t* color_row = plane.color.data() + row_offset * static_cast<std::size_t>(bpp);
    const std::uint8_t* alpha_row = plane.alpha.data() + row_offset;
    for (auto s = plane.row_spans[static_cast<std::size_t>(row)];
         s < plane.row_spans[static_cast<std::size_t>(row) + 1]; ++s) {
      const Span& span = plane.spans[s];
      const int begin = std::max(span.begin, min_x);
      const int end = std::min(span.end, max_x);
      if (begin >= end) continue;
      std::uint8_t* d = dst_row + begin * bpp;
      const std::uint8_t* c = color_row + begin * bpp;
      if (span.opaque && opacity == 255) {
        std::memcpy(d, c, static_cast<std::size_t>((end - begin) * bpp));
      } else {
        blend_run(bpp, d, c, alpha_row + begin, end - begin, opacity);
      }
    }
  }
}

}  // namespace harvest::livecommerce

#pragma once
// Blending cached card bitmaps into raw video frames, only inside the card's
// rectangle. A card is converted once per frame format into a PreparedCard:
// premultiplied colour bytes laid out exactly like the frame's planes (so Y, U, V,
// interleaved NV12 chroma and every packed RGB order share one kernel), alpha per
// plane sample, and per-row spans that say which runs are transparent (skipped),
// opaque (plain memcpy) or partly covered (blended). An opaque card therefore costs
// about a copy of its area. No GStreamer types: the element maps GstVideoInfo onto
// FrameFormat.
#include <array>
#include <cstdint>
#include <vector>

#include "card_renderer.h"

namespace harvest::livecommerce {

enum class Channel : std::uint8_t { kPad, kY, kU, kV, kR, kG, kB, kA };

struct PlaneFormat {
  int bytes_per_pixel = 1;            // 1 (Y, U, V), 2 (NV12 UV pairs), 4 (packed RGB / AYUV)
  int shift_x = 0, shift_y = 0;       // log2 chroma subsampling
  std::array<Channel, 4> channels{};  // what each byte of one plane sample holds
};

// Y'CbCr coefficients and quantisation range of the frame (BT.709 limited by default).
struct YuvMatrix {
  double kr = 0.2126;
  double kb = 0.0722;
  bool full_range = false;
};

struct FrameFormat {
  std::vector<PlaneFormat> planes;
  YuvMatrix matrix;
  bool operator==(const FrameFormat& o) const;
};

// A mapped frame: one pointer and stride per plane, in FrameFormat's plane order.
struct FramePlanes {
  std::array<std::uint8_t*, 4> data{};
  std::array<int, 4> stride{};
  int width = 0, height = 0;
};

class PreparedCard {
 public:
  PreparedCard(const CardBitmap& bitmap, const FrameFormat& format);

  // Draws the card with its top-left corner at (x, y) (even for subsampled
  // formats), clipped to the frame, scaled by `opacity` (255: as rendered).
  void blend(const FramePlanes& frame, int x, int y, std::uint8_t opacity) const;

 private:
  struct Span {
    int begin, end;  // sample indices within the row, [begin, end)
    bool opaque;     // every sample has alpha 255: copy instead of blend
  };
  struct Plane {
    int width = 0, height = 0, bytes_per_pixel = 1, shift_x = 0, shift_y = 0;
    std::vector<std::uint8_t> color;  // premultiplied, width * bytes_per_pixel per row
    std::vector<std::uint8_t> alpha;  // width per row
    std::vector<Span> spans;
    std::vector<std::uint32_t> row_spans;  // spans of row r: [row_spans[r], row_spans[r + 1])
  };
  static Plane convert_plane(const CardBitmap& bitmap, const PlaneFormat& format, const YuvMatrix& matrix);
  static void find_spans(Plane& plane);
  void blend_plane(const Plane& plane, std::uint8_t* dst, int stride, int frame_w, int frame_h, int x, int y,
                   std::uint8_t opacity) const;

  std::vector<Plane> planes_;
};

}  // namespace harvest::livecommerce

#pragma once
// A product photo as the server keeps it: an uploaded JPEG, PNG or WebP, checked by its header
// (image_probe.h) and then by decoding it, scaled to fit the catalog, and written again as a
// plain baseline JPEG. The new file carries only pixels: no EXIF (so no GPS position, camera or
// time), no XMP, no ICC profile, no comments. A JPEG's EXIF orientation is applied to the pixels
// before it is dropped, so a phone's portrait photo stays upright.
// CPU-bound (tens to hundreds of milliseconds): run it off the loop thread.
#include <cstdint>
#include <string>
#include <string_view>

#include "media/images/image_probe.h"

namespace harvest::media::images {

struct PhotoOptions {
  ImageLimits limits;
  uint32_t max_long_side = 1280;  // the largest picture a card or a product page shows, 2x
  int jpeg_quality = 85;
};

enum class PhotoProblem {
  none,
  not_an_image,  // no known signature, or the decoder refused the data
  too_large,     // declared or decoded dimensions over PhotoOptions::limits
};

struct ProductPhoto {
  PhotoProblem problem = PhotoProblem::none;
  std::string message;  // why, for the client, when problem != none
  ImageProbe source;    // what the upload declared
  std::string jpeg;     // the re-encoded photo
  uint32_t width = 0;
  uint32_t height = 0;
};

ProductPhoto make_product_photo(std::string_view upload, const PhotoOptions& options = {});

}  // namespace harvest::media::images

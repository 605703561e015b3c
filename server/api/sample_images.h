#pragma once
// GET /samples/images/{path...}: the product pictures of the sample catalog (--demo), from
// <samples_dir>/images.
#include <string>

#include "api/common.h"

namespace harvest::api {

void register_sample_image_routes(Router& router, std::string samples_dir);

}  // namespace harvest::api

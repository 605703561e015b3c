#include "api/sample_images.h"

#include "realtime/static_files.h"

namespace harvest::api {

void register_sample_image_routes(Router& router, std::string samples_dir) {
  router.add("GET", "/samples/images/{path...}", [samples = std::move(samples_dir)](const HttpRequest& req) {
    const std::string file = realtime::safe_join(samples + "/images", req.params.at("path"));
    if (file.empty()) return HttpResponse::error(404, "not_found", "no such file");
    return HttpResponse::file(file, realtime::mime_type_for(file));
  });
}

}  // namespace harvest::api

#include "api/images.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "media/images/image_probe.h"
#include "media/images/product_photo.h"
#include "realtime/route_checks.h"

namespace harvest::api {
namespace {

using media::images::PhotoProblem;
using media::images::PhotoShelf;

// The media type without parameters, lower case ("image/JPEG; x=y" -> "image/jpeg").
std::string media_type(std::string value) {
  value = value.substr(0, value.find(';'));
  while (!value.empty() && value.back() == ' ') value.pop_back();
  for (char& c : value)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return value;
}

// The declared type only says "a picture"; the bytes are decoded by what they are (a phone may
// name a PNG screenshot .jpg), so a PNG sent as image/jpeg is still taken.
bool is_upload_type(const std::string& type) {
  return type == "image/jpeg" || type == "image/jpg" || type == "image/png" || type == "image/webp";
}

realtime::HeadCheck uploader_sending_a_picture(const AccessConfig& access) {
  return [who = realtime::image_uploader(access)](const HttpRequest& req) -> std::optional<HttpResponse> {
    if (auto refused = who(req)) return refused;
    const std::string type = media_type(req.header("content-type"));
    if (!is_upload_type(type))
      return HttpResponse::error(415, "unsupported_media_type",
                                 "send the photo itself as the body with Content-Type image/jpeg, image/png or image/webp" +
                                     (type.empty() ? std::string() : " (not " + type + ")"));
    return std::nullopt;
  };
}

// Bytes that begin as no picture does: 400 before the rest of the upload is read (the same
// answer the photo worker would give after reading it all).
std::optional<HttpResponse> not_a_picture_from_its_start(std::string_view first) {
  if (media::images::starts_like_a_picture(first)) return std::nullopt;
  return HttpResponse::error(400, "not_an_image", "not a JPEG, PNG or WebP picture");
}

// Worker thread: the photo, made and stored, as the answer.
HttpResponse store_photo(const std::string& upload, const PhotoShelf& shelf) {
  const auto started = std::chrono::steady_clock::now();
  const auto photo = media::images::make_product_photo(upload);
  if (photo.problem == PhotoProblem::too_large) return HttpResponse::error(413, "image_too_large", photo.message);
  if (photo.problem != PhotoProblem::none) return HttpResponse::error(400, "not_an_image", photo.message);
  std::string name;
  if (auto st = shelf.put(photo.jpeg, name); !st) {
    log::error("photo_not_stored").kv("reason", st.message());
    return HttpResponse::error(500, "internal", "the photo could not be stored");
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  log::info("photo_stored")
      .kv("name", name)
      .kv("format", media::images::format_name(photo.source.format))
      .kv("source", std::to_string(photo.source.width) + "x" + std::to_string(photo.source.height))
      .kv("size", std::to_string(photo.width) + "x" + std::to_string(photo.height))
      .kv("bytes_in", upload.size())
      .kv("bytes_out", photo.jpeg.size())
      .kv("ms", ms.count());
  nlohmann::json body = {{"url", std::string(media::images::kPhotoUrlPrefix) + name},
                         {"width", photo.width},
                         {"height", photo.height}};
  return HttpResponse::json(201, body.dump());
}

}  // namespace

void register_image_routes(Router& router, const AccessConfig& access, EventLoop& loop, WorkerThread& worker,
                           const PhotoShelf& shelf) {
  realtime::RouteLimits limits{.max_body_bytes = kMaxPhotoUploadBytes,
                                .check = uploader_sending_a_picture(access),
                                .body_start_bytes = media::images::kSignatureBytes,
                                .body_start = not_a_picture_from_its_start};
  router.add("POST", "/api/images", limits, [&loop, &worker, &shelf](const HttpRequest& req) {
    // The body is copied once (the request is the server's); the worker gets that copy.
    return HttpResponse::later([&loop, &worker, &shelf, upload = req.body](realtime::HttpReply reply) mutable {
      const bool queued = worker.try_post([&loop, &shelf, upload = std::move(upload), reply] {
        auto answer = std::make_shared<HttpResponse>(store_photo(upload, shelf));
        loop.post([reply, answer] { reply(std::move(*answer)); });
      });
      if (!queued) {
        auto busy = HttpResponse::error(503, "busy", "too many photos are being processed; try again shortly");
        busy.headers.emplace_back("Retry-After", "1");
        reply(std::move(busy));
      }
    });
  });

  // A name is the hash of its bytes: the file never changes, so clients and proxies keep it
  // for a year without asking again, and a revalidation (If-None-Match) is answered with 304.
  router.add("GET", "/images/{name}", [&shelf](const HttpRequest& req) {
    const std::string& name = req.params.at("name");
    const std::string file = shelf.path_for(name);
    if (file.empty()) return HttpResponse::error(404, "not_found", "no such photo");
    const std::string etag = "\"" + name.substr(0, name.find('.')) + "\"";
    HttpResponse r = req.header("if-none-match") == etag ? HttpResponse::text(304, "", "image/jpeg")
                                                          : HttpResponse::file(file, "image/jpeg");
    r.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
    r.headers.emplace_back("ETag", etag);
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return r;
  });
}

}  // namespace harvest::api

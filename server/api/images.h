#pragma once
// Product photos: POST /api/images (the picture as the body) and GET /images/{name}.
// Uploads are decoded and re-encoded on their own worker thread (media/images/product_photo.h),
// never on the loop thread, and stored on a PhotoShelf (data_dir/images).
#include <cstddef>

#include "api/common.h"
#include "core/event_loop.h"
#include "core/worker_thread.h"
#include "media/images/photo_shelf.h"

namespace harvest::api {

// The largest upload: a 12 MP phone JPEG is 3–5 MB. Below the server's 8 MiB of request bodies
// in flight (HttpServerOptions::max_buffered_body_bytes), so one upload never fills it alone.
inline constexpr size_t kMaxPhotoUploadBytes = 6 * 1024 * 1024;
// Uploads waiting for the photo worker beyond the one it decodes; more get 503 (each holds
// its body, so the queue bounds their memory).
inline constexpr size_t kMaxQueuedPhotos = 4;

void register_image_routes(Router& router, const AccessConfig& access, EventLoop& loop, WorkerThread& worker,
                           const media::images::PhotoShelf& shelf);

}  // namespace harvest::api

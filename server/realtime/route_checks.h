#pragma once
// Who may call a route, decided from the request head before any body is read (see
// RouteLimits::check): the routes that take a body declare one, so an anonymous client never
// makes the server buffer a body it would refuse anyway.
#include "core/stream_registry.h"
#include "realtime/access.h"
#include "realtime/router.h"

namespace harvest::realtime {

// The admin token: 403 when no admin token is configured, 401 for anyone else.
HeadCheck admin_only(const AccessConfig& access);

// A stream named by the route's {id}, called with its host token or the admin token:
// 404 for an unknown stream, 401 for anyone else.
HeadCheck stream_manager(const AccessConfig& access, StreamRegistry& streams);

// Who may upload a product photo (POST /api/images): anyone signed in, that is any role but an
// anonymous viewer (today the admin token or a valid host token of any stream); 401 otherwise.
HeadCheck image_uploader(const AccessConfig& access);

}  // namespace harvest::realtime

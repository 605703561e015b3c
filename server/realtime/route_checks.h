#pragma once
// Who may call a route, decided from the request head before any body is read (see
// RouteLimits::check): the routes that take a body declare one, so an anonymous client never
// makes the server buffer a body it would refuse anyway.
#include "core/stream_registry.h"
#include "realtime/access.h"
#include "realtime/router.h"

namespace harvest::realtime {

// Who calls: identify_request on the request's Bearer token and Cookie header.
Identity caller_of(const AccessConfig& access, const HttpRequest& req);

// The admin token: 403 when no admin token is configured, 401 for anyone else.
HeadCheck admin_only(const AccessConfig& access);

// A stream named by the route's {id}, called with its host token, the admin token, or by the
// signed-in farmer who owns it: 404 for an unknown stream, 403 for another farmer, 401 for
// anyone else.
HeadCheck stream_manager(const AccessConfig& access, StreamRegistry& streams);

// The show's own farmer or the admin (not a host token: a helper may run the cards and
// orders, but not change the key, re-issue host tokens or end the show): 404, 403, 401.
HeadCheck stream_owner(const AccessConfig& access, StreamRegistry& streams);

// A signed-in farmer or the admin token (the routes that act on "my" shows and catalog):
// 401 for anyone else.
HeadCheck farmer_or_admin(const AccessConfig& access);

// Who may upload a product photo (POST /api/images): anyone signed in, that is any role but an
// anonymous viewer (a signed-in farmer, a valid host token of any stream, the admin token); 401
// otherwise.
HeadCheck image_uploader(const AccessConfig& access);

}  // namespace harvest::realtime

#pragma once
// HTTP routes of the RTMP restream (docs/media-link.md "Restream"), host token of the stream or
// admin token:
//   PUT    /api/streams/{id}/restream  {"url":"rtmp://host[:port]/app/key"}  -> 200 status
//   DELETE /api/streams/{id}/restream                                        -> 200 {"restream":null}
//   GET    /api/streams/{id}/restream                                        -> 200 {"restream":status|null}
// The target is stored, so it survives a restart and applies to every later publisher session.
#include <functional>

#include "api/common.h"
#include "show/card_link.h"
#include "store/store.h"

namespace harvest::api {

// `card_link` gives the media link once ingest runs (nullptr before: 503).
void register_restream_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                              store::Store& store, std::function<show::CardLink*()> card_link);

}  // namespace harvest::api

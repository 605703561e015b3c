#include "api/trace.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "commerce/origin_json.h"
#include "commerce/origin_validation.h"
#include "core/log.h"

namespace harvest::api {
namespace {

using nlohmann::json;
using Hits = std::optional<std::vector<store::TracedProduct>>;  // nullopt: the read failed

// The answer, made on the loop thread: the stream's title, farmer and whether it is live come
// from the registry (runtime state the reader thread must not touch).
HttpResponse trace_answer(const std::string& code, const std::vector<store::TracedProduct>& hits,
                          StreamRegistry& streams) {
  if (hits.empty()) return HttpResponse::error(404, "not_found", "no product carries this trace code");
  const store::TracedProduct& hit = hits.front();
  const commerce::Product& p = hit.product;
  // A product only in a farmer's catalog (in no show yet) has no show to link to.
  json stream = hit.stream_id.empty() ? json(nullptr)
                                      : json{{"id", hit.stream_id}, {"title", ""}, {"farmer", ""}, {"state", "offline"}};
  if (const StreamState* s = hit.stream_id.empty() ? nullptr : streams.find(hit.stream_id)) {
    stream["title"] = s->record.title;
    stream["farmer"] = s->record.farmer;
    stream["state"] = s->live ? "live" : "offline";
  }
  const json body = {{"trace_code", code},
                     {"product",
                      {{"id", p.id},
                       {"title", p.title},
                       {"price", p.price},
                       {"currency", p.currency},
                       {"image", p.image},
                       {"origin", commerce::origin_json(p.origin)}}},
                     {"stream", stream}};
  HttpResponse r = HttpResponse::json(200, body.dump(-1, ' ', false, json::error_handler_t::replace));
  // A buyer's phone may keep it briefly; a farmer fixing a record sees it within a minute.
  r.headers.emplace_back("cache-control", "public, max-age=60");
  return r;
}

}  // namespace

Status find_traced_products(store::Store& store, const std::string& trace_code,
                            std::vector<store::TracedProduct>& out) {
  return store.find_traced_products(trace_code, out);
}

void register_trace_routes(Router& router, StreamRegistry& streams, Reader& reader) {
  router.add("GET", "/api/trace/{code}", [&streams, &reader](const HttpRequest& req) {
    const std::string& code = req.params.at("code");
    if (!commerce::is_trace_code(code))
      return HttpResponse::error(400, "invalid",
                                 "a trace code is " + std::to_string(commerce::kMinTraceCodeChars) + "-" +
                                     std::to_string(commerce::kMaxTraceCodeChars) +
                                     " characters [A-Za-z0-9_-]");
    return HttpResponse::later([&streams, &reader, code](realtime::HttpReply reply) {
      reader.read<Hits>(
          [code](store::Store& store) -> Hits {
            std::vector<store::TracedProduct> hits;
            if (auto st = find_traced_products(store, code, hits); !st) {
              log::error("trace_not_read").kv("reason", st.message());
              return std::nullopt;
            }
            return hits;
          },
          [reply, code, &streams](Hits hits) {
            if (!hits) return reply(HttpResponse::error(500, "internal", "could not read the trace records"));
            reply(trace_answer(code, *hits, streams));
          },
          [reply](const std::string& what) {
            log::error("http_read_failed").kv("what", what);
            reply(HttpResponse::error(500, "internal", "internal error"));
          });
    });
  });
}

}  // namespace harvest::api

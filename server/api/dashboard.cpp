#include "api/dashboard.h"

#include "api/streams.h"
#include "commerce/dashboard.h"
#include "core/log.h"
#include "realtime/route_checks.h"

namespace harvest::api {

void register_dashboard_routes(Router& router, StreamRegistry& streams, const AccessConfig& access, Reader& reader,
                               realtime::SellingDesk& selling, realtime::HostMonitor& monitor) {
  router.add("GET", "/api/me/dashboard", {.check = realtime::farmer_or_admin(access)},
             [&streams, &access, &reader, &selling, &monitor](const HttpRequest& req) {
    const Identity who = realtime::caller_of(access, req);
    const int64_t now = now_ms();
    std::vector<commerce::DashboardShow> shows;
    for (const StreamState* s : streams.all()) {
      if (!who.may_manage(s->record)) continue;
      commerce::DashboardShow d;
      d.id = s->record.id;
      d.title = s->record.title;
      d.farmer = s->record.farmer;
      d.phase = show_phase(*s, now);
      d.created_at_ms = s->record.created_at_ms;
      d.scheduled_at_ms = s->record.scheduled_at_ms;
      d.live_since_ms = s->live ? s->live_since_ms : 0;
      d.ended_at_ms = s->record.ended_at_ms;
      d.peak_viewers = s->peak_viewers;
      const auto unique = monitor.unique_viewers(d.id);
      d.unique_viewers = unique.count;
      d.unique_viewers_capped = unique.capped;
      d.catalog = selling.products(d.id);
      shows.push_back(std::move(d));
    }
    return answer_from_reader(reader, [shows = std::move(shows)](store::Store& store) mutable {
      for (auto& d : shows) {
        if (auto st = store.list_orders(d.id, d.orders); !st) {
          log::error("orders_not_read").kv("stream", d.id).kv("reason", st.message());
          return HttpResponse::error(500, "internal", "could not read the orders: " + st.message());
        }
      }
      HttpResponse ok = HttpResponse::json(200, commerce::build_dashboard(shows).dump());
      ok.headers.emplace_back("Cache-Control", "no-store");
      return ok;
    });
  });
}

}  // namespace harvest::api

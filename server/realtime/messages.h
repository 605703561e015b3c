#pragma once
// Server -> client message shapes shared by the room parts and the REST API (the other half
// of protocol.h, which parses what clients send). Pure functions of domain values.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "commerce/types.h"
#include "core/stream_registry.h"
#include "show/card.h"
#include "show/show.h"

namespace harvest::realtime {

// One order as hosts see it: a row of GET /api/streams/{id}/orders, and (with `type` and the
// masked `buyer`) the `order` event pushed to hosts.
// Contact details are in it: send it only to the order's buyer and the stream's hosts.
nlohmann::json order_json(const commerce::Order& order);
// order_json plus the product's `title` and `image` (from the catalog, if it is still there):
// what a buyer's "my orders" and `order.updated` show.
nlohmann::json order_view_json(const commerce::Order& order, const commerce::Product* product);
// A catalog entry (welcome.products, GET /api/streams/{id}/products, product.updated); with
// `origin` (commerce/origin_json.h) when the product has one.
nlohmann::json product_json(const commerce::Product& product);
nlohmann::json products_json(const std::vector<commerce::Product>& products);
// sale.started / sale.ended; `type` "" for the entries of welcome.sales.
nlohmann::json sale_json(const std::string& type, const commerce::FlashSale& sale, int64_t server_time_ms);
// The `card` object of card.shown / card.hidden ({} when the product is gone).
nlohmann::json card_json(const std::optional<show::Card>& card);
// card.shown / card.hidden; `amended` when it repeats a change with the media's pts and
// program date time.
nlohmann::json card_change_json(const show::CardEvent& event, std::optional<double> pts,
                                std::optional<std::string> program_date_time, bool amended);
// An entry of welcome.cards.
nlohmann::json visible_card_json(const show::VisibleCard& card, const std::optional<show::Card>& contents);
// The stream.health event (what hosts receive).
nlohmann::json health_json(const StreamState& s);
// The `re` of a reply: the client's id as it sent it; null when it sent none.
nlohmann::json re_value(const std::string& id_json);

}  // namespace harvest::realtime

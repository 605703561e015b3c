#pragma once
// The columns of an order row, in the order both stores' read_order_rows() read them (by
// index): one list, so that SQLite and PostgreSQL cannot drift apart. Followed by a WHERE.
namespace harvest::store {

inline constexpr const char* kSelectOrders =
    "SELECT id, viewer_id, idempotency_key, product_id, qty, unit_price, total, currency, media_time,"
    " card_product_id, media_card_product_id, sale_id, server_time_ms, replay_session,"
    " media_exposure_id, status, pay_by_ms, payment, contact_name, contact_phone, contact_address,"
    " carrier, tracking, reason, payment_id, flag, updated_at_ms, paid_at_ms, shipped_at_ms,"
    " delivered_at_ms, stream_id FROM orders ";

}  // namespace harvest::store

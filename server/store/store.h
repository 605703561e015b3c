#pragma once
// The store: everything that must survive a restart. One interface, one file per backend
// (sqlite_store.cpp: the embedded default; a PostgreSQL backend for scale-out).
//
// Contract for every method: callable from the control-plane thread; returns a Status (or an
// empty optional) instead of throwing. Durable on return unless a method says otherwise.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commerce/exposure_timeline.h"
#include "commerce/types.h"
#include "core/config.h"
#include "core/status.h"

namespace harvest::store {

struct StreamRecord {
  std::string id;          // public, URL-safe (appears in /watch/{id})
  std::string stream_key;  // secret: only the farmer's encoder and the host know it
  std::string title;
  std::string farmer;
  int64_t created_at_ms = 0;
};

class Store {
public:
  virtual ~Store() = default;

  // --- streams ---
  // Fails if the id or key already exists.
  virtual Status create_stream(const StreamRecord& stream) = 0;
  virtual std::optional<StreamRecord> find_stream(const std::string& id) = 0;
  virtual std::optional<StreamRecord> find_stream_by_key(const std::string& stream_key) = 0;
  // Oldest first.
  virtual std::vector<StreamRecord> list_streams() = 0;

  // --- commerce ---
  // Products are stored with `stock` = the stock ceiling (units left + units sold), so units
  // left after a restart = ceiling - units in durable orders. `sold` is not stored.
  // Replaces the stream's whole catalog (in the given order) in one transaction.
  virtual Status save_products(const std::string& stream_id, const std::vector<commerce::Product>& products) = 0;
  virtual std::vector<commerce::Product> list_products(const std::string& stream_id) = 0;
  // Inserts or replaces a sale (its `sold` is not stored: it is counted from orders).
  virtual Status save_sale(const std::string& stream_id, const commerce::FlashSale& sale) = 0;
  virtual std::vector<commerce::FlashSale> list_sales(const std::string& stream_id) = 0;
  // Durable orders of a stream, oldest first. An order row is also the idempotency record of
  // its (viewer_id, idempotency_key).
  virtual std::vector<commerce::Order> list_orders(const std::string& stream_id) = 0;
  // The largest order id ever stored (0 if none): new ids continue from it.
  virtual int64_t max_order_id() = 0;
  // Group commit: writes every order in one transaction; durable (fsync'd) on return, or none
  // of them is written. Called from the order writer thread; safe alongside the other methods.
  virtual Status commit_orders(const std::vector<commerce::Order>& orders) = 0;
  // Idempotency records of final rejections (a key already recorded is left as it is). Called
  // from the order writer thread, like commit_orders.
  virtual Status commit_rejections(const std::vector<commerce::RejectedBuy>& rejections) = 0;
  virtual std::vector<commerce::RejectedBuy> list_rejections(const std::string& stream_id) = 0;

  // --- card exposures (attribution) ---
  // Inserts or replaces the exposure with this (stream_id, id): written when it opens and
  // again when it closes.
  virtual Status save_exposure(const commerce::CardExposure& exposure) = 0;
  // Every stored exposure of every stream, by id.
  virtual std::vector<commerce::CardExposure> list_exposures() = 0;
};

// Opens the backend named by config.store ("sqlite" under config.data_dir, or a postgres:// URL).
// On failure returns nullptr and sets `error` to a sentence for the operator.
std::unique_ptr<Store> open_store(const ServerConfig& config, std::string& error);

}  // namespace harvest::store

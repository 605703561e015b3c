#pragma once
// The store: everything that must survive a restart. One interface, one file per backend
// (sqlite_store.cpp: the embedded default; a PostgreSQL backend for scale-out), and the
// factory that picks one in open_store.cpp.
//
// Contract for every method: callable from the control-plane thread; returns a Status (or an
// empty optional) instead of throwing. Durable on return unless a method says otherwise. A
// read that fails says so (a Status), it never answers with an empty list.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "accounts/account.h"
#include "commerce/ledger.h"
#include "commerce/types.h"
#include "core/status.h"
#include "core/stream_registry.h"
#include "show/exposure_timeline.h"

namespace harvest::store {

using StreamRecord = harvest::StreamRecord;

// A catalog product that carries a trace code, and the stream whose catalog holds it.
struct TracedProduct {
  std::string stream_id;  // "" for a product only in a farmer's catalog
  std::string owner;      // the farmer account of the show or catalog ("" an operator's show)
  commerce::Product product;  // `stock` is the stored stock ceiling, not what is left now
};

// Streams (StreamRecords) and the engine's records (commerce::ShopLedger) are declared by
// their users; the rest here.
class Store : public StreamRecords, public commerce::ShopLedger, public accounts::AccountRecords {
public:
  ~Store() override = default;

  // --- a farmer's own catalog (issue 18): products reused across their shows ---
  // Replaces the owner's catalog (order kept; `stock` and `sold` are not kept: stock belongs
  // to a show).
  virtual Status save_farmer_catalog(const std::string& owner, const std::vector<commerce::Product>& products) = 0;
  virtual Status list_farmer_catalog(const std::string& owner, std::vector<commerce::Product>& out) = 0;

  // Group commit: writes every order in one transaction; durable (fsync'd) on return, or none
  // of them is written. Called from the order writer thread; safe alongside the other methods.
  // `results` gets one entry per order, in order, or stays empty when every order was stored
  // as given (SQLite). A shared database decides stock itself: it may refuse an order
  // (Verdict::sold_out / duplicate) and commit the others of the group.
  virtual Status commit_orders(const std::vector<commerce::Order>& orders, std::vector<commerce::Committed>& results) = 0;
  Status commit_orders(const std::vector<commerce::Order>& orders) {
    std::vector<commerce::Committed> results;
    return commit_orders(orders, results);
  }
  // Group commit of later states of stored orders and of the payment notifications that
  // caused them, in one transaction; same thread and durability as commit_orders. `results`
  // as for commit_orders: a shared database answers Verdict::stale for an expiry another
  // node made first (the stock went back once, there).
  virtual Status commit_order_changes(const std::vector<commerce::Order>& changed,
                                      const std::vector<commerce::PaymentRecord>& payments,
                                      std::vector<commerce::Committed>& results) = 0;
  Status commit_order_changes(const std::vector<commerce::Order>& changed,
                              const std::vector<commerce::PaymentRecord>& payments) {
    std::vector<commerce::Committed> results;
    return commit_order_changes(changed, payments, results);
  }
  // Idempotency records of final rejections (a key already recorded is left as it is). Called
  // from the order writer thread, like commit_orders.
  virtual Status commit_rejections(const std::vector<commerce::RejectedBuy>& rejections) = 0;

  // --- card exposures (attribution) ---
  // Inserts or replaces the exposure with this (stream_id, id): written when it opens and
  // again when it closes.
  virtual Status save_exposure(const show::CardExposure& exposure) = 0;
  // Every stored exposure of every stream, by id.
  virtual Status list_exposures(std::vector<show::CardExposure>& out) = 0;

  // --- traceability (issue 18, docs/protocol.md "Trace") ---
  // Every stored catalog product whose origin has this trace code: in shows, the newest show
  // first; then in farmers' catalogs (stream_id "").
  virtual Status find_traced_products(const std::string& trace_code, std::vector<TracedProduct>& out) = 0;
  // Claims each trace code for `owner` (a farmer account; "" the operator's shows, one account
  // for this): a code nobody holds becomes the owner's, one the owner holds stays theirs. When
  // any code is another owner's, `taken` is set to the first such code (in sorted order) and
  // nothing of this call is claimed; otherwise `taken` is "". One transaction, decided by the
  // table's primary key, so two nodes (or two requests) claiming one code at once cannot both
  // win. A claim is never released: the printed QR stays the farm's word. Empty codes are
  // ignored.
  virtual Status claim_trace_codes(const std::string& owner, const std::vector<std::string>& codes,
                                   std::string& taken) = 0;

  // --- restream targets (docs/media-link.md "Restream") ---
  // The RTMP URL the stream's burned-in rendition is pushed to (it applies to every later
  // publisher session); an empty `url` removes it.
  virtual Status save_restream(const std::string& stream_id, const std::string& url) = 0;
  // Every stored target: (stream id, URL).
  virtual Status list_restreams(std::vector<std::pair<std::string, std::string>>& out) = 0;
};

struct StoreOptions {
  // "sqlite" (a file under data_dir), or a postgres:// (postgresql://) connection URL.
  std::string backend = "sqlite";
  std::string data_dir = "./data";
  // A second handle on the same data for reads on another thread (store::ReadWorker): its
  // reads never wait for the loop's connection. The data must exist (the schema is not made).
  bool read_only = false;
};

// Opens the backend named by options.backend. On failure returns nullptr and sets `error` to
// a sentence for the operator.
std::unique_ptr<Store> open_store(const StoreOptions& options, std::string& error);

}  // namespace harvest::store

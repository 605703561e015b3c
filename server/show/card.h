#pragma once
// The card seam between the show (which cards the host put on screen) and the media side (which
// frame really showed them). Plain values: no websockets, no JSON. Loop thread only.
#include <cstdint>
#include <optional>
#include <string>

namespace harvest::show {

// What a product's card says: the catalog fields, and the running flash sale if there is one.
struct Card {
  std::string title;
  int64_t price = 0;  // fen
  std::string currency;
  std::string image;  // URL
  int64_t stock = 0;  // units left
  int64_t sold = 0;
  // The short origin of issue 18's traceability: where (the county, else the township or
  // village, as typed) and when it was picked ("YYYY-MM-DD"), and the code of its public
  // /trace/{code} page. Empty: not said.
  std::string origin_place;
  std::string harvest_date;
  std::string trace_code;
  struct Sale {
    std::string id;
    int64_t price = 0;
    int64_t ends_at_ms = 0;  // server time
    int64_t left = 0;        // units left in the sale
  };
  std::optional<Sale> sale;
};

// A card shown or hidden. `change_id` identifies it in card.shown/card.hidden and in
// CardStage::card_presented().
struct CardEvent {
  std::string stream_id;
  uint64_t change_id = 0;
  bool shown = true;
  std::string product_id;
  std::string slot;
  std::optional<Card> card;  // the card at the change; nullopt when the product is gone
  int64_t server_time_ms = 0;
};

// What a product's card shows changed: product.update (price, title, stock), a flash sale
// started or ended, stock after orders.
struct CardUpdate {
  std::string stream_id;
  std::string product_id;
  Card card;
  int64_t server_time_ms = 0;
};

class CardListener {
public:
  virtual ~CardListener() = default;
  // On every card shown or hidden (after the show changed and the event went out with
  // pts/program_date_time null).
  virtual void on_card_change(const CardEvent& event) = 0;
  // After the change went out; for every product, visible or not (the listener decides what
  // is on screen). Stock changes from orders come coalesced (RoomOptions::stock_interval).
  virtual void on_card_update(const CardUpdate& /*update*/) {}
};

// Where card changes come from and where their presentation on the video is reported back
// (the rooms implement it; the media link uses it).
class CardStage {
public:
  virtual ~CardStage() = default;
  virtual void add_card_listener(CardListener* listener) = 0;
  // The media side saw the first frame showing (or no longer showing) change `change_id`.
  // Returns false if the change is unknown (too old or another stream).
  virtual bool card_presented(const std::string& stream_id, uint64_t change_id, std::optional<double> pts,
                              std::optional<std::string> program_date_time) = 0;
};

}  // namespace harvest::show

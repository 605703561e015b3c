#pragma once
// The store's list_* methods fill a vector and return a Status; tests want the rows, and a
// failed read to fail the test.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "store/store.h"

namespace harvest::test {

inline std::vector<commerce::Order> orders_of(store::Store& s, const std::string& stream_id) {
  std::vector<commerce::Order> out;
  REQUIRE(s.list_orders(stream_id, out));
  return out;
}
inline std::vector<commerce::Product> products_of(store::Store& s, const std::string& stream_id) {
  std::vector<commerce::Product> out;
  REQUIRE(s.list_products(stream_id, out));
  return out;
}
inline std::vector<commerce::FlashSale> sales_of(store::Store& s, const std::string& stream_id) {
  std::vector<commerce::FlashSale> out;
  REQUIRE(s.list_sales(stream_id, out));
  return out;
}
inline std::vector<commerce::RejectedBuy> rejections_of(store::Store& s, const std::string& stream_id) {
  std::vector<commerce::RejectedBuy> out;
  REQUIRE(s.list_rejections(stream_id, out));
  return out;
}
inline std::vector<show::CardExposure> exposures_of(store::Store& s) {
  std::vector<show::CardExposure> out;
  REQUIRE(s.list_exposures(out));
  return out;
}

}  // namespace harvest::test

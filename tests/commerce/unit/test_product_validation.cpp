// Catalog input: what a host may put on a product card. Titles follow the stream-title rule (no
// control characters, no bidi overrides); pictures come from this site or http(s), never from a
// scheme that runs or embeds something.
#include <catch2/catch.hpp>

#include "commerce/product_validation.h"

using namespace harvest::commerce;

namespace {
Product pear() {
  Product p;
  p.id = "pear-yulu";
  p.title = "隰县玉露香梨 5斤装";
  p.price = 3990;
  p.stock = 120;
  p.image = "/samples/images/pear-yulu.png";
  return p;
}
}  // namespace

TEST_CASE("a sample product is valid", "[catalog]") {
  CHECK(validate_product(pear()).empty());
  Product no_picture = pear();
  no_picture.image.clear();
  CHECK(validate_product(no_picture).empty());
}

TEST_CASE("product titles refuse control characters and bidi overrides", "[catalog]") {
  CHECK(is_product_title("Suqian hairy crab, 8 pcs"));
  CHECK(is_product_title(std::string(200, 'x')));
  CHECK(is_product_title("עגבניות \xe2\x80\x8f"));  // an RTL title with a mark
  CHECK_FALSE(is_product_title(""));
  CHECK_FALSE(is_product_title(std::string(201, 'x')));
  CHECK_FALSE(is_product_title("pear\x1b[2J"));
  CHECK_FALSE(is_product_title("pear\nSOLD OUT"));
  CHECK_FALSE(is_product_title("pear\xc2\x85"));                  // NEL (C1)
  CHECK_FALSE(is_product_title("\xe2\x80\xae" "gnp.raep"));       // RLO: reads "pear.png"
  CHECK_FALSE(is_product_title("price \xe2\x81\xa6" "99\xe2\x81\xa9"));  // LRI ... PDI

  Product p = pear();
  p.title = "\xe2\x80\xae" "001 \xc2\xa5";
  const std::string err = validate_product(p);
  CHECK(err.find("'title' of 'pear-yulu'") != std::string::npos);
  CHECK(err.find("bidi") != std::string::npos);
}

TEST_CASE("product images are site paths or http(s) URLs", "[catalog]") {
  for (const char* ok : {"/samples/images/pear-yulu.png", "/images/0123456789abcdef0123456789abcdef.jpg", "/static/img/crab.webp", "/img/a.png?v=2&w=3", "img/pear.png", "x",
                         "https://cdn.example.com/p/1.jpg", "HTTP://example.com/x.png", "https://example.com"}) {
    INFO(ok);
    CHECK(is_product_image_url(ok));
  }
  for (const char* bad : {"javascript:alert(1)", "JavaScript:alert(document.cookie)", "data:image/png;base64,iVBOR",
                          "file:///etc/passwd", "//evil.example/x.png", "http://", "https:///x",
                          "/samples/../../etc/passwd", "/a/..", "/img/a b.png", "/img/\"onerror=\"x.png",
                          "/img/a.png') ; background:url('x", "/img/\\x.png", "ftp://example.com/x.png", "jav&#x61;script:x", "javascript&colon;location=name",
                          "a:b/c",
                          " javascript:alert(1)", "\x01javascript:alert(1)"}) {
    INFO(bad);
    CHECK_FALSE(is_product_image_url(bad));
  }
  CHECK_FALSE(is_product_image_url("/" + std::string(kMaxImageUrlBytes, 'a')));

  Product p = pear();
  p.image = "javascript:alert(1)";
  const std::string err = validate_product(p);
  CHECK(err.find("'image' of 'pear-yulu'") != std::string::npos);
  CHECK(err.find("javascript:") != std::string::npos);
}

TEST_CASE("product prices, stock and currency stay in range", "[catalog]") {
  Product p = pear();
  p.price = -1;
  CHECK(validate_product(p).find("'price'") == 0);
  p = pear();
  p.price = kMaxPriceFen + 1;
  CHECK(validate_product(p).find("'price'") == 0);
  p = pear();
  p.stock = kMaxStock + 1;
  CHECK(validate_product(p).find("'stock'") == 0);
  p = pear();
  p.currency = "cny";
  CHECK(validate_product(p).find("'currency'") == 0);
}

TEST_CASE("a catalog without a product's stock keeps the stock it has live", "[catalog]") {
  Product live_pear = pear();
  live_pear.stock = 7;  // 120 put on sale, 113 sold since
  Product crab = pear();
  crab.id = "crab";
  crab.stock = 40;
  const std::vector<Product> live = {live_pear, crab};

  Product stale_pear = pear();  // the console's copy: still says 120
  stale_pear.stock = 0;         // what parse_catalog gives a product sent without "stock"
  Product new_chili = pear();
  new_chili.id = "chili";
  new_chili.stock = 0;
  Product crab_edited = crab;
  crab_edited.stock = 55;  // sent with a stock: the host means it
  std::vector<Product> incoming = {stale_pear, new_chili, crab_edited};
  keep_live_stock(incoming, {"pear-yulu", "chili"}, live);
  CHECK(incoming[0].stock == 7);
  CHECK(incoming[1].stock == 0);  // new, and no stock given: nothing to sell yet
  CHECK(incoming[2].stock == 55);
}

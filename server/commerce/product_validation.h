#pragma once
// What a product in a host's catalog may hold (PUT /api/streams/{id}/products, the sample
// catalog). Pure: the caller has already taken the fields out of its JSON.
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "commerce/types.h"

namespace harvest::commerce {

inline constexpr size_t kMaxTitleChars = 200;
inline constexpr size_t kMaxImageUrlBytes = 512;

// A title viewers see on the card: 1-200 characters of text::is_display_text() (no control
// characters, no bidi overrides), the same rule as a stream's title.
bool is_product_title(std::string_view title);

// Where a card's picture may come from: nothing (""), a path on this site ("/samples/images/
// pear.png", "/static/...", or relative to the page; not "//host", which is another site), or
// an http(s) URL with a host.
// Never another scheme (javascript:, data:, file:): the web client puts it in an <img> and the
// burned-in renderer opens site paths as files. At most 512 bytes of URL characters (RFC 3986;
// no quotes, parentheses, spaces, backslashes or controls, which could leave an HTML attribute
// or a CSS url()), and no ".." segment.
bool is_product_image_url(std::string_view url);

// Checks the fields of `p` but its id (whose format the catalog parser checks as it keys the
// catalog by it); empty when it may be sold, else a sentence naming the field and the product,
// for a 400 answer.
std::string validate_product(const Product& p);

// A catalog sent without a product's `stock` keeps the stock that product has live: the host
// console adds one product without knowing how many units of the others sold (or came back
// from expired reservations) since it last looked, and a stale count must not overwrite them.
// Each product of `incoming` whose id is in `stock_omitted` takes its stock from `live` (0
// when it is new).
void keep_live_stock(std::vector<Product>& incoming, const std::set<std::string>& stock_omitted,
                     const std::vector<Product>& live);

}  // namespace harvest::commerce

#include "commerce/product_validation.h"

#include <algorithm>

#include "core/text.h"

namespace harvest::commerce {
namespace {

bool is_url_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~:/?#[]@!$&*+,;=%").find(c) != std::string_view::npos;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

bool is_product_title(std::string_view title) {
  if (title.empty() || !text::is_display_text(title)) return false;
  return text::code_points(title) <= kMaxTitleChars;
}

bool is_product_image_url(std::string_view url) {
  if (url.empty()) return true;  // no picture
  if (url.size() > kMaxImageUrlBytes) return false;
  for (char c : url)
    if (!is_url_char(c)) return false;
  std::string_view path;
  const size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon > url.find_first_of("/?#")) {
    // No scheme: a path on this site, from its root or relative to the page.
    if (url.rfind("//", 0) == 0) return false;  // "//host/...": another site
    // Nor an HTML character reference in the first segment: put into markup unescaped,
    // "javascript&colon;..." or "jav&#x61;script:..." would spell a scheme after all.
    if (url.substr(0, url.find_first_of("/?#")).find('&') != std::string_view::npos) return false;
    path = url;
  } else {
    size_t rest = 0;
    if (starts_with_nocase(url, "https://")) rest = 8;
    else if (starts_with_nocase(url, "http://")) rest = 7;
    else return false;  // javascript:, data:, file:, any other scheme
    const size_t slash = url.find('/', rest);
    if (std::min(slash, url.size()) == rest) return false;  // no host
    path = slash == std::string_view::npos ? std::string_view() : url.substr(slash);
  }
  path = path.substr(0, path.find_first_of("?#"));
  for (size_t pos = 0; pos <= path.size();) {
    const size_t end = std::min(path.find('/', pos), path.size());
    if (path.substr(pos, end - pos) == "..") return false;
    pos = end + 1;
  }
  return true;
}

void keep_live_stock(std::vector<Product>& incoming, const std::set<std::string>& stock_omitted,
                     const std::vector<Product>& live) {
  for (Product& p : incoming) {
    if (stock_omitted.count(p.id) == 0) continue;
    const auto now = std::find_if(live.begin(), live.end(), [&p](const Product& l) { return l.id == p.id; });
    p.stock = now != live.end() ? now->stock : 0;
  }
}

std::string validate_product(const Product& p) {
  const std::string of = " of '" + p.id + "'";
  if (!is_product_title(p.title))
    return "'title'" + of + " must be 1-" + std::to_string(kMaxTitleChars) +
           " characters without control characters or bidi overrides";
  if (p.price < 0 || p.price > kMaxPriceFen)
    return "'price'" + of + " must be an integer number of fen, 0-" + std::to_string(kMaxPriceFen);
  if (p.currency.size() != 3 || !std::all_of(p.currency.begin(), p.currency.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
    return "'currency'" + of + " must be an ISO 4217 code such as \"CNY\"";
  if (p.stock < 0 || p.stock > kMaxStock) return "'stock'" + of + " must be an integer 0-" + std::to_string(kMaxStock);
  if (!is_product_image_url(p.image))
    return "'image'" + of + " must be a path on this site (/samples/images/...) or an http(s) URL of at most " +
           std::to_string(kMaxImageUrlBytes) + " bytes; javascript:, data: and file: URLs are refused";
  return {};
}

}  // namespace harvest::commerce

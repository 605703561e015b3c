#include "card_picture_cache.h"

namespace harvest::livecommerce {

std::string CardPictureCache::key(const Card& card, int width, int height, Locale locale) {
  // Strings are length-prefixed so no title can make two cards share a key.
  std::string k;
  for (const std::string* field : {&card.product_id, &card.title, &card.currency, &card.image,
                                   &card.origin_place, &card.harvest_date, &card.trace_url}) {
    k += std::to_string(field->size()) + ':' + *field + '|';
  }
  k += std::to_string(static_cast<int>(card.slot)) + '|' + std::to_string(card.price_fen) + '|';
  k += card.stock ? std::to_string(*card.stock) : "-";
  k += '|';
  k += card.sold ? std::to_string(*card.sold) : "-";
  k += card.sale_ends_at ? "|sale|" : "|nosale|";
  k += std::to_string(width) + 'x' + std::to_string(height) + '|' + std::string(locale_name(locale));
  return k;
}

std::optional<CardPicture> CardPictureCache::find(const std::string& key) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->first == key) {
      entries_.splice(entries_.begin(), entries_, it);
      return it->second;
    }
  }
  return std::nullopt;
}

void CardPictureCache::insert(const std::string& key, CardPicture picture) {
  std::lock_guard lock(mutex_);
  entries_.emplace_front(key, std::move(picture));
  if (entries_.size() > kCapacity) entries_.pop_back();
}

void CardPictureCache::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

}  // namespace harvest::livecommerce

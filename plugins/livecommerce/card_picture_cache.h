#pragma once
// Rendered card pictures shared between the thread that changes the scene (which
// renders ahead, outside any element lock) and the streaming thread (which only
// renders on a miss). Small and most-recently-used first.
#include <list>
#include <mutex>
#include <optional>
#include <string>

#include "card_renderer.h"

namespace harvest::livecommerce {

class CardPictureCache {
 public:
  // Everything the picture depends on: card content (not the countdown value), size, locale.
  static std::string key(const Card& card, int width, int height, Locale locale);

  std::optional<CardPicture> find(const std::string& key);
  void insert(const std::string& key, CardPicture picture);
  void clear();

 private:
  static constexpr std::size_t kCapacity = 32;
  std::mutex mutex_;
  std::list<std::pair<std::string, CardPicture>> entries_;
};

}  // namespace harvest::livecommerce

#pragma once
// Where product photos live: <dir>/<name>, the name being the first 128 bits of the SHA-256 of
// the stored JPEG in hex plus ".jpg". The same photo is stored once and keeps its URL; a name
// never changes content, so it can be cached for ever (Cache-Control: immutable).
#include <string>
#include <string_view>

#include "core/status.h"

namespace harvest::media::images {

// The site path photos are served under: "/images/<name>".
inline constexpr std::string_view kPhotoUrlPrefix = "/images/";

class PhotoShelf {
public:
  explicit PhotoShelf(std::string dir);

  // Stores `jpeg` (temp file, fsync, rename: a reader sees the whole file or none) unless a file
  // of that name is already there. Any thread. `name` receives "<hash>.jpg".
  Status put(std::string_view jpeg, std::string& name) const;

  // The file of a photo name, or empty when `name` is not a name put() makes (so nothing like
  // "../x" or "a/b" reaches the file system). The file may not exist.
  std::string path_for(std::string_view name) const;

  static bool is_photo_name(std::string_view name);
  static std::string name_for(std::string_view jpeg);

  const std::string& dir() const { return dir_; }

private:
  std::string dir_;
};

}  // namespace harvest::media::images

#include "media/images/photo_shelf.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <openssl/evp.h>

#include "core/tokens.h"

namespace harvest::media::images {
namespace {

constexpr size_t kHashHexChars = 32;
constexpr std::string_view kSuffix = ".jpg";

Status write_whole(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::error(std::strerror(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

}  // namespace

PhotoShelf::PhotoShelf(std::string dir) : dir_(std::move(dir)) {}

bool PhotoShelf::is_photo_name(std::string_view name) {
  if (name.size() != kHashHexChars + kSuffix.size() || name.substr(kHashHexChars) != kSuffix) return false;
  for (char c : name.substr(0, kHashHexChars))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string PhotoShelf::name_for(std::string_view jpeg) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(jpeg.data(), jpeg.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name;
  for (size_t i = 0; i < kHashHexChars / 2; ++i) {
    name += kHex[digest[i] >> 4];
    name += kHex[digest[i] & 0xF];
  }
  return name + std::string(kSuffix);
}

std::string PhotoShelf::path_for(std::string_view name) const {
  return is_photo_name(name) ? dir_ + "/" + std::string(name) : std::string();
}

Status PhotoShelf::put(std::string_view jpeg, std::string& name) const {
  name = name_for(jpeg);
  const std::string path = path_for(name);
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return Status::ok();  // the same bytes, stored before
  std::filesystem::create_directories(dir_, ec);
  if (ec) return Status::error("cannot create " + dir_ + ": " + ec.message());
  const std::string tmp = dir_ + "/." + name + "." + tokens::random_hex(6) + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::error("cannot create " + tmp + ": " + std::strerror(errno));
  Status st = write_whole(fd, jpeg);
  if (st && ::fsync(fd) != 0) st = Status::error(std::string("fsync: ") + std::strerror(errno));
  ::close(fd);
  if (st && ::rename(tmp.c_str(), path.c_str()) != 0) st = Status::error(std::string("rename: ") + std::strerror(errno));
  if (!st) ::unlink(tmp.c_str());
  return st;
}

}  // namespace harvest::media::images

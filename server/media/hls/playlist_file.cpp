#include "media/hls/playlist_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/clock.h"

namespace harvest::media::hls {

namespace {
bool write_at_start(int fd, std::string_view text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::pwrite(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  // Cut to the new length, never to zero first: on ext4 a file truncated to zero is written
  // back when closed.
  return ::ftruncate(fd, static_cast<off_t>(text.size())) == 0;
}
}  // namespace

PlaylistFile::PlaylistFile(std::string path, int64_t reader_grace_ms)
    : path_(std::move(path)), beside_(path_ + ".tmp"), reader_grace_ms_(reader_grace_ms) {}

PlaylistFile::~PlaylistFile() { release(); }

void PlaylistFile::release() {
  if (spare_fd_ < 0) return;
  ::close(spare_fd_);
  spare_fd_ = -1;
  ::unlink(beside_.c_str());
}

Status PlaylistFile::write(std::string_view text) {
  const int64_t now = steady_ms();
  int fd = -1;
  if (spare_fd_ >= 0 && (spare_since_ms_ == 0 || now - spare_since_ms_ >= reader_grace_ms_)) {
    fd = spare_fd_;
    spare_fd_ = -1;
  } else {
    release();  // swapped out too recently (or none): a new file beside
    ::unlink(beside_.c_str());  // left by an earlier owner, if any
    fd = ::open(beside_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Status::error("cannot create " + beside_ + ": " + std::strerror(errno));
  }
  if (!write_at_start(fd, text)) {
    const int err = errno;
    ::close(fd);
    return Status::error("cannot write " + beside_ + ": " + std::strerror(err));
  }
  // No playlist yet (or a file system that cannot exchange): a plain rename.
  const bool swapped = ::renameat2(AT_FDCWD, beside_.c_str(), AT_FDCWD, path_.c_str(), RENAME_EXCHANGE) == 0;
  if (!swapped && ::rename(beside_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::error("cannot rename " + beside_ + ": " + std::strerror(err));
  }
  ::close(fd);
  if (swapped) {
    spare_fd_ = ::open(beside_.c_str(), O_WRONLY | O_CLOEXEC);  // the old playlist, now beside
    spare_since_ms_ = now;
  }
  return Status::ok();
}

}  // namespace harvest::media::hls

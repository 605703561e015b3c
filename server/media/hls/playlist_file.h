#pragma once
// A playlist file on disk that readers (our HTTP server, a CDN origin reading the directory)
// always see whole: new text is written to a file beside it, which is then swapped in.
//
// Why not the usual write-a-temporary-file-and-rename-it: that creates a file and deletes the
// old one on every write, and a server writing a playlist per segment per stream makes a lot of
// that churn. On ext4 (here, without a journal) each file created scans past the inodes deleted
// in the last seconds, and that scan was a quarter of the ingest's CPU. So the two files are
// swapped (RENAME_EXCHANGE) and the one swapped out is reused as the next file beside, written
// in place once no reader can still be reading it; a rename over the old file would also make
// ext4 start writing the new one back on the spot, on the path of every segment's listing.
//
// Not thread-safe; one owner.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace harvest::media::hls {

class PlaylistFile {
public:
  // A file swapped out is rewritten only after `reader_grace_ms`: a reader that opened it just
  // before the swap has read it by then (a playlist is one read).
  static constexpr int64_t kReaderGraceMs = 500;
  explicit PlaylistFile(std::string path, int64_t reader_grace_ms = kReaderGraceMs);
  ~PlaylistFile();
  PlaylistFile(const PlaylistFile&) = delete;
  PlaylistFile& operator=(const PlaylistFile&) = delete;

  const std::string& path() const { return path_; }
  // Replaces the file's content with `text`, atomically for readers.
  Status write(std::string_view text);
  // Closes and removes the file beside (when no more writes are coming).
  void release();

private:
  std::string path_;
  std::string beside_;      // <path>.tmp
  int64_t reader_grace_ms_;
  int spare_fd_ = -1;       // the file at `beside_`, open for writing; -1: none
  int64_t spare_since_ms_ = 0;  // when it was swapped out (steady clock); 0: never served
};

}  // namespace harvest::media::hls

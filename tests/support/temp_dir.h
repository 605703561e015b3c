#pragma once
// A fresh directory under $TMPDIR, removed with everything in it on destruction.
#include <cstddef>
#include <string>

namespace harvest::test {

class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

// A whole file's bytes ("" when it cannot be read).
std::string read_file(const std::string& path);
// Creates or replaces `path` with `bytes`.
void write_file(const std::string& path, const std::string& bytes);
// How many times `needle` occurs in `text` (e.g. a tag in a playlist read back).
size_t count_of(const std::string& text, const std::string& needle);

}  // namespace harvest::test

#pragma once
// A fresh directory under $TMPDIR, removed with everything in it on destruction.
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

}  // namespace harvest::test

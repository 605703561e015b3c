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

}  // namespace harvest::test

// A directory of a test's own under /tmp, removed with all it holds when the
// test is done.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace otpd::test {

class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/otpd-test-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    dir_ = name;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  // Writes `text` to dir/name, replacing what was there.
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
  }

 private:
  std::string dir_;
};

}  // namespace otpd::test

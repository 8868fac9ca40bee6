// Tests that run a helper program as another user (nobody) need a path that
// user can reach. A clone in a directory others cannot enter (root's 0700
// home, a `mktemp -d`) holds the build tree where nobody can go: such a
// program is copied, once per test process, into a directory everyone may
// enter, removed again when the process ends. The user's own directories
// are never opened up.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>

namespace otpd::test {

// Whether a user with no rights but "others'" may execute `program`: each
// directory above it searchable by others, the file executable by them.
inline bool others_can_run(const std::string& program) {
  struct stat st {};
  if (stat(program.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) return false;
  std::filesystem::path dir = std::filesystem::absolute(program).parent_path();
  for (;;) {
    if (stat(dir.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) return false;
    if (dir == dir.root_path()) return true;
    dir = dir.parent_path();
  }
}

class SharedCopies {
 public:
  ~SharedCopies() {
    if (dir_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  const std::string& of(const std::string& program) {
    auto found = copies_.find(program);
    if (found != copies_.end()) return found->second;
    if (dir_.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/otpd-helpers-XXXXXX";
      if (mkdtemp(pattern.data()) == nullptr || chmod(pattern.c_str(), 0755) != 0) {
        throw std::runtime_error("cannot make a directory for shared helper copies");
      }
      dir_ = pattern;
    }
    const std::string copy = dir_ + "/" + std::to_string(copies_.size()) + "-" +
                             std::filesystem::path(program).filename().string();
    std::filesystem::copy_file(program, copy);
    chmod(copy.c_str(), 0755);
    return copies_.emplace(program, copy).first->second;
  }

 private:
  std::string dir_;
  std::map<std::string, std::string> copies_;
};

// `program` itself when every user can run it, else a copy that every user
// can run.
inline std::string reachable_by_all(const std::string& program) {
  if (others_can_run(program)) return program;
  static SharedCopies copies;
  return copies.of(program);
}

}  // namespace otpd::test

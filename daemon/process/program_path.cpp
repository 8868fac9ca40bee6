#include "process/program_path.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <string_view>

namespace otpd::process {
namespace {

// What execvp uses when PATH is unset.
constexpr const char* kDefaultSearchPath = "/bin:/usr/bin";

std::string candidate(std::string_view dir, const std::string& name, const std::string& cwd) {
  std::string path;
  if (dir.empty()) dir = ".";  // an empty PATH entry means the working directory
  if (dir.front() != '/' && !cwd.empty()) path.append(cwd).append("/");
  path.append(dir).append("/").append(name);
  return path;
}

}  // namespace

ProgramPath resolve_program(const std::string& name, const char* search_path,
                            const std::string& cwd) {
  if (name.find('/') != std::string::npos) return {name, {}};

  std::string denied;  // like execvp: a later executable match beats an earlier denied one
  std::string_view entries = search_path != nullptr ? search_path : kDefaultSearchPath;
  while (true) {
    const std::size_t colon = entries.find(':');
    const std::string path = candidate(entries.substr(0, colon), name, cwd);
    struct stat st {};
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (access(path.c_str(), X_OK) == 0) return {path, {}};
      if (denied.empty()) denied = path;
    }
    if (colon == std::string_view::npos) break;
    entries.remove_prefix(colon + 1);
  }
  if (!denied.empty()) return {{}, "cannot execute " + denied + ": Permission denied"};
  return {{}, "command not found: " + name};
}

}  // namespace otpd::process

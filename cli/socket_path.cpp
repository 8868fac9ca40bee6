#include "cli/socket_path.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace otpd::ctl {

std::vector<std::string> default_socket_paths(const Getenv& getenv, uid_t uid) {
  const std::string system = "/run/otpd/otpd.sock";
  if (uid == 0) return {system};
  std::vector<std::string> paths;
  // As otpd: only an absolute XDG_RUNTIME_DIR counts.
  const char* runtime_dir = getenv("XDG_RUNTIME_DIR");
  if (runtime_dir != nullptr && *runtime_dir == '/') {
    paths.push_back(std::string(runtime_dir) + "/otpd.sock");
  } else {
    paths.push_back("/tmp/otpd-" + std::to_string(uid) + "/otpd.sock");
    paths.push_back("/run/user/" + std::to_string(uid) + "/otpd.sock");
  }
  if (std::find(paths.begin(), paths.end(), system) == paths.end()) paths.push_back(system);
  return paths;
}

bool something_at(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

SocketChoice choose_socket(const std::optional<std::string>& flag, const Getenv& getenv, uid_t uid,
                           const std::function<bool(const std::string&)>& exists) {
  if (flag) return {*flag};
  const char* from_env = getenv("OTPD_SOCKET");
  if (from_env != nullptr && *from_env != '\0') return {from_env};
  const std::vector<std::string> paths = default_socket_paths(getenv, uid);
  for (const std::string& path : paths) {
    if (exists(path)) return {path};
  }
  return {paths.front(), std::vector<std::string>(paths.begin() + 1, paths.end())};
}

std::string also_looked_note(const std::vector<std::string>& also_looked) {
  std::string note;
  for (std::size_t i = 0; i < also_looked.size(); ++i) {
    note += (i == 0 ? "nor at " : i + 1 == also_looked.size() ? " or " : ", ") + also_looked[i];
    // An otpd may listen there, out of this user's sight.
    struct stat st {};
    if (::lstat(also_looked[i].c_str(), &st) != 0 && errno == EACCES) {
      note += " (closed to uid " + std::to_string(::geteuid()) + ")";
    }
  }
  return note;
}

}  // namespace otpd::ctl

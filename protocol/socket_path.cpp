#include "protocol/socket_path.hpp"

#include <algorithm>

namespace otpd::protocol {

std::string default_socket_path(const Getenv& getenv, uid_t uid) {
  if (uid == 0) return std::string(kSystemSocket);
  // Only an absolute XDG_RUNTIME_DIR counts: a relative one would put the
  // socket wherever otpd happened to be started.
  const char* runtime_dir = getenv("XDG_RUNTIME_DIR");
  if (runtime_dir != nullptr && runtime_dir[0] == '/') {
    return std::string(runtime_dir) + "/otpd.sock";
  }
  return "/tmp/otpd-" + std::to_string(uid) + "/otpd.sock";
}

std::vector<std::string> client_socket_paths(const Getenv& getenv, uid_t uid) {
  std::vector<std::string> paths{default_socket_path(getenv, uid)};
  if (uid == 0) return paths;
  const char* runtime_dir = getenv("XDG_RUNTIME_DIR");
  if (runtime_dir == nullptr || runtime_dir[0] != '/') {
    paths.push_back("/run/user/" + std::to_string(uid) + "/otpd.sock");
  }
  const std::string system(kSystemSocket);
  if (std::find(paths.begin(), paths.end(), system) == paths.end()) paths.push_back(system);
  return paths;
}

std::string named_socket_path(std::string_view flag, const Getenv& getenv,
                              std::string_view configured) {
  if (!flag.empty()) return std::string(flag);
  const char* from_env = getenv(kSocketVariable);
  if (from_env != nullptr && from_env[0] != '\0') return from_env;
  return std::string(configured);
}

}  // namespace otpd::protocol

#include "cli/socket_path.hpp"

namespace otpd::ctl {

std::string resolve_socket_path(const std::optional<std::string>& flag, const Getenv& getenv,
                                uid_t uid) {
  if (flag) return *flag;
  const char* from_env = getenv("OTPD_SOCKET");
  if (from_env != nullptr && *from_env != '\0') return from_env;
  if (uid == 0) return "/run/otpd/otpd.sock";
  // As otpd: only an absolute XDG_RUNTIME_DIR counts.
  const char* runtime_dir = getenv("XDG_RUNTIME_DIR");
  if (runtime_dir != nullptr && *runtime_dir == '/') {
    return std::string(runtime_dir) + "/otpd.sock";
  }
  return "/tmp/otpd-" + std::to_string(uid) + "/otpd.sock";
}

}  // namespace otpd::ctl

#include "client/socket_path.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace otpd::client {

bool something_at(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

SocketChoice choose_socket(const std::optional<std::string>& flag, const Getenv& getenv, uid_t uid,
                           const std::function<bool(const std::string&)>& exists) {
  if (flag) return {*flag};
  if (std::string named = protocol::named_socket_path({}, getenv); !named.empty()) return {named};
  const std::vector<std::string> paths = protocol::client_socket_paths(getenv, uid);
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

}  // namespace otpd::client

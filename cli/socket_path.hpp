// Where otpctl looks for otpd's control socket (docs/protocol.md, Transport).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/style.hpp"

namespace otpd::ctl {

// Where otpd may listen when nothing names its socket, in the order otpctl
// tries them. First where otpd run by this user would listen: the same
// rule otpd follows, so that both find each other without flags. Then,
// for a non-root user: /run/user/UID, where a session's otpd listens,
// when this login has no XDG_RUNTIME_DIR (su, sudo -u); and the system's
// otpd, /run/otpd, which a member of its control groups may use.
std::vector<std::string> default_socket_paths(const Getenv& getenv, uid_t uid);

// Whether this user sees something at `path`.
bool something_at(const std::string& path);

struct SocketChoice {
  std::string path;
  // When no default path had anything at it: the others looked at, for
  // the message (the first is `path`).
  std::vector<std::string> also_looked = {};
};

// --socket, else $OTPD_SOCKET, else the first default path with something
// at it; when none has, the first.
SocketChoice choose_socket(const std::optional<std::string>& flag, const Getenv& getenv, uid_t uid,
                           const std::function<bool(const std::string&)>& exists = something_at);

// "nor at A or B (closed to uid N)", completing the message for a socket
// that is not there: a place this user may not look into is named so.
std::string also_looked_note(const std::vector<std::string>& also_looked);

// Unix socket addresses hold at most this many bytes of path.
inline constexpr std::size_t max_socket_path = 107;

}  // namespace otpd::ctl

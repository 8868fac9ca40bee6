// Where a client looks for otpd's control socket (docs/protocol.md,
// Transport).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "protocol/socket_path.hpp"

namespace otpd::client {

using protocol::Getenv;

// Whether this user sees something at `path`.
bool something_at(const std::string& path);

struct SocketChoice {
  std::string path;
  // When no default path had anything at it: the others looked at, for
  // the message (the first is `path`).
  std::vector<std::string> also_looked = {};
};

// --socket, else $OTPD_SOCKET, else the first of the protocol's client
// paths (protocol::client_socket_paths) with something at it; when none
// has, the first.
SocketChoice choose_socket(const std::optional<std::string>& flag, const Getenv& getenv, uid_t uid,
                           const std::function<bool(const std::string&)>& exists = something_at);

// "nor at A or B (closed to uid N)", completing the message for a socket
// that is not there: a place this user may not look into is named so.
std::string also_looked_note(const std::vector<std::string>& also_looked);

}  // namespace otpd::client

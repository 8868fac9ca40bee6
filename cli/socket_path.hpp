// Where otpctl looks for otpd's control socket (docs/protocol.md, Transport).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "cli/style.hpp"

namespace otpd::ctl {

// --socket, else $OTPD_SOCKET, else the default for this user: the same
// order otpd follows, so that both find each other without flags.
std::string resolve_socket_path(const std::optional<std::string>& flag, const Getenv& getenv,
                                uid_t uid);

// Unix socket addresses hold at most this many bytes of path.
inline constexpr std::size_t max_socket_path = 107;

}  // namespace otpd::ctl

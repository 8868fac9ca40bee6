// Whether otpctl may send its requests through a socket. One in a
// directory other users can write to may be theirs, put there to read what
// otpctl sends and answer it (docs/otpctl.md, The socket).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace otpd::client {

// Why the socket at `path` may not be used by `uid`; none when it may.
// Refused: a directory group or others may write to (unless sticky, like
// /tmp, and the socket is root's or uid's own), and for the default path
// (`chosen` false: neither --socket nor OTPD_SOCKET) a directory that
// belongs to neither uid nor root. A path that cannot be examined is left
// to the connection to report.
std::optional<std::string> socket_distrust(const std::string& path, bool chosen, uid_t uid);

}  // namespace otpd::client

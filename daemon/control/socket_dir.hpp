// Whether a directory may hold otpd's control socket. Whoever can write to
// it can replace the socket with their own and receive (and answer) the
// requests meant for otpd, so it must be otpd's own: see docs/protocol.md,
// Transport.
#pragma once

#include <sys/types.h>

#include <string>

namespace otpd::control {

// Follows `dir` from the root one name at a time, without letting the
// kernel follow links on its own, and checks every directory passed
// through and every link taken: each must belong to `owner` or root; none
// may be writable by group or others, unless it is sticky and root's, as
// /tmp is. False with `error` naming the culprit, its owner and mode, and
// what to do.
bool check_socket_dir(const std::string& dir, uid_t owner, std::string& error);

}  // namespace otpd::control

// `otpd check --diff FILE`: what a reload of the running otpd to FILE would
// do. FILE is validated here; the running otpd compares it with the tree it
// runs and answers over its control socket (a dry-run `reload`).
#pragma once

#include <string>

namespace otpd {

// Exit status: 0 shown, 1 FILE invalid or otpd refused, 3 otpd unreachable.
// `socket` is --socket (empty: $OTPD_SOCKET, else the default), as otpctl
// finds it.
int check_diff(const std::string& file, const std::string& socket, bool json);

}  // namespace otpd

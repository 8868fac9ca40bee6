// One line that says how a tree is doing, for a service manager's STATUS=
// ("12 processes: 11 running, 1 backoff"; "2 processes, 1 worker: 3
// running" with in-process workers): what `systemctl status` shows.
#pragma once

#include <string>

#include "supervise/status.hpp"

namespace otpd::supervise {

std::string summarize(const NodeStatus& root);

}  // namespace otpd::supervise

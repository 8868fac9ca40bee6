// What `otpd check` warns about beyond errors: a process whose program
// cannot be found or executed now. The file is valid (the program may be
// installed before otpd starts), but the child would fail to start.
#pragma once

#include <string>
#include <vector>

#include "config/spec.hpp"

namespace otpd {

// One "FILE:LINE:COL: warning: ..." line per process child (or worker
// that runs a command) whose program is missing, not a regular file or not executable, looked up as
// the spawn will: a path against the child's cwd, a bare name in the PATH the child will have.
std::vector<std::string> program_warnings(const config::SupervisorSpec& tree);

}  // namespace otpd

// otpd's open-file limit and the one its children get back.
//
// A supervisor holds a socket, pipes and pidfds per child, so it wants the
// hard limit. Its children must not inherit that: many programs still use
// select(), which breaks on descriptors >= 1024, and some size tables by the
// soft limit. So otpd raises its own soft limit once at startup and every
// child is given the original value back before exec.
#pragma once

#include <sys/resource.h>

#include <optional>
#include <string>

namespace otpd::process {

struct FdLimitReport {
  rlim_t original_soft = 0;  // what otpd was started with; children get this
  rlim_t soft = 0;           // otpd's soft limit now
  rlim_t hard = 0;
  // Why the limit could not be read or raised, e.g. "Operation not
  // permitted (raising 1024 to the hard limit 4096)"; none when it was.
  std::optional<std::string> failure;

  bool raised() const { return soft > original_soft; }
};

// Raises the soft RLIMIT_NOFILE to the hard limit. Call once at startup,
// before any child is spawned; later calls keep the first original value.
FdLimitReport raise_fd_limit();

// The limit to give a child, or nullptr when otpd never changed its own and
// children can simply inherit it.
const rlimit* child_fd_limit();

}  // namespace otpd::process

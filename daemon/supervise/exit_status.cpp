#include "supervise/exit_status.hpp"

#include <signal.h>

#include "config/signals.hpp"

namespace otpd::supervise {

ExitStatus ExitStatus::from_siginfo(int child_code, int child_status) {
  switch (child_code) {
    case CLD_KILLED:
      return killed(child_status, false);
    case CLD_DUMPED:
      return killed(child_status, true);
    default:
      return exited(child_status);
  }
}

std::string describe(const ExitStatus& s) {
  if (!s.oom_limit.empty() && s.signaled && s.code == SIGKILL) {
    return "killed by the kernel's OOM killer: " + s.oom_limit;
  }
  std::string text;
  if (!s.signaled) {
    text = "exited with status " + std::to_string(s.code);
  } else {
    text = "killed by " + config::signal_name(s.code);
    if (s.core_dumped) text += " (core dumped)";
  }
  // The OOM killer ended another process of the child, and the child
  // ended in its own way.
  if (!s.oom_limit.empty())
    text += " after the kernel's OOM killer ended a process of it: " + s.oom_limit;
  return text;
}

}  // namespace otpd::supervise

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
  if (!s.signaled) return "exited with status " + std::to_string(s.code);
  std::string text = "killed by " + config::signal_name(s.code);
  if (s.core_dumped) text += " (core dumped)";
  return text;
}

}  // namespace otpd::supervise

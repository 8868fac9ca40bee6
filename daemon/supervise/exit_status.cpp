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
  if (!s.left_behind.empty()) {
    const std::size_t n = s.left_behind.size() + s.left_unlisted;
    text += ", leaving " + (n == 1 ? std::string("a process") : std::to_string(n) + " processes") +
            " behind: " + describe(s.left_behind, 8, s.left_unlisted);
  }
  return text;
}

std::string describe(const std::vector<LeftProcess>& processes, std::size_t most,
                     std::size_t unlisted) {
  std::string text;
  for (std::size_t i = 0; i < processes.size() && i < most; ++i) {
    const LeftProcess& p = processes[i];
    if (i > 0) text += ", ";
    text += std::to_string(p.pid);
    if (!p.name.empty() || p.runs_on) {
      text += " (" + p.name +
              (p.runs_on ? std::string(p.name.empty() ? "" : ", ") + "runs on" : "") + ")";
    }
  }
  const std::size_t more = (processes.size() > most ? processes.size() - most : 0) + unlisted;
  if (more > 0) text += " and " + std::to_string(more) + " more";
  return text;
}

}  // namespace otpd::supervise

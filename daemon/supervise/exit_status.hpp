// How an OS process ended, as the kernel reports it.
#pragma once

#include <string>

namespace otpd::supervise {

struct ExitStatus {
  bool signaled = false;  // killed by a signal rather than exit()
  int code = 0;           // exit code, or signal number when signaled
  bool core_dumped = false;
  // Set when the kernel's OOM killer ended a process of the child's cgroup
  // while it ran: the limit that was hit, as "memory_max 64M".
  std::string oom_limit{};

  static ExitStatus exited(int code) { return {false, code, false, {}}; }
  static ExitStatus killed(int signo, bool core = false) { return {true, signo, core, {}}; }
  // From a waitid() siginfo: its si_code and si_status fields.
  static ExitStatus from_siginfo(int child_code, int child_status);
  bool operator==(const ExitStatus&) const = default;
};

// "exited with status 3", "killed by SIGKILL", "killed by SIGSEGV (core dumped)",
// "killed by the kernel's OOM killer: memory_max 64M".
std::string describe(const ExitStatus&);

}  // namespace otpd::supervise

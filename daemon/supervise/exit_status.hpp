// How an OS process ended, as the kernel reports it.
#pragma once

#include <string>
#include <vector>

namespace otpd::supervise {

// A process the child left behind when it exited with status 0: its pid,
// its name, and whether it still runs after otpd ended what it could (a
// process that left the child's group, where otpd has no cgroups).
struct LeftProcess {
  int pid = 0;
  std::string name{};
  bool runs_on = false;
  bool operator==(const LeftProcess&) const = default;
};

struct ExitStatus {
  bool signaled = false;  // killed by a signal rather than exit()
  int code = 0;           // exit code, or signal number when signaled
  bool core_dumped = false;
  // Set when the kernel's OOM killer ended a process of the child's cgroup
  // while it ran: the limit that was hit, as "memory_max 64M".
  std::string oom_limit{};
  // What a child that exited with status 0 left running in its cgroup or
  // process group (see docs/spawning.md, "A child that daemonizes").
  std::vector<LeftProcess> left_behind{};
  std::size_t left_unlisted = 0;  // more of them, beyond the bound on the list

  static ExitStatus exited(int code) { return {false, code, false, {}, {}, 0}; }
  static ExitStatus killed(int signo, bool core = false) { return {true, signo, core, {}, {}, 0}; }
  bool clean() const { return !signaled && code == 0; }
  // From a waitid() siginfo: its si_code and si_status fields.
  static ExitStatus from_siginfo(int child_code, int child_status);
  bool operator==(const ExitStatus&) const = default;
};

// "exited with status 3", "killed by SIGKILL", "killed by SIGSEGV (core dumped)",
// "killed by the kernel's OOM killer: memory_max 64M", "exited with status
// 0, leaving 2 processes behind: 4242 (nginx), 4243 (nginx)".
std::string describe(const ExitStatus&);
// "4242 (nginx), 4243 (nginx, runs on)": at most `most` of them, then "and
// N more", counting `unlisted` ones too.
std::string describe(const std::vector<LeftProcess>& processes, std::size_t most = 8,
                     std::size_t unlisted = 0);

}  // namespace otpd::supervise

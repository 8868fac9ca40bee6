// Starting one OS process for the supervisor: clone(CLONE_VM|CLONE_VFORK) +
// execve, with the child set up as a supervised service expects. The reasons
// for not using Boost.Process or fork() are in docs/spawning.md.
#pragma once

#include "config/spec.hpp"
#include "supervise/host.hpp"

namespace otpd::process {

struct SpawnOptions {
  // Descriptors that become the child's 0, 1 and 2. Negative stdin means
  // /dev/null; the defaults for stdout/stderr pass otpd's own through.
  int stdin_fd = -1;
  int stdout_fd = 1;
  int stderr_fd = 2;
  // setsid() instead of setpgid(): the child also leaves otpd's session and
  // controlling terminal. Either way its process group id is its pid.
  bool new_session = false;
  // A descriptor the child gets at number `passed_fd_target` (>= 3), e.g.
  // the write end of a readiness pipe; -1 for none. Keep it low (low_fd.hpp).
  int passed_fd = -1;
  int passed_fd_target = -1;
  // cgroup.procs files open for writing (close-on-exec) that the child
  // moves itself into before anything else, and their directories for
  // messages: its cgroup v2 leaf and the v1 cgroups of its limits.
  static constexpr int kMaxCgroups = 4;
  int cgroup_fds[kMaxCgroups] = {-1, -1, -1, -1};
  const char* cgroup_dirs[kMaxCgroups] = {};
  int cgroup_count = 0;
  // Without cgroups: the child gets SIGKILL when the spawning thread (otpd's
  // loop) ends (PR_SET_PDEATHSIG).
  bool die_with_parent = false;
};

// Starts spec.argv. On success the child has exec'd its program and is not
// yet reaped: the caller must hand the pid to the Reaper. On failure nothing
// is left behind (a child that failed to exec has already been reaped) and
// `error` names the step, e.g. "cannot change directory to /x: No such file
// or directory". Call it on the thread that runs the Reaper, which must not
// see a failed child before it is reaped here.
// With `pidfd`, a pidfd of the child is returned there (or -1 when none can
// be had), for the Reaper to learn of its exit without scanning.
supervise::SpawnResult spawn_process(const config::ProcessSpec& spec, const SpawnOptions& opts = {},
                                     int* pidfd = nullptr);

}  // namespace otpd::process

// The low half of spawning: a vfork-style child that sets itself up from a
// plan the parent prepared and execs. Everything the child does is
// async-signal-safe: it shares otpd's memory, so it must not allocate, lock,
// or touch stdio. The order of the steps is explained in docs/spawning.md.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

namespace otpd::process {

struct ChildLimit {
  int resource;  // RLIMIT_*
  rlimit value;
};

struct ChildPlan {
  const char* program = nullptr;  // passed to execve as is
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* cwd = nullptr;  // nullptr: stay in otpd's directory
  int stdio[3] = {-1, 1, 2};  // become the child's 0, 1, 2
  bool new_session = false;
  const rlimit* fd_limit = nullptr;    // nullptr: inherit otpd's
  const ChildLimit* limits = nullptr;  // set after fd_limit, in order
  int limit_count = 0;
  // The identity, switched in this order; unset: keep otpd's.
  bool set_groups = false;
  const gid_t* groups = nullptr;
  int group_count = 0;
  bool set_gid = false;
  gid_t gid = 0;
  bool set_uid = false;
  uid_t uid = 0;
  int umask = -1;  // negative: inherit otpd's
  // One more descriptor for the program (ready: {fd: N}): `source` in otpd
  // (keep it low, see low_fd.hpp) becomes `target` (>= 3) in the child.
  int passed_fd = -1;
  int passed_fd_target = -1;
  // cgroup.procs files (open for writing, close-on-exec) the child moves
  // itself into before anything else, with write(fd, "0"): the cgroup v2
  // leaf, and the v1 hierarchies that hold its limits.
  const int* cgroup_fds = nullptr;
  int cgroup_fd_count = 0;
  // Without cgroups: SIGKILL when otpd dies (PR_SET_PDEATHSIG), set after
  // the identity change, which would clear it. If the parent is no longer
  // `parent_pid` by then, otpd died during the spawn and the child exits.
  bool die_with_parent = false;
  pid_t parent_pid = 0;
};

// The step that failed, so that the parent can say what went wrong.
enum class ChildStep {
  none,
  stack,   // in the parent: no memory for the child's stack
  clone,   // in the parent: the kernel refused a new process
  cgroup,  // ChildFailure::index says which of ChildPlan::cgroup_fds
  process_group,
  session,
  stdio,
  passed_fd,
  close_fds,
  fd_limit,
  rlimit,  // ChildFailure::index says which of ChildPlan::limits
  groups,
  gid,
  uid,
  cwd,
  parent_death_signal,
  exec,
};

struct ChildFailure {
  ChildStep step = ChildStep::none;
  int error = 0;  // errno of that step
  int index = 0;  // for a step applied to several things: which one
};

// Returns the pid of a child that has exec'd, or -1 with `failure` filled in.
// Returns only once the child has exec'd or died; a child that died has been
// reaped already, so a failure never leaves a zombie. With `pidfd`, also
// returns a pidfd of the child (close-on-exec) there, or -1 when the kernel
// or the open-file limit gives none.
int launch_child(const ChildPlan& plan, ChildFailure& failure, int* pidfd = nullptr);

}  // namespace otpd::process

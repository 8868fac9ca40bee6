// What a child that exited with status 0 left running: a program that
// daemonizes forks, lets its first process exit 0 and goes on in the
// background (docs/spawning.md, "A child that daemonizes"). otpd looks
// while the exited process is still a zombie, before anything is killed.
//
// With cgroups the answer is exact: whatever is in the child's cgroup. Without,
// otpd can see only its own children, where the orphans of the tree land
// (it is PID 1 or a child subreaper): those in the exited child's process
// group, and those that were re-parented to otpd since it last looked and
// started after the child, unless they are in another running child's
// group. The latter is an inference, which is why those are only named,
// never killed.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "supervise/exit_status.hpp"

namespace otpd::process {

class LeftBehind {
 public:
  // At most this many processes are named for one exit.
  static constexpr std::size_t kMost = 64;

  // The processes of the cgroup v2 `dir` other than `pid`, the exited one.
  // All of them are ended with the cgroup.
  // `unlisted` counts those beyond kMost.
  static std::vector<supervise::LeftProcess> in_cgroup(const std::string& dir, pid_t pid,
                                                       std::size_t& unlisted);

  // What still runs below otpd at its exit: orphans of the tree that left
  // their children's process groups (without cgroups), and what they started.
  static std::vector<supervise::LeftProcess> still_running();

  // Without cgroups: what the exited process `pid` (a zombie not yet
  // reaped) left among otpd's own children, and their descendants. Those
  // outside its process group run on. `watched` tells the children otpd
  // started (each leads its group) from orphans.
  std::vector<supervise::LeftProcess> orphaned_by(pid_t pid,
                                                  const std::function<bool(pid_t)>& watched);

 private:
  // Orphans already named for an exit, by pid, with their start time (a
  // pid may be reused): they are not charged to a second child.
  std::unordered_map<pid_t, std::uint64_t> named_;
};

}  // namespace otpd::process

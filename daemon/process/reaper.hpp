// The one place where otpd waits for processes. Every child that exits, and
// every orphan re-parented to otpd (as PID 1 or as a child subreaper), is
// reaped here and reported once; nothing else in otpd may call wait*().
//
// Each exit is found at a cost independent of the number of children: the
// SIGCHLD read from a signalfd names the child that sent it, the end of a
// child's output pipe says that it has probably exited, and a child
// without such a pipe is watched through a pidfd. Either way the child is
// then waited for by pid. Exits whose SIGCHLDs merged into one and that
// no pipe or pidfd announced, and orphans, can only be found by
// waitid(P_ALL), which the kernel answers by walking every child of otpd;
// that sweep runs shortly after a SIGCHLD (a burst shares one sweep).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "process/descriptor_budget.hpp"
#include "supervise/exit_status.hpp"

namespace boost::asio {
class io_context;
}

namespace otpd::process {

class Reaper {
 public:
  using ExitFn = std::function<void(supervise::ExitStatus)>;
  // Of the exited `pid`: may add to its status what it finds (what the
  // process left behind).
  using InspectFn = std::function<void(int pid, supervise::ExitStatus&)>;
  // `group`: the orphan's process group when it was reaped, 0 if unknown.
  using OrphanFn = std::function<void(int pid, int group, supervise::ExitStatus)>;

  // Listens for SIGCHLD on `io` through a signalfd; SIGCHLD must be blocked
  // in every thread (see block_supervisor_signals), and is blocked in the
  // calling one here as well. Unless otpd is PID 1, it becomes the child
  // subreaper of everything below it. The pidfds it opens come out of
  // `budget`. Throws std::system_error if the signalfd cannot be created.
  Reaper(boost::asio::io_context& io, OrphanFn on_orphan = {}, DescriptorBudget* budget = nullptr);
  ~Reaper();
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  // Calls on_exit, from the event loop, when `pid` has been reaped. Call it
  // right after spawning, on the loop's thread, before the loop runs again.
  // With `kill_group`, whatever is left of the process group `pid` leads is
  // sent SIGKILL when it exits, while its zombie still holds the pid, so
  // the signal cannot reach a new process that reuses the number.
  // Takes ownership of `pidfd` (-1: none) and of the budget's `grant` for it.
  // `inspect`, if given, is called once the process has exited: with
  // `kill_group` before the group is killed and the process reaped, so what
  // it left is still there to be seen; without, after the reap (a child
  // whose leftovers stay in its own cgroup needs nothing held). `pipe_tells`: the end of the child's output pipe will be
  // reported through look(); a child with neither that nor a pidfd is found
  // by its SIGCHLD or a sweep alone, and sweeps then come 20 ms after a
  // SIGCHLD however many children otpd has.
  void watch(int pid, ExitFn on_exit, bool kill_group = false, int pidfd = -1,
             DescriptorGrant grant = {}, InspectFn inspect = {}, bool pipe_tells = false);
  // A hint that the watched `pid` has exited: its output pipes ended. It is
  // reaped now if it has; if it has not quite finished exiting, its SIGCHLD
  // will name it; if it still runs 20 ms later (it closed its output), a
  // pidfd watches it from then on, if the budget allows one.
  void look(int pid);
  // Reaps until otpd has no child left (then calls done(true)) or `patience`
  // runs out (done(false)): for the end of an orderly stop, when the leftovers
  // of killed process groups are still dying.
  void drain(std::chrono::milliseconds patience, std::function<void(bool all_gone)> done);
  // Whether orphans of the tree come to otpd (PID 1, or subreaper set).
  bool receives_orphans() const;
  // Processes watched and not yet reaped.
  std::size_t watched() const;
  // Of those, the ones watched through a pidfd (for tests).
  std::size_t pidfds() const;
  bool watches(int pid) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace otpd::process

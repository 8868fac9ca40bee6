// The one place where otpd waits for processes. Every child that exits, and
// every orphan re-parented to otpd (as PID 1 or as a child subreaper), is
// reaped here and reported once; nothing else in otpd may call wait*().
//
// A child watched through its pidfd is reaped as soon as it exits, at a cost
// independent of the number of children. Orphans can only be found by
// waitid(P_ALL), which the kernel answers by walking every child of otpd;
// that sweep runs shortly after a SIGCHLD (several SIGCHLDs share one
// sweep), or at once for children watched without a pidfd.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "supervise/exit_status.hpp"

namespace boost::asio {
class io_context;
}

namespace otpd::process {

class Reaper {
 public:
  using ExitFn = std::function<void(supervise::ExitStatus)>;
  using InspectFn = std::function<void(const supervise::ExitStatus&)>;
  // `group`: the orphan's process group when it was reaped, 0 if unknown.
  using OrphanFn = std::function<void(int pid, int group, supervise::ExitStatus)>;

  // Listens for SIGCHLD on `io` through a signalfd; SIGCHLD must be blocked
  // in every thread (see block_supervisor_signals), and is blocked in the
  // calling one here as well. Unless otpd is PID 1, it becomes the child
  // subreaper of everything below it. Throws std::system_error if the
  // signalfd cannot be created.
  Reaper(boost::asio::io_context& io, OrphanFn on_orphan = {});
  ~Reaper();
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  // Calls on_exit, from the event loop, when `pid` has been reaped. Call it
  // right after spawning, on the loop's thread, before the loop runs again.
  // With `kill_group`, whatever is left of the process group `pid` leads is
  // sent SIGKILL when it exits, while its zombie still holds the pid, so
  // the signal cannot reach a new process that reuses the number.
  // Takes ownership of `pidfd` (-1: none, the child is found by the sweep).
  // `inspect`, if given, is called once the process has exited, before its
  // group is killed and before it is reaped: what it left is still there
  // to be seen.
  void watch(int pid, ExitFn on_exit, bool kill_group = false, int pidfd = -1,
             InspectFn inspect = {});
  // Reaps until otpd has no child left (then calls done(true)) or `patience`
  // runs out (done(false)): for the end of an orderly stop, when the leftovers
  // of killed process groups are still dying.
  void drain(std::chrono::milliseconds patience, std::function<void(bool all_gone)> done);
  // Whether orphans of the tree come to otpd (PID 1, or subreaper set).
  bool receives_orphans() const;
  // Processes watched and not yet reaped.
  std::size_t watched() const;
  bool watches(int pid) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace otpd::process

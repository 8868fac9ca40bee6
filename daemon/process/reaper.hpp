// The one place where otpd waits for processes. Every child that exits, and
// every orphan re-parented to otpd (as PID 1 or as a child subreaper), is
// reaped here and reported once; nothing else in otpd may call wait*().
#pragma once

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
  using OrphanFn = std::function<void(int pid, supervise::ExitStatus)>;

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
  void watch(int pid, ExitFn on_exit, bool kill_group = false);
  // Whether orphans of the tree come to otpd (PID 1, or subreaper set).
  bool receives_orphans() const;
  // Processes watched and not yet reaped.
  std::size_t watched() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace otpd::process

#include "process/os_processes.hpp"

#include <signal.h>

namespace otpd::process {

supervise::SpawnResult OsProcesses::spawn(const config::ProcessSpec& spec,
                                          std::function<void(supervise::ExitStatus)> on_exit) {
  int pidfd = -1;
  supervise::SpawnResult result = spawn_process(spec, options_, &pidfd);
  // Before returning to the loop, so the exit cannot be taken for an orphan's.
  if (result.pid > 0) reaper_.watch(result.pid, std::move(on_exit), /*kill_group=*/true, pidfd);
  return result;
}

void OsProcesses::signal_group(int pgid, int signo) {
  // kill(0) and kill(-1) would reach otpd's own group or every process.
  if (pgid <= 1) return;
  // ESRCH: the group is already gone, which is what the caller wanted.
  kill(-pgid, signo);
}

void OsProcesses::signal_process(int pid, int signo) {
  if (pid <= 1) return;
  // Not yet reaped, the pid cannot have been reused by another process.
  kill(pid, signo);
}

}  // namespace otpd::process

#include "process/os_processes.hpp"

#include <signal.h>
#include <unistd.h>

#include "process/low_fd.hpp"

namespace otpd::process {

supervise::SpawnResult OsProcesses::spawn(const std::string& path, const config::ProcessSpec& spec,
                                          std::function<void(supervise::ExitStatus)> on_exit) {
  SpawnOptions options = options_;
  int write_end = -1;
  const bool ready_fd = spec.ready.kind == config::Readiness::Kind::fd;
  if (ready_fd) {
    if (readiness_ == nullptr) return {0, "readiness descriptors are not available"};
    std::string error;
    write_end = readiness_->open_ready_pipe(error);
    if (write_end < 0) return {0, error};
    options.passed_fd = place_low_fd(write_end);
    options.passed_fd_target = spec.ready.fd;
  }
  ChildStdio stdio;
  if (stdio_ != nullptr) {
    stdio = stdio_->prepare(path, spec);
    options.stdout_fd = stdio.out;
    options.stderr_fd = stdio.err;
  }
  int pidfd = -1;
  supervise::SpawnResult result = stdio.error.empty() ? spawn_process(spec, options, &pidfd)
                                                      : supervise::SpawnResult{0, stdio.error};
  if (stdio_ != nullptr) stdio_->spawned(path, result.pid);
  if (ready_fd) {
    // Only the child keeps a write end, so otpd sees end of file when it closes its own.
    release_low_fd();
    close(write_end);
    readiness_->adopt_ready_pipe(result.pid);
    if (result.pid > 0) {
      on_exit = [readiness = readiness_, pid = result.pid,
                 on_exit = std::move(on_exit)](supervise::ExitStatus status) {
        readiness->drop_ready_pipe(pid);
        on_exit(status);
      };
    }
  }
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

std::string OsProcesses::notify_socket() {
  return readiness_ != nullptr ? readiness_->notify().address() : std::string();
}

std::unique_ptr<supervise::Watch> OsProcesses::watch_notify(
    int pgid, std::function<void(const std::string&)> fn) {
  return readiness_ != nullptr ? readiness_->notify().watch(pgid, std::move(fn)) : nullptr;
}

std::unique_ptr<supervise::Watch> OsProcesses::watch_ready_fd(int pid,
                                                              std::function<void(bool)> fn) {
  return readiness_ != nullptr ? readiness_->watch_ready_fd(pid, std::move(fn)) : nullptr;
}

std::unique_ptr<supervise::Watch> OsProcesses::try_connect(const std::string& host, int port,
                                                           supervise::Duration timeout,
                                                           std::function<void(bool)> fn) {
  return readiness_ != nullptr ? readiness_->try_connect(host, port, timeout, std::move(fn))
                               : nullptr;
}

}  // namespace otpd::process

// The engine's ProcessControl on the real kernel: spawn_process to start,
// the Reaper to learn about exits, kill() on the process group to signal,
// and (with a ReadinessIo) the notify socket, readiness pipes and TCP
// probes behind `ready:`.
#pragma once

#include "loop/readiness_io.hpp"
#include "process/child_stdio.hpp"
#include "process/reaper.hpp"
#include "process/spawn.hpp"
#include "supervise/host.hpp"

namespace otpd::process {

class OsProcesses : public supervise::ProcessControl {
 public:
  // With `readiness`, `ready:` works; with `stdio`, each child's stdout and
  // stderr are whatever it chooses, else otpd's own.
  explicit OsProcesses(Reaper& reaper, SpawnOptions options = {},
                       loop::ReadinessIo* readiness = nullptr, ChildStdioRouting* stdio = nullptr)
      : reaper_(reaper), options_(options), readiness_(readiness), stdio_(stdio) {}

  supervise::SpawnResult spawn(const std::string& path, const config::ProcessSpec& spec,
                               std::function<void(supervise::ExitStatus)> on_exit) override;
  void signal_group(int pgid, int signo) override;
  void signal_process(int pid, int signo) override;

  std::string notify_socket() override;
  std::unique_ptr<supervise::Watch> watch_notify(
      int pgid, std::function<void(const std::string&)> fn) override;
  std::unique_ptr<supervise::Watch> watch_ready_fd(int pid, std::function<void(bool)> fn) override;
  std::unique_ptr<supervise::Watch> try_connect(const std::string& host, int port,
                                                supervise::Duration timeout,
                                                std::function<void(bool)> fn) override;

 private:
  Reaper& reaper_;
  SpawnOptions options_;
  loop::ReadinessIo* readiness_;
  ChildStdioRouting* stdio_;
};

}  // namespace otpd::process

// The engine's ProcessControl on the real kernel: spawn_process to start,
// the Reaper to learn about exits, kill() on the process group to signal.
#pragma once

#include "process/reaper.hpp"
#include "process/spawn.hpp"
#include "supervise/host.hpp"

namespace otpd::process {

class OsProcesses : public supervise::ProcessControl {
 public:
  explicit OsProcesses(Reaper& reaper, SpawnOptions options = {})
      : reaper_(reaper), options_(options) {}

  supervise::SpawnResult spawn(const config::ProcessSpec& spec,
                               std::function<void(supervise::ExitStatus)> on_exit) override;
  void signal_group(int pgid, int signo) override;
  void signal_process(int pid, int signo) override;

 private:
  Reaper& reaper_;
  SpawnOptions options_;
};

}  // namespace otpd::process

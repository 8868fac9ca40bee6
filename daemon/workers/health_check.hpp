// The `health_check` kind (docs/workers.md): probes a TCP port, an HTTP URL
// or a command at an interval; after `failures` failed probes in a row it
// kills the sibling it guards, or, guarding none, exits abnormally, so that
// its supervisor's strategy restarts what is unhealthy. Every probe runs on
// the loop through LoopServices; this worker only keeps the count.
#pragma once

#include <optional>
#include <string>

#include "config/spec.hpp"
#include "workers/builtin_worker.hpp"
#include "workers/loop_services.hpp"

namespace otpd::workers {

class HealthCheck final : public BuiltinWorker<HealthCheck> {
 public:
  // `path` is the check's own; `guarded_path` the sibling's (or empty).
  HealthCheck(Ended ended, std::string path, config::HealthCheckSettings settings,
              LoopServices& services, std::string guarded_path);

  void begin();
  void cleanup();
  void probe();
  void probed(ProbeResult result);

 private:
  void probe_after(supervise::Duration delay);
  std::string what_is_probed() const;
  void emit(supervise::EventKind kind, std::string reason);

  std::string path_;
  config::HealthCheckSettings settings_;
  LoopServices& services_;
  std::string guarded_path_;
  int failed_in_a_row_ = 0;
  // The exec probe under way, killed if the check ends before it does.
  std::optional<CommandId> command_;
};

}  // namespace otpd::workers

// How the engine starts the in-process workers of a tree (docs/workers.md).
// The daemon implements it on the runtime's thread pool; the engine only
// starts a worker, sends it exit signals and hears of its end.
#pragma once

#include <functional>
#include <string>

#include "config/spec.hpp"
#include "runtime/exit_reason.hpp"
#include "runtime/process.hpp"

namespace otpd::supervise {

class WorkerStarter {
 public:
  virtual ~WorkerStarter() = default;
  // Starts the worker `spec` describes for the node at `path` ("app/health").
  // `ended` is called exactly once, from whichever thread the worker ran on,
  // with the reason it ended. Returns its pid, or an empty pid and sets
  // `error` when it cannot start (then `ended` is never called).
  virtual runtime::Pid start(const std::string& path, const config::WorkerSpec& spec,
                             std::function<void(runtime::ExitReason)> ended,
                             std::string& error) = 0;
};

}  // namespace otpd::supervise

// How the engine starts the in-process workers of a tree (docs/workers.md).
// The daemon implements it on the runtime's thread pool; the engine only
// starts a worker, sends it exit signals and hears of its end.
#pragma once

#include <functional>
#include <string>

#include "config/spec.hpp"
#include "runtime/exit_reason.hpp"
#include "runtime/process.hpp"
#include "supervise/failure.hpp"

namespace otpd::supervise {

struct WorkerStart {
  runtime::Pid pid = {};  // empty when it could not start
  Failure failure = {};   // why, then
};

class WorkerStarter {
 public:
  virtual ~WorkerStarter() = default;
  // Starts the worker `spec` describes for the node at `path` ("app/health").
  // `ended` is called exactly once, from whichever thread the worker ran on,
  // with the reason it ended; never when the start fails, and never from
  // inside a call of the engine (start() included).
  virtual WorkerStart start(const std::string& path, const config::WorkerSpec& spec,
                            std::function<void(runtime::ExitReason)> ended) = 0;
};

}  // namespace otpd::supervise

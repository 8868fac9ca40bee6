// The runtime that the tree's in-process workers run on, and the factory of
// the built-in kinds (docs/workers.md). The thread pool is created when the
// first worker starts — at start-up or by a reload that adds one — so a
// tree without workers has no extra thread.
//
// Every worker the pool starts is registered under its tree path
// ("app/settings") in a runtime Registry, from its start to its end; the
// control socket finds workers there, and a slow handler's report names the
// worker by it.
#pragma once

#include <memory>

#include "config/spec.hpp"
#include "runtime/registry.hpp"
#include "runtime/scheduler.hpp"
#include "supervise/worker_starter.hpp"
#include "workers/loop_services.hpp"

namespace otpd::workers {

class WorkerPool final : public supervise::WorkerStarter {
 public:
  // `services` is what workers ask of the loop; without it, kinds that
  // need it (health_check, file_watch) fail to start, and slow handlers go
  // unreported.
  explicit WorkerPool(LoopServices* services, config::WorkerPoolSpec settings = {})
      : services_(services), settings_(settings) {}
  // Joins the pool's threads; workers still running are dropped without
  // their terminate hooks (stop the tree first).
  ~WorkerPool() override;

  supervise::WorkerStart start(const std::string& path, const config::WorkerSpec& spec,
                               std::function<void(runtime::ExitReason)> ended) override;

  // The running worker at tree path `path`, from the registry; an empty
  // pid when none runs there. Any thread.
  runtime::Pid whereis(const std::string& path) const;

  // Whether the pool's threads exist yet.
  bool started() const { return scheduler_ != nullptr; }

 private:
  runtime::Scheduler& scheduler();
  supervise::WorkerStart start_kind(const std::string& path, const config::WorkerSpec& spec,
                                    std::function<void(runtime::ExitReason)> ended);
  void report_slow(const runtime::SlowHandler& slow) const;

  LoopServices* services_;
  config::WorkerPoolSpec settings_;
  // Destroyed before the scheduler its process runs on.
  std::unique_ptr<runtime::Scheduler> scheduler_;
  std::unique_ptr<runtime::Registry> names_;
};

}  // namespace otpd::workers

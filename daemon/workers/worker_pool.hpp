// The runtime that the tree's in-process workers run on, and the factory of
// the built-in kinds (docs/workers.md). The thread pool is created when the
// first worker starts — at start-up or by a reload that adds one — so a
// tree without workers has no extra thread.
#pragma once

#include <memory>

#include "runtime/scheduler.hpp"
#include "supervise/worker_starter.hpp"
#include "workers/loop_services.hpp"

namespace otpd::workers {

// Two threads: workers are small and the machine's cores belong to the
// supervised programs.
inline constexpr unsigned kDefaultWorkerThreads = 2;

class WorkerPool final : public supervise::WorkerStarter {
 public:
  // `services` is what workers ask of the loop; without it, kinds that
  // need it (health_check) fail to start.
  explicit WorkerPool(LoopServices* services, unsigned threads = kDefaultWorkerThreads)
      : services_(services), threads_(threads) {}
  // Joins the pool's threads; workers still running are dropped without
  // their terminate hooks (stop the tree first).
  ~WorkerPool() override;

  runtime::Pid start(const std::string& path, const config::WorkerSpec& spec,
                     std::function<void(runtime::ExitReason)> ended, std::string& error) override;

  // Whether the pool's threads exist yet.
  bool started() const { return scheduler_ != nullptr; }

 private:
  runtime::Scheduler& scheduler();

  LoopServices* services_;
  unsigned threads_;
  std::unique_ptr<runtime::Scheduler> scheduler_;
};

}  // namespace otpd::workers

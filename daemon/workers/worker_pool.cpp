#include "workers/worker_pool.hpp"

#include "workers/agent.hpp"

namespace otpd::workers {

WorkerPool::~WorkerPool() = default;

runtime::Scheduler& WorkerPool::scheduler() {
  if (!scheduler_) scheduler_ = std::make_unique<runtime::Scheduler>(threads_);
  return *scheduler_;
}

runtime::Pid WorkerPool::start(const std::string& path, const config::WorkerSpec& spec,
                               std::function<void(runtime::ExitReason)> ended, std::string& error) {
  (void)path;
  if (const auto* agent = std::get_if<config::AgentSettings>(&spec.settings)) {
    return runtime::start<Agent>(scheduler(), std::move(ended), *agent).pid();
  }
  error = std::string("no such worker kind here: ") + config::to_string(spec.kind());
  return {};
}

}  // namespace otpd::workers

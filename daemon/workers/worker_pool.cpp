#include "workers/worker_pool.hpp"

#include "workers/agent.hpp"
#include "workers/health_check.hpp"

namespace otpd::workers {

WorkerPool::~WorkerPool() = default;

runtime::Scheduler& WorkerPool::scheduler() {
  if (!scheduler_) scheduler_ = std::make_unique<runtime::Scheduler>(threads_);
  return *scheduler_;
}

runtime::Pid WorkerPool::start(const std::string& path, const config::WorkerSpec& spec,
                               std::function<void(runtime::ExitReason)> ended, std::string& error) {
  if (const auto* agent = std::get_if<config::AgentSettings>(&spec.settings)) {
    return runtime::start<Agent>(scheduler(), std::move(ended), *agent).pid();
  }
  if (const auto* check = std::get_if<config::HealthCheckSettings>(&spec.settings)) {
    if (services_ == nullptr) {
      error = "health checks need the loop's services, which this otpd lacks";
      return {};
    }
    // `guards` names a sibling: same parent, its own name.
    std::string guarded;
    if (!check->guards.empty()) {
      const auto slash = path.rfind('/');
      guarded =
          slash == std::string::npos ? check->guards : path.substr(0, slash + 1) + check->guards;
    }
    return runtime::start<HealthCheck>(scheduler(), std::move(ended), path, *check, *services_,
                                       std::move(guarded))
        .pid();
  }
  error = std::string("no such worker kind here: ") + config::to_string(spec.kind());
  return {};
}

}  // namespace otpd::workers

#include "workers/worker_pool.hpp"

#include "protocol/duration.hpp"
#include "workers/agent.hpp"
#include "workers/cron.hpp"
#include "workers/file_watch.hpp"
#include "workers/health_check.hpp"

namespace otpd::workers {
namespace {

// The path of the sibling `name` of the child at `path`: same parent.
std::string sibling_path(const std::string& path, const std::string& name) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? name : path.substr(0, slash + 1) + name;
}

}  // namespace

WorkerPool::~WorkerPool() = default;

runtime::Scheduler& WorkerPool::scheduler() {
  if (!scheduler_) {
    runtime::SlowHandlerPolicy slow;
    if (services_ != nullptr) {
      slow = {.limit = settings_.slow_handler,
              .report = [this](const runtime::SlowHandler& report) { report_slow(report); }};
    }
    scheduler_ =
        std::make_unique<runtime::Scheduler>(static_cast<unsigned>(settings_.threads), slow);
    names_ = std::make_unique<runtime::Registry>(*scheduler_, runtime::Registry::Keys::unique);
  }
  return *scheduler_;
}

runtime::Pid WorkerPool::whereis(const std::string& path) const {
  return names_ ? names_->whereis(path) : runtime::Pid();
}

supervise::WorkerStart WorkerPool::start(const std::string& path, const config::WorkerSpec& spec,
                                         std::function<void(runtime::ExitReason)> ended) {
  scheduler();
  // The engine starts a worker at a path only after the previous one there
  // has ended, so a holder left now is one whose removal is still on its
  // way: the new worker takes the name.
  if (runtime::Pid stale = names_->whereis(path)) names_->unregister(path, stale);
  // The name goes as the worker ends, before the engine hears of it.
  auto unregistering = [names = names_.get(), path,
                        ended = std::move(ended)](runtime::ExitReason reason) {
    if (runtime::Process::current() != nullptr) names->unregister_self(path);
    ended(std::move(reason));
  };
  supervise::WorkerStart started = start_kind(path, spec, std::move(unregistering));
  if (started.pid) names_->register_pid(path, started.pid);
  return started;
}

supervise::WorkerStart WorkerPool::start_kind(const std::string& path,
                                              const config::WorkerSpec& spec,
                                              std::function<void(runtime::ExitReason)> ended) {
  if (const auto* agent = std::get_if<config::AgentSettings>(&spec.settings)) {
    return {.pid = runtime::start<Agent>(scheduler(), std::move(ended), *agent).pid()};
  }
  if (const auto* check = std::get_if<config::HealthCheckSettings>(&spec.settings)) {
    if (services_ == nullptr) {
      return {.failure = "health checks need the loop's services, which this otpd lacks"};
    }
    std::string guarded = check->guards.empty() ? "" : sibling_path(path, check->guards);
    return {.pid = runtime::start<HealthCheck>(scheduler(), std::move(ended), path, *check,
                                               *services_, std::move(guarded))
                       .pid()};
  }
  if (const auto* cron = std::get_if<config::CronSettings>(&spec.settings)) {
    if (services_ == nullptr) {
      return {.failure = "cron jobs need the loop's services, which this otpd lacks"};
    }
    return {.pid =
                runtime::start<Cron>(scheduler(), std::move(ended), path, *cron, *services_).pid()};
  }
  if (const auto* watch = std::get_if<config::FileWatchSettings>(&spec.settings)) {
    if (services_ == nullptr) {
      return {.failure = "file watches need the loop's services, which this otpd lacks"};
    }
    return {.pid = runtime::start<FileWatch>(scheduler(), std::move(ended), path, *watch,
                                             *services_, sibling_path(path, watch->target))
                       .pid()};
  }
  return {.failure = std::string("no such worker kind here: ") + config::to_string(spec.kind())};
}

// On the worker's thread, right after the slow turn.
void WorkerPool::report_slow(const runtime::SlowHandler& slow) const {
  const std::vector<std::string> names =
      names_ ? names_->keys_of(slow.pid) : std::vector<std::string>{};
  const auto spent = std::chrono::duration_cast<config::Duration>(slow.spent);
  services_->emit(
      {.kind = supervise::EventKind::slow_handler,
       .path = names.empty() ? "process " + std::to_string(slow.process_id) : names.front(),
       .reason = "a handler held its thread for " + config::format_duration(spent) + " (limit " +
                 config::format_duration(settings_.slow_handler) + "; " + slow.type + ")"});
}

}  // namespace otpd::workers

#include "control/worker_states.hpp"

namespace otpd::control {
namespace {

std::string ms(std::optional<supervise::Duration> duration) {
  if (!duration) return {};
  return " in " + config::format_duration(*duration);
}

}  // namespace

void WorkerStates::observe(const supervise::Event& event, const std::string& time) {
  using supervise::EventKind;
  switch (event.kind) {
    case EventKind::health_failed:
      states_[event.path].health = "failing since " + time + ": " + event.reason;
      return;
    case EventKind::health_recovered:
      states_[event.path].health = "healthy again since " + time;
      return;
    case EventKind::unhealthy:
      states_[event.path].health = "unhealthy at " + time + ": " + event.reason;
      return;
    case EventKind::run_started:
      states_[event.path].cron = "running since " + time +
                                 (event.pid != 0 ? " (pid " + std::to_string(event.pid) + ")" : "");
      return;
    case EventKind::run_succeeded:
      states_[event.path].cron = "last run succeeded at " + time + ms(event.duration);
      return;
    case EventKind::run_failed:
      states_[event.path].cron = "last run failed at " + time + ms(event.duration) +
                                 (event.reason.empty() ? "" : ": " + event.reason);
      return;
    case EventKind::run_skipped:
      states_[event.path].cron =
          "last run skipped at " + time + (event.reason.empty() ? "" : ": " + event.reason);
      return;
    case EventKind::started:
      // A new incarnation of a health check has no failures yet.
      if (const auto found = states_.find(event.path); found != states_.end()) {
        found->second.health.clear();
      }
      return;
    case EventKind::removed:
      states_.erase(event.path);
      return;
    case EventKind::reloaded:
      for (const std::string& path : event.removed) states_.erase(path);
      return;
    default:
      return;
  }
}

void WorkerStates::annotate(supervise::NodeStatus& node) const {
  if (node.worker_kind == "health_check") {
    const auto found = states_.find(node.path);
    if (found != states_.end() && !found->second.health.empty()) {
      node.health = found->second.health;
    } else if (node.worker_id != 0) {
      node.health = "no failed probe";
    }
  } else if (node.worker_kind == "cron") {
    const auto found = states_.find(node.path);
    node.cron =
        found != states_.end() && !found->second.cron.empty() ? found->second.cron : "no run yet";
    if (node.worker_id != 0 && next_run) node.next_run_at_ms = next_run(node.path);
  }
  for (auto& child : node.children) annotate(child);
}

}  // namespace otpd::control

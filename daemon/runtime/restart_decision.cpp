#include "runtime/restart_decision.hpp"

#include <algorithm>

namespace otpd::runtime {
namespace {

using Action = RestartDecision::Action;

// Whether the child ends for good: a temporary one always, a transient one
// unless it failed.
bool ends_for_good(config::RestartType restart, config::ExitKind exit) {
  switch (restart) {
    case config::RestartType::temporary:
      return true;
    case config::RestartType::transient:
      return exit != config::ExitKind::abnormal;
    case config::RestartType::permanent:
      return false;
  }
  return false;
}

// Who goes down with the failed child and who comes back, by strategy. As
// in OTP, temporary siblings stopped for a group restart are not restarted.
RestartDecision plan_restart(config::Strategy strategy, std::span<const ChildFacts> children,
                             std::uint64_t failed) {
  RestartDecision plan{.action = Action::restart};
  const auto failed_at = std::find_if(children.begin(), children.end(),
                                      [&](const ChildFacts& c) { return c.id == failed; });
  if (failed_at == children.end()) {
    plan.start.push_back(failed);
    return plan;
  }
  // The siblings that go down with it: none, all, or those started after it.
  auto first_affected = children.end();
  if (strategy == config::Strategy::one_for_all) first_affected = children.begin();
  if (strategy == config::Strategy::rest_for_one) first_affected = failed_at;
  for (auto it = children.end(); it != first_affected;) {
    --it;
    if (it == failed_at) continue;
    plan.stop.push_back(it->id);
    if (it->restart == config::RestartType::temporary) plan.drop.push_back(it->id);
  }
  if (first_affected == children.end()) {
    plan.start.push_back(failed);
    return plan;
  }
  for (auto it = first_affected; it != children.end(); ++it) {
    if (std::find(plan.drop.begin(), plan.drop.end(), it->id) == plan.drop.end()) {
      plan.start.push_back(it->id);
    }
  }
  return plan;
}

bool window_full(const RestartWindow& window, RestartWindow::TimePoint now) {
  return window.used(now) >= window.intensity();
}

}  // namespace

RestartDecision decide_exit(config::Strategy strategy, std::span<const ChildFacts> children,
                            std::uint64_t failed, config::ExitKind exit,
                            const RestartWindow& window, RestartWindow::TimePoint now) {
  const auto child = std::find_if(children.begin(), children.end(),
                                  [&](const ChildFacts& c) { return c.id == failed; });
  if (child != children.end() && ends_for_good(child->restart, exit)) {
    // A transient child that completed keeps its place, unless a dynamic
    // supervisor added it; a temporary one never comes back.
    const bool keep = child->restart == config::RestartType::transient && !child->dynamic;
    return {.action = keep ? Action::keep_stopped : Action::remove};
  }
  return decide_retry(strategy, children, failed, window, now);
}

RestartDecision decide_retry(config::Strategy strategy, std::span<const ChildFacts> children,
                             std::uint64_t failed, const RestartWindow& window,
                             RestartWindow::TimePoint now) {
  if (window_full(window, now)) return {.action = Action::give_up};
  return plan_restart(strategy, children, failed);
}

}  // namespace otpd::runtime

#include "supervise/tree_health.hpp"

#include "supervise/tree.hpp"

namespace otpd::supervise {
namespace {

constexpr std::size_t kMaxNamed = 10;  // in `reason`; `waiting` has them all

}  // namespace

void ReadinessWalk::supervisor(const SupervisorGlance& supervisor) {
  if (root_seen_) return;
  root_seen_ = true;
  root_running_ = supervisor.running;
}

void ReadinessWalk::child(const ChildGlance& child) {
  if (child.gates_readiness && child.state != "running") {
    waiting_.push_back({std::string(child.path), std::string(child.state)});
  }
}

TreeReadiness ReadinessWalk::judge(const TreePhase& phase) {
  TreeReadiness out;
  if (phase.stopping || !root_running_) {
    out.reason = "the tree is stopping";
    return out;
  }
  if (!phase.started) {
    out.reason = "the tree is starting";
    return out;
  }
  out.waiting = std::move(waiting_);
  if (out.waiting.empty()) {
    out.ready = true;
    return out;
  }
  out.reason = "waiting for";
  for (std::size_t i = 0; i < out.waiting.size() && i < kMaxNamed; ++i) {
    out.reason += (i == 0 ? " " : ", ") + out.waiting[i].path + " (" + out.waiting[i].state + ")";
  }
  if (out.waiting.size() > kMaxNamed) {
    out.reason += " and " + std::to_string(out.waiting.size() - kMaxNamed) + " more";
  }
  return out;
}

TreeReadiness readiness_of(const TreePhase& phase, const std::optional<NodeStatus>& root) {
  ReadinessWalk walked;
  if (root) walk_status(*root, walked);
  return walked.judge(phase);
}

TreeReadiness readiness_of(const TreePhase& phase, const Tree& tree) {
  ReadinessWalk walked;
  tree.walk(walked);
  return walked.judge(phase);
}

}  // namespace otpd::supervise

#include "supervise/tree_health.hpp"

namespace otpd::supervise {
namespace {

constexpr std::size_t kMaxNamed = 10;  // in `reason`; `waiting` has them all

void collect(const NodeStatus& node, std::vector<Waiting>& waiting) {
  for (const NodeStatus& child : node.children) {
    const bool gates = child.significant || !child.ready.empty();
    if (gates && child.state != "running") waiting.push_back({child.path, child.state});
    if (child.is_supervisor) collect(child, waiting);
  }
}

}  // namespace

TreeReadiness readiness_of(const TreePhase& phase, const std::optional<NodeStatus>& root) {
  TreeReadiness out;
  if (phase.stopping || !root || root->state != "running") {
    out.reason = "the tree is stopping";
    return out;
  }
  if (!phase.started) {
    out.reason = "the tree is starting";
    return out;
  }
  collect(*root, out.waiting);
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

}  // namespace otpd::supervise

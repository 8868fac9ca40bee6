// Whether the tree is ready, as a readiness probe and `otpctl health` ask:
// it has started, it is not stopping, and every child that the tree's
// readiness hangs on runs (docs/http.md, "Probes").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "supervise/status.hpp"
#include "supervise/tree_walk.hpp"

namespace otpd::supervise {

// Where the daemon is in its life, which the tree alone does not say.
struct TreePhase {
  bool started = false;   // the first start completed
  bool stopping = false;  // a shutdown has begun, or the root gave up
};

struct Waiting {
  std::string path;
  std::string state;
};

struct TreeReadiness {
  bool ready = false;
  std::string reason;            // why not, for people; empty when ready
  std::vector<Waiting> waiting;  // significant or ready-gated children not running
};

// Significant children and children with `ready:` must run; a child's
// start waits for its readiness, so running means ready for those.
TreeReadiness readiness_of(const TreePhase& phase, const std::optional<NodeStatus>& root);
// The same, from a walk over the tree (Tree::walk), which copies nothing.
class Tree;
TreeReadiness readiness_of(const TreePhase& phase, const Tree& tree);

// What readiness_of gathers, as a visitor of a walk made for something
// else too (BothVisitors): /metrics reads the tree once.
class ReadinessWalk final : public TreeVisitor {
 public:
  void supervisor(const SupervisorGlance& supervisor) override;
  void child(const ChildGlance& child) override;
  // After the walk.
  TreeReadiness judge(const TreePhase& phase);

 private:
  bool root_seen_ = false;
  bool root_running_ = false;
  std::vector<Waiting> waiting_;
};

}  // namespace otpd::supervise

#include "supervise/tree_walk.hpp"

namespace otpd::supervise {

void walk_status(const NodeStatus& root, TreeVisitor& visitor) {
  visitor.supervisor({.path = root.path,
                      .running = root.state == "running",
                      .intensity = root.intensity,
                      .intensity_used = root.intensity_used,
                      .period = root.period,
                      .children = root.children.size()});
  for (const NodeStatus& child : root.children) {
    ChildGlance glance{
        .path = child.path, .supervisor = root.path, .state = child.state, .held = child.held};
    if (child.is_supervisor) {
      glance.kind = ChildGlance::Kind::supervisor;
      glance.up = child.state == "running";
    } else if (!child.worker_kind.empty()) {
      glance.kind = ChildGlance::Kind::worker;
      glance.up = child.worker_id != 0;
    } else {
      glance.up = child.pid != 0;
    }
    glance.gates_readiness = child.significant || !child.ready.empty();
    glance.restarts = child.restarts;
    if (child.last_exit && child.last_exit->status) glance.last_exit = &*child.last_exit->status;
    glance.since_exit = child.since_exit;
    if (glance.up && !child.is_supervisor) glance.uptime = child.uptime;
    glance.restart_in = child.restart_in;
    visitor.child(glance);
    if (child.is_supervisor) walk_status(child, visitor);
  }
}

}  // namespace otpd::supervise

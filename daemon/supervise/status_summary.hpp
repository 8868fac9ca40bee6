// One line that says how a tree is doing, for a service manager's STATUS=
// ("12 processes: 11 running, 1 backoff"; "2 processes, 1 worker: 3
// running" with in-process workers): what `systemctl status` shows.
#pragma once

#include <map>
#include <string>

#include "supervise/status.hpp"
#include "supervise/tree_walk.hpp"

namespace otpd::supervise {

// How many processes and workers a tree has, and how many are in each state
// ("held" for those an operator stopped).
struct Census {
  int processes = 0;
  int workers = 0;
  std::map<std::string, int> states;
};

// Counts what a walk (Tree::walk, walk_status) shows.
class CensusTaker final : public TreeVisitor {
 public:
  void supervisor(const SupervisorGlance&) override {}
  void child(const ChildGlance& child) override;
  Census census;
};

Census census_of(const NodeStatus& root);
std::string summarize(const Census& census);
std::string summarize(const NodeStatus& root);

}  // namespace otpd::supervise

#include "supervise/status_summary.hpp"

#include <map>

namespace otpd::supervise {
namespace {

struct Counts {
  int processes = 0;
  int workers = 0;
};

void count_children(const NodeStatus& node, std::map<std::string, int>& states, Counts& counts) {
  for (const NodeStatus& child : node.children) {
    if (child.is_supervisor) {
      count_children(child, states, counts);
      continue;
    }
    ++(child.worker_kind.empty() ? counts.processes : counts.workers);
    ++states[child.held ? "held" : child.state];
  }
}

}  // namespace

std::string summarize(const NodeStatus& root) {
  std::map<std::string, int> states;
  Counts counts;
  count_children(root, states, counts);
  std::string line =
      std::to_string(counts.processes) + (counts.processes == 1 ? " process" : " processes");
  if (counts.workers > 0) {
    line += ", " + std::to_string(counts.workers) + (counts.workers == 1 ? " worker" : " workers");
  }
  // Running first: it is the state an operator hopes to see.
  std::string parts;
  auto add = [&parts](const std::string& state, int count) {
    parts += (parts.empty() ? ": " : ", ") + std::to_string(count) + " " + state;
  };
  if (const auto running = states.find("running"); running != states.end()) {
    add(running->first, running->second);
    states.erase(running);
  }
  for (const auto& [state, count] : states) add(state, count);
  return line + parts;
}

}  // namespace otpd::supervise

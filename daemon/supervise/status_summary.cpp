#include "supervise/status_summary.hpp"

namespace otpd::supervise {
void CensusTaker::child(const ChildGlance& child) {
  if (child.kind == ChildGlance::Kind::supervisor) return;
  ++(child.kind == ChildGlance::Kind::worker ? census.workers : census.processes);
  ++census.states[child.held ? "held" : std::string(child.state)];
}

Census census_of(const NodeStatus& root) {
  CensusTaker taker;
  walk_status(root, taker);
  return taker.census;
}

std::string summarize(const Census& census) {
  std::map<std::string, int> states = census.states;
  std::string line =
      std::to_string(census.processes) + (census.processes == 1 ? " process" : " processes");
  if (census.workers > 0) {
    line += ", " + std::to_string(census.workers) + (census.workers == 1 ? " worker" : " workers");
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

std::string summarize(const NodeStatus& root) {
  return summarize(census_of(root));
}

}  // namespace otpd::supervise

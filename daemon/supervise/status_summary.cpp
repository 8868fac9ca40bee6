#include "supervise/status_summary.hpp"

#include <map>

namespace otpd::supervise {
namespace {

void count_processes(const NodeStatus& node, std::map<std::string, int>& states, int& total) {
  for (const NodeStatus& child : node.children) {
    if (child.is_supervisor) {
      count_processes(child, states, total);
      continue;
    }
    ++total;
    ++states[child.held ? "held" : child.state];
  }
}

}  // namespace

std::string summarize(const NodeStatus& root) {
  std::map<std::string, int> states;
  int total = 0;
  count_processes(root, states, total);
  std::string line = std::to_string(total) + (total == 1 ? " process" : " processes");
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

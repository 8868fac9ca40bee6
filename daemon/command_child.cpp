#include "command_child.hpp"

#include <stdexcept>

namespace otpd {
namespace {

std::string place(const config::SourceLocation& where) {
  if (where.file.empty()) return "";
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": ";
}

}  // namespace

config::Config empty_tree() {
  config::Config config;
  // The root gives up, as any supervisor does, only on restarts; the one
  // child is never restarted, so only its end matters.
  config.tree.auto_shutdown = config::AutoShutdown::any_significant;
  return config;
}

void add_command_child(config::Config& config, const std::vector<std::string>& command,
                       const std::string& cwd) {
  auto& root = config.tree;
  for (const auto& child : root.children) {
    if (child.name == command_child_name) {
      throw std::runtime_error(place(child.where) + "the tree already has a child named '" +
                               command_child_name + "', the name of the command given after --");
    }
    if (child.significant) {
      throw std::runtime_error(place(child.where) + "'" + child.name +
                               "' is significant: with -- COMMAND the command is the tree's one "
                               "significant child, whose end is otpd's");
    }
  }
  if (root.auto_shutdown == config::AutoShutdown::all_significant) {
    throw std::runtime_error(
        "the tree's auto_shutdown is all_significant: with -- COMMAND the root shuts down "
        "when the command ends (any_significant)");
  }
  root.auto_shutdown = config::AutoShutdown::any_significant;

  config::ProcessSpec process;
  process.argv = command;
  process.cwd = cwd;
  process.output = config::Output::inherit;
  process.kill_mode = config::KillMode::process;

  config::ChildSpec child;
  child.name = command_child_name;
  child.restart = config::RestartType::temporary;
  child.significant = true;
  // As long as it takes: a container runtime or a service manager has its
  // own stop timeout and kills after it, and a second SIGTERM to otpd kills
  // at once.
  child.shutdown = config::Shutdown::infinity();
  child.body = std::move(process);
  root.children.push_back(std::move(child));
}

}  // namespace otpd

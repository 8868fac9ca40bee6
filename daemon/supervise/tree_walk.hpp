// A walk over every node of the tree that copies nothing: what /metrics and
// the readiness probe read from each node, at every scrape and every probe.
// Tree::status builds a whole NodeStatus tree (commands, names, strings)
// for people and JSON; for 10,000 children that costs more than a scrape
// may.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "supervise/exit_status.hpp"
#include "supervise/host.hpp"
#include "supervise/status.hpp"

namespace otpd::supervise {

class Tree;

struct SupervisorGlance {
  std::string_view path;  // "/" for the root
  bool running = false;
  int intensity = 0;
  int intensity_used = 0;
  Duration period{0};
  std::size_t children = 0;
};

struct ChildGlance {
  enum class Kind { process, worker, supervisor };
  std::string_view path;
  std::string_view supervisor;  // its supervisor's path
  Kind kind = Kind::process;
  std::string_view state;  // a ChildState's name
  bool held = false;       // stopped by an operator
  // A process has a pid, a worker runs, a supervisor runs.
  bool up = false;
  // Significant, or started only once ready: the tree's readiness waits for it.
  bool gates_readiness = false;
  int restarts = 0;
  const ExitStatus* last_exit = nullptr;  // of its last exit, when it had one
  std::optional<Duration> since_exit{};   // how long ago it last exited
  std::optional<Duration> uptime{};       // while it is up (not for a supervisor)
  std::optional<Duration> restart_in{};   // while a backoff delays its restart
  // A worker that is up: the messages it has handled since it started,
  // and those waiting in its mailbox.
  std::uint64_t messages_handled = 0;
  std::uint64_t mailbox_length = 0;
};

// Called for each supervisor, then for each of its children in order, a
// child supervisor's own children right after it.
class TreeVisitor {
 public:
  virtual ~TreeVisitor() = default;
  virtual void supervisor(const SupervisorGlance& supervisor) = 0;
  virtual void child(const ChildGlance& child) = 0;
};

// Hands each node to two visitors, for two readings in one walk.
class BothVisitors final : public TreeVisitor {
 public:
  BothVisitors(TreeVisitor& first, TreeVisitor& second) : first_(first), second_(second) {}
  void supervisor(const SupervisorGlance& supervisor) override {
    first_.supervisor(supervisor);
    second_.supervisor(supervisor);
  }
  void child(const ChildGlance& child) override {
    first_.child(child);
    second_.child(child);
  }

 private:
  TreeVisitor& first_;
  TreeVisitor& second_;
};

// The same walk over a status snapshot, for what has one (tests, a tree
// read from elsewhere).
void walk_status(const NodeStatus& root, TreeVisitor& visitor);

}  // namespace otpd::supervise

// A supervision tree on the hand-driven clock, and the specs tests build it
// from: what every engine test file starts with.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fake_host.hpp"
#include "supervise/tree.hpp"

namespace otpd::test {

using Lines = std::vector<std::string>;

// A process child running {name}, stopped with SIGTERM then SIGKILL after 5 s.
config::ChildSpec process_child(
    const std::string& name, config::RestartType restart = config::RestartType::permanent,
    config::Shutdown shutdown = config::Shutdown::after(std::chrono::seconds(5)));
config::SupervisorSpec supervisor_spec(config::Strategy strategy,
                                       std::vector<config::ChildSpec> children, int intensity = 3,
                                       config::Duration period = std::chrono::seconds(5));
config::ChildSpec supervisor_child(const std::string& name, config::SupervisorSpec spec,
                                   config::RestartType restart = config::RestartType::permanent);
config::Config config_of(config::SupervisorSpec tree);

// The process spec inside a process child, to adjust it.
inline config::ProcessSpec& process_of(config::ChildSpec& child) {
  return std::get<config::ProcessSpec>(child.body);
}

// An answer of the engine to a request, as a test keeps it: whether it
// came, and the failure it carried.
struct Answer {
  bool came = false;
  supervise::Failure failure;

  bool succeeded() const { return came && !failure; }
  // The callback that keeps it; the answer must outlive the request.
  supervise::Resume<supervise::Failure> keep() {
    return [this](supervise::Failure answer) {
      came = true;
      failure = std::move(answer);
    };
  }
};

struct EngineWorld {
  FakeHost host;
  FakeProcesses procs{host};
  RecordingSink sink;
  std::unique_ptr<supervise::Tree> tree;
  Answer start_result;
  // Why the root ended on its own (gave up, or auto_shutdown), if it did.
  std::optional<supervise::ChildExit> gave_up;
  bool stopped = false;

  // `workers` starts the tree's in-process workers, when it has any.
  explicit EngineWorld(config::SupervisorSpec root, supervise::WorkerStarter* workers = nullptr);
  EngineWorld(const EngineWorld&) = delete;
  EngineWorld& operator=(const EngineWorld&) = delete;
  // Stops what still runs, giving it up to 100 s of fake time.
  ~EngineWorld();

  EngineWorld& boot();
  void shutdown();
  // Everything the processes saw since the last call.
  Lines take_history() { return std::exchange(procs.history, {}); }
  std::string state(const std::string& path) const { return tree->status(path)->state; }
  // The latest event of a kind for a path.
  const supervise::Event* last(supervise::EventKind kind, const std::string& path) const;
};

}  // namespace otpd::test

// The supervisor engine as a runtime process: a root supervisor of the
// engine whose children a program starts with code, each by a start
// function run on this process's thread (linked to it, as OTP's
// start_link), and whose ends reach it as exit messages, since it traps
// exits. This is what the runtime's Supervisor is to become a face of
// (docs/design.md, "Rooms"); nested supervisors of the spec run in the
// same process.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/spec.hpp"
#include "runtime/exit_reason.hpp"
#include "runtime/process.hpp"
#include "supervise/event.hpp"
#include "supervise/runtime_host.hpp"
#include "supervise/supervisor.hpp"
#include "supervise/worker_starter.hpp"

namespace otpd::supervise {

// Starts a child and returns its pid, linked to the running process; an
// empty pid or a throw is a failed start.
using CodeStart = std::function<runtime::Pid()>;

// The spec of a child started by code, for an EngineProcess's spec and
// add_child: a worker without worker settings of its own, so that a great
// many children share the one default instead of a copy each.
config::ChildSpec code_child(std::string name,
                             config::RestartType restart = config::RestartType::permanent);

class EngineProcess : public runtime::Process, private WorkerStarter, private EventSink {
 public:
  // `spec`'s worker children are started by `starts`, by their path in the
  // tree ("db", "cache/shard1"); `events` hears every change, on this
  // process's thread.
  EngineProcess(config::SupervisorSpec spec, std::unordered_map<std::string, CodeStart> starts,
                EventSink& events);

  // Any thread, while it runs: stops the children, last first, and ends the
  // process with `reason`, as OTP's supervisor does when its parent ends.
  void shut_down_soon(runtime::ExitReason reason);

  // From this process's thread, for a dynamic root (spec.dynamic): adds a
  // child named `name`, started by `start` (a code_child); `done` as
  // Supervisor::add_child.
  void add_child(std::string name, CodeStart start, Resume<Failure> done,
                 config::RestartType restart = config::RestartType::permanent);

  // For handlers of this process (a request): the root supervisor.
  Supervisor& root() { return *root_; }
  RuntimeHost& host() { return host_; }

 protected:
  void on_start() override;
  void on_exit_message(const runtime::Pid& from, const runtime::ExitReason& reason) override;
  void on_ended(const runtime::ExitReason& reason) override;

 private:
  WorkerStart start(const std::string& path, const config::WorkerSpec& spec,
                    std::function<void(runtime::ExitReason)> ended) override;
  const std::shared_ptr<const config::ChildSpec>& shape_of(config::RestartType restart);
  // Where the end of `child` goes, as its exit message arrives.
  void route_end(const runtime::Process* child, std::function<void(runtime::ExitReason)> ended);
  // Passes on what its sink hears; a child removed for good takes its start
  // along.
  void emit(const Event& event) override;
  bool hears(EventKind kind) const override;
  // Stops the children and ends the process with `reason`.
  void shut_down(runtime::ExitReason reason);

  RuntimeHost host_;
  class NoProcesses final : public ProcessControl {
   public:
    SpawnResult spawn(const std::string&, const config::ProcessSpec&,
                      std::function<void(ExitStatus)>) override {
      return {.failure = "a supervisor in a program starts no OS processes"};
    }
    void signal_group(int, int) override {}
    void signal_process(int, int) override {}
  } no_processes_;
  Context context_;
  std::shared_ptr<const config::SupervisorSpec> spec_;
  std::unordered_map<std::string, CodeStart> starts_;
  // The specs of run-time children, by restart type, made when first used.
  std::array<std::shared_ptr<const config::ChildSpec>, 3> shapes_;
  // The running children, by their process: where an exit message goes.
  using Routes =
      std::unordered_map<const runtime::Process*, std::function<void(runtime::ExitReason)>>;
  Routes ended_;
  // A few entries of ended children, reused by the next starts: a restart
  // then allocates no entry.
  std::vector<Routes::node_type> spare_routes_;
  EventSink& events_;
  std::unique_ptr<Supervisor> root_;
  bool shutting_down_ = false;
};

}  // namespace otpd::supervise

// Elixir's DynamicSupervisor for in-process workers: starts with no
// children, which are added at run time with start_child and found by
// their Pid. One strategy, one_for_one; children are stopped all at once
// when it ends. It is built to hold many children: about 150 bytes of
// bookkeeping each, on top of the worker itself.
//
//   auto runners = DynamicSupervisor::start(scheduler, {.max_children = 100});
//   Pid runner = runners.start_child({.start = [] { return start_link<Runner>().pid(); },
//                                     .restart = RestartType::temporary}).wait();
//   co_await runners.terminate_child(runner);   // from a handler
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "runtime/child_spec.hpp"
#include "runtime/request.hpp"
#include "runtime/supervisor_core.hpp"

namespace otpd::runtime {

struct DynamicSupervisorOptions {
  // start_child fails with max_children once this many are running.
  std::optional<std::size_t> max_children = {};
  // More than max_restarts restarts within max_seconds and the supervisor
  // stops its children and ends with `shutdown`; 3 in 5 s unless set.
  int max_restarts = config::kDefaultIntensity;
  std::chrono::milliseconds max_seconds = config::kDefaultPeriod;
  ReportHandler on_report = {};
};

class DynamicSupervisor : public SupervisorHandle {
 public:
  using SupervisorHandle::SupervisorHandle;

  // From a handler: started linked to the running process, on its thread.
  static DynamicSupervisor start_link(DynamicSupervisorOptions options = {});
  // From a thread outside the runtime.
  static DynamicSupervisor start(Scheduler& scheduler, DynamicSupervisorOptions options = {});
  // A spec that starts one under a Supervisor.
  static ChildSpec child_spec(std::string name, DynamicSupervisorOptions options = {});

  // Starts a child (its name is not needed and not kept). An empty Pid is
  // the start function's `ignore`. Fails with max_children, invalid_spec or
  // start_failed.
  Request<Pid> start_child(ChildSpec spec) const;
  // Stops a child by its shutdown policy and forgets it; fails with not_found.
  Request<void> terminate_child(Pid child) const;
};

}  // namespace otpd::runtime

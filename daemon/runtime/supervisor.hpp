// OTP's supervisor for in-process workers. A supervisor is itself a process
// on the runtime's threads; its children are started in order, linked to
// it, on its thread, and stopped in reverse order.
//
//   Supervisor sup = Supervisor::start(scheduler, {.strategy = Strategy::rest_for_one},
//       {{.name = "db", .start = [] { return start_link<Db>().pid(); }},
//        {.name = "cache", .start = [] { return start_link<Cache>().pid(); }}});
//   sup.which_children().wait();                      // from outside the runtime
//   Pid pid = co_await sup.restart_child("cache");     // from a handler
//
// Strategies, restart types, shutdown and intensity behave as in OTP (see
// docs/runtime.md, "Supervisors"). Every request is a Request<R>: co_await
// it in a handler, or wait() for it from a thread outside the runtime; an
// error is thrown as SupervisorError.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "runtime/child_spec.hpp"
#include "runtime/request.hpp"
#include "runtime/supervisor_core.hpp"

namespace otpd::runtime {

struct SupervisorFlags {
  Strategy strategy = Strategy::one_for_one;
  // More than `intensity` restarts within `period` and the supervisor stops
  // its children and ends with `shutdown`; 3 in 5 s unless set, as every
  // supervisor in otpd (config/supervision_terms.hpp).
  int intensity = config::kDefaultIntensity;
  std::chrono::milliseconds period = config::kDefaultPeriod;
  ReportHandler on_report = {};
};

class Supervisor : public SupervisorHandle {
 public:
  using SupervisorHandle::SupervisorHandle;

  // From a handler (a parent supervisor's start function): starts the
  // supervisor linked to the running process, and its children, on this
  // thread. Throws StartError when a child fails to start, once the
  // children already started have been stopped, last first, and have ended.
  static Supervisor start_link(SupervisorFlags flags, std::vector<ChildSpec> children);
  // From a thread outside the runtime: the same, unlinked, waiting for the
  // children to have started.
  static Supervisor start(Scheduler& scheduler, SupervisorFlags flags,
                          std::vector<ChildSpec> children);
  // A spec that starts a nested supervisor (type supervisor, shutdown
  // infinity unless set otherwise afterwards).
  static ChildSpec child_spec(std::string name, SupervisorFlags flags,
                              std::vector<ChildSpec> children);

  // Adds a child and starts it. Fails with already_started, already_present,
  // invalid_spec or start_failed (the spec is then not kept).
  Request<Pid> start_child(ChildSpec spec) const;
  // Stops a child by its shutdown policy; its spec stays (unless temporary).
  Request<void> terminate_child(std::string name) const;
  // Starts a stopped child again; fails with running or not_found.
  Request<Pid> restart_child(std::string name) const;
  // Forgets a stopped child; fails with running or not_found.
  Request<void> delete_child(std::string name) const;
};

}  // namespace otpd::runtime

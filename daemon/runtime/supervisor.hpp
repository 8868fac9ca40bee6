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

enum class Strategy : std::uint8_t {
  one_for_one,   // restart the child that ended
  one_for_all,   // stop all the others (in reverse order), then start all again
  rest_for_one,  // stop those started after it (in reverse order), then start them again
};

struct SupervisorFlags {
  Strategy strategy = Strategy::one_for_one;
  // More than `intensity` restarts within `period` and the supervisor stops
  // its children and ends with `shutdown`. The defaults, 3 in 5 s, are
  // Elixir's Supervisor's and otpd's own supervisors' (config/spec.hpp);
  // Erlang's supervisor module defaults to 1 in 5 s.
  int intensity = 3;
  std::chrono::milliseconds period = std::chrono::seconds(5);
  ReportHandler on_report = {};
};

class Supervisor {
 public:
  Supervisor() = default;
  explicit Supervisor(Pid pid) : pid_(std::move(pid)) {}

  // From a handler (a parent supervisor's start function): starts the
  // supervisor linked to the running process, and its children, on this
  // thread. Throws StartError when a child fails to start; the children
  // already started are then sent `shutdown`.
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
  // Every child, in start order.
  Request<std::vector<ChildInfo>> which_children() const;
  Request<ChildCounts> count_children() const;
  // Stops the children in reverse order and ends the supervisor with
  // `reason`; the reply comes once the children have stopped.
  Request<void> stop(ExitReason reason = ExitReason::shutdown()) const;

  const Pid& pid() const { return pid_; }
  explicit operator bool() const { return static_cast<bool>(pid_); }

 private:
  Pid pid_;
};

}  // namespace otpd::runtime

// What a supervisor needs to know about a child (OTP's child spec), and
// start_link, which a child's start function uses to start it.
//
//   ChildSpec spec{.name = "cache",
//                  .start = [] { return start_link<Cache>(1000).pid(); },
//                  .restart = RestartType::permanent};
//
// The start function runs in the supervisor's handler, on its thread: the
// child is linked to the supervisor and its init() has run when it returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "config/supervision_terms.hpp"
#include "runtime/gen_server.hpp"
#include "runtime/process.hpp"
#include "runtime/scheduler.hpp"

namespace otpd::runtime {

// The supervisor's words are the config's (config/supervision_terms.hpp):
// one strategy, one restart type, one shutdown spec for every supervisor.
// A shutdown's "ask to stop" is the exit signal `shutdown` and its kill is
// `killed`, which ends the child at its next message boundary (see
// docs/runtime.md, "Supervisors").
using config::RestartType;
using config::Shutdown;
using config::Strategy;

enum class ChildType : std::uint8_t { worker, supervisor };

// Starts the child, linked to the calling supervisor (start_link<T>), and
// returns its Pid. An empty Pid is OTP's `ignore`: nothing started, which
// is not an error. Throws when the child could not start (StartError
// carries the reason its init failed with).
using StartFunction = std::function<Pid()>;

struct ChildSpec {
  std::string name = {};  // unique among a supervisor's children
  StartFunction start = {};
  RestartType restart = RestartType::permanent;
  // Unset: 5 s for a worker, infinity for a supervisor, as in OTP.
  std::optional<Shutdown> shutdown = {};
  ChildType type = ChildType::worker;

  Shutdown shutdown_or_default() const {
    if (shutdown) return *shutdown;
    return type == ChildType::supervisor ? Shutdown::infinity() : Shutdown{};
  }
};

// A start that failed: the child's init threw or stopped.
class StartError : public std::runtime_error {
 public:
  explicit StartError(ExitReason reason)
      : std::runtime_error(reason.text()), reason_(std::move(reason)) {}
  const ExitReason& reason() const { return reason_; }

 private:
  ExitReason reason_;
};

// OTP's start_link, from a handler (a supervisor's start function): builds
// T(args...), links it to the running process and runs its init() now, on
// this thread. Throws StartError when init fails.
template <typename T, typename... Args>
Server<T> start_link(Args&&... args) {
  Process* const parent = Process::current();
  if (parent == nullptr) throw std::logic_error("start_link outside a process: use start()");
  auto* child = new T(std::forward<Args>(args)...);
  Server<T> handle(child->self());
  if (auto failed = parent->scheduler().start_link(*child)) throw StartError(std::move(*failed));
  return handle;
}

}  // namespace otpd::runtime

// What a supervisor does about a child's exit, decided without doing it:
// a function of the strategy, the children, the exit and the restart
// window at this moment. Every supervisor in otpd decides here: the tree's
// (supervise/supervisor.cpp), whose jobs carry the decision out on the
// event loop, and the runtime's Supervisor and DynamicSupervisor, which
// carry it out on their own thread. The rules of OTP's supervisor live
// here, where a table of cases tests them
// (tests/unit/test_restart_decision.cpp).
#pragma once

#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <span>

#include "config/supervision_terms.hpp"
#include "runtime/restart_window.hpp"

namespace otpd::runtime {

// What the decision needs to know of a child, in start order.
struct ChildFacts {
  std::uint64_t id = 0;
  config::RestartType restart = config::RestartType::permanent;
  // Added at run time to a dynamic supervisor: one that ends for good is
  // removed rather than kept stopped.
  bool dynamic = false;
};

// Children by id. A lone child's restart, the commonest decision by far,
// names one child and keeps it inline: no allocation per restart.
using ChildIds = boost::container::small_vector<std::uint64_t, 1>;

struct RestartDecision {
  enum class Action {
    remove,        // the child ended for good and leaves the tree
    keep_stopped,  // the child ended for good and stays, stopped
    restart,       // stop `stop` in that order, drop `drop`, start `start` in that order
    give_up,       // one restart too many: stop everything and exit
  };
  Action action = Action::restart;
  ChildIds stop = {};   // siblings, the last started first
  ChildIds drop = {};   // stopped temporary siblings: removed, not restarted
  ChildIds start = {};  // the failed child and the siblings, in start order

  bool operator==(const RestartDecision&) const = default;
};

// A child's exit: `children` in start order, `failed` among them. A
// restart counts against `window` (which the caller then records).
RestartDecision decide_exit(config::Strategy strategy, std::span<const ChildFacts> children,
                            std::uint64_t failed, config::ExitKind exit,
                            const RestartWindow& window, RestartWindow::TimePoint now);

// A new attempt after a failed start during a restart: a restart whatever
// the child's restart type, counted as any.
RestartDecision decide_retry(config::Strategy strategy, std::span<const ChildFacts> children,
                             std::uint64_t failed, const RestartWindow& window,
                             RestartWindow::TimePoint now);

}  // namespace otpd::runtime

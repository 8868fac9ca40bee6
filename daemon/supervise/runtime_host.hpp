// The engine's Host on a runtime process: the supervisor engine runs as the
// handlers of that process, so that the runtime's supervisors can be the
// engine itself (docs/design.md). A timer is a message the process sends
// itself after the delay, on the runtime's clock (a test moves it by hand);
// a post from another thread is a message sent to it now. Either runs on
// the process's thread, between two of its other messages, as everything
// the engine does must.
#pragma once

#include <deque>
#include <functional>
#include <memory>

#include "runtime/process.hpp"
#include "supervise/host.hpp"

namespace otpd::supervise {

class RuntimeHost final : public Host {
 public:
  // `process` owns the host and outlives the engine on it.
  explicit RuntimeHost(runtime::Process& process) : process_(process) {}

  TimePoint now() const override;
  // From the process's own thread, as the engine runs there.
  [[nodiscard]] std::unique_ptr<TimerHandle> start_timer(Duration delay,
                                                         std::function<void()> fn) override;
  // Any thread, while the process has not ended (a thread outside holds its
  // Pid). Dropped with the process's other messages once it has ended. A
  // post from the process's own thread (the engine's own next step) is no
  // message: it waits in a queue of the host that runs before the next
  // message, without the mailbox's atomics and the scheduler's round.
  void post(std::function<void()> fn) override;
  // On the process's own thread (an exit message it handles).
  bool reports_here() const override;

  // Runs what the process's own thread posted, until nothing is left; from
  // that thread (a start that must be over before its handler returns).
  void run_posted();

 private:
  struct RunPosted;

  runtime::Process& process_;
  std::deque<std::function<void()>> posted_;
  bool run_pending_ = false;  // a RunPosted is on its way
};

}  // namespace otpd::supervise

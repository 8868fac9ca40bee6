// Where the runtime reads the time, as the engine reads it from its Host
// (daemon/supervise/host.hpp): the system's steady clock by default, or a
// clock that a test moves by hand, so that call timeouts, idle timeouts,
// shutdown timeouts, timers and restart intensity are tested without
// waiting for them. A blocking wait of a thread outside the runtime
// (call_blocking, Request::wait, await_blocking) keeps to the system clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace otpd::runtime {

class TimeSource {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~TimeSource() = default;
  virtual TimePoint now() const = 0;
  // `moved` is run, on the mover's thread, each time the clock is moved on;
  // the scheduler that reads the clock then runs the timers now due before
  // the move returns. The id is for unsubscribe.
  virtual std::uint64_t subscribe(std::function<void()> moved) = 0;
  virtual void unsubscribe(std::uint64_t id) = 0;
};

}  // namespace otpd::runtime

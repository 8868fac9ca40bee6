// Optional delay between restarts of one child, growing while it keeps
// failing and starting over once it has stayed up for `reset_after`.
#pragma once

#include <optional>

#include "config/spec.hpp"
#include "supervise/host.hpp"

namespace otpd::supervise {

class BackoffTracker {
 public:
  // The delay before the next restart of a child that last started at
  // `started_at` and needs restarting at `now`.
  Duration next_delay(const config::Backoff& policy, TimePoint started_at, TimePoint now);
  int consecutive() const { return consecutive_; }

 private:
  int consecutive_ = 0;
};

}  // namespace otpd::supervise

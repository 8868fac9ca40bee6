#include "supervise/backoff.hpp"

#include <algorithm>

namespace otpd::supervise {

Duration BackoffTracker::next_delay(const config::Backoff& policy, TimePoint started_at,
                                    TimePoint now) {
  if (now - started_at >= policy.reset_after) consecutive_ = 0;
  ++consecutive_;
  double delay_ms = static_cast<double>(policy.initial.count());
  const double max_ms = static_cast<double>(policy.max.count());
  for (int i = 1; i < consecutive_ && delay_ms < max_ms; ++i) delay_ms *= policy.factor;
  return Duration{static_cast<Duration::rep>(std::min(delay_ms, max_ms))};
}

}  // namespace otpd::supervise

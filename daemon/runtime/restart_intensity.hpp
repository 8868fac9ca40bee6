// OTP's restart intensity: more than `max` restarts within `period` and a
// supervisor gives up. A restart exactly `period` old still counts, as in
// OTP's supervisor.
#pragma once

#include <chrono>
#include <deque>

namespace otpd::runtime {

class RestartIntensity {
 public:
  using Clock = std::chrono::steady_clock;

  RestartIntensity(int max, std::chrono::milliseconds period) : max_(max), period_(period) {}

  // Records a restart at `now`; false when it is one too many.
  bool add(Clock::time_point now) {
    while (!restarts_.empty() && restarts_.front() < now - period_) restarts_.pop_front();
    restarts_.push_back(now);
    return static_cast<int>(restarts_.size()) <= max_;
  }

 private:
  int max_;
  std::chrono::milliseconds period_;
  std::deque<Clock::time_point> restarts_;  // oldest first
};

}  // namespace otpd::runtime

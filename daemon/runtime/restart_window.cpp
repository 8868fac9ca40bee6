#include "runtime/restart_window.hpp"

#include <algorithm>

namespace otpd::runtime {

// A restart exactly `period` old still counts, as in OTP's supervisor.
void RestartWindow::forget_before(TimePoint now) {
  const TimePoint threshold = now - period_;
  while (!restarts_.empty() && restarts_.front() < threshold) restarts_.pop_front();
}

bool RestartWindow::add(TimePoint now) {
  forget_before(now);
  restarts_.push_back(now);
  return static_cast<int>(restarts_.size()) <= intensity_;
}

int RestartWindow::used(TimePoint now) const {
  const TimePoint threshold = now - period_;
  return static_cast<int>(std::count_if(restarts_.begin(), restarts_.end(),
                                        [&](TimePoint t) { return t >= threshold; }));
}

}  // namespace otpd::runtime

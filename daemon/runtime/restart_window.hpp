// OTP's restart intensity: more than `intensity` restarts within `period`
// means the supervisor gives up. Shared by the supervisors of OS processes
// (daemon/supervise) and of in-process workers.
#pragma once

#include <chrono>
#include <deque>

namespace otpd::runtime {

class RestartWindow {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::milliseconds;

  RestartWindow(int intensity, Duration period) : intensity_(intensity), period_(period) {}

  // Records a restart at `now`. Returns false when it is one too many.
  bool add(TimePoint now);
  // Restarts that still count at `now`.
  int used(TimePoint now) const;
  int intensity() const { return intensity_; }
  Duration period() const { return period_; }
  void clear() { restarts_.clear(); }
  // New limits from a reload; the restarts already counted still count.
  void reconfigure(int intensity, Duration period) {
    intensity_ = intensity;
    period_ = period;
  }

 private:
  void forget_before(TimePoint now);

  int intensity_;
  Duration period_;
  std::deque<TimePoint> restarts_;  // oldest first
};

}  // namespace otpd::runtime

// Holds handlers or task functions on real threads until the test opens it,
// and tells the test who has arrived: a test waits on these events rather
// than sleeping. Every wait is bounded (5 s) so that a failing test ends.
#pragma once

#include <chrono>
#include <climits>
#include <condition_variable>
#include <mutex>

namespace otpd::test {

class Gate {
 public:
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  // Arrives, then waits until the gate opens or `together` have arrived;
  // false when neither came in time.
  bool arrive_and_wait(int together = INT_MAX) {
    std::unique_lock lock(mutex_);
    ++arrived_;
    changed_.notify_all();
    return changed_.wait_for(lock, kBound, [&] { return open_ || arrived_ >= together; });
  }
  // Waits until `count` have arrived.
  bool wait_arrived(int count = 1) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kBound, [&] { return arrived_ >= count; });
  }

 private:
  static constexpr std::chrono::seconds kBound{5};
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
  int arrived_ = 0;
};

}  // namespace otpd::test

// A clock for runtime tests that moves only when the test says so, as
// FakeHost's does for the engine: timeouts and timers are tested without
// waiting for them. advance() returns once the scheduler's threads have run
// the timers then due and given each process they woke a turn: what a timer
// makes a process do has been done (what that sends to other processes may
// still be on its way).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

#include "runtime/time_source.hpp"

namespace otpd::test {

class ManualTime final : public runtime::TimeSource {
 public:
  TimePoint now() const override { return TimePoint(std::chrono::nanoseconds(ns_.load())); }

  void advance(std::chrono::nanoseconds by) {
    std::lock_guard lock(mutex_);
    ns_ += by.count();
    for (auto& [id, moved] : subscribers_) moved();
  }

  std::uint64_t subscribe(std::function<void()> moved) override {
    std::lock_guard lock(mutex_);
    subscribers_.emplace(++last_id_, std::move(moved));
    return last_id_;
  }
  void unsubscribe(std::uint64_t id) override {
    std::lock_guard lock(mutex_);
    subscribers_.erase(id);
  }

 private:
  // Far from the clock's zero, which some code takes for "never".
  std::atomic<std::int64_t> ns_{std::chrono::nanoseconds(std::chrono::hours(1)).count()};
  std::mutex mutex_;
  std::uint64_t last_id_ = 0;
  std::map<std::uint64_t, std::function<void()>> subscribers_;
};

}  // namespace otpd::test

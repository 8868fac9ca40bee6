// The answer to a supervisor's request sent from the test's thread, waited
// for with a deadline: the request goes out at once (Request::then), so the
// test knows it is queued before it opens a gate or moves the clock, and a
// request that is never answered fails the test instead of hanging it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "runtime/request.hpp"

namespace otpd::test {

template <typename R>
class Answer {
 public:
  explicit Answer(runtime::Request<R> request) : state_(std::make_shared<State>()) {
    std::move(request).then([state = state_](runtime::Outcome<R> outcome) {
      std::lock_guard lock(state->mutex);
      state->outcome = std::move(outcome);
      state->changed.notify_all();
    });
  }

  // Whether the answer has come, after waiting up to `bound` for it;
  // rethrows what the request failed with.
  bool finished(std::chrono::milliseconds bound = std::chrono::seconds(5)) {
    std::unique_lock lock(state_->mutex);
    if (!state_->changed.wait_for(lock, bound, [&] { return state_->outcome.has_value(); })) {
      return false;
    }
    if (state_->outcome->error) std::rethrow_exception(state_->outcome->error);
    return true;
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    std::optional<runtime::Outcome<R>> outcome;
  };
  std::shared_ptr<State> state_;
};

}  // namespace otpd::test

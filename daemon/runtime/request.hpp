// A request to a supervisor: `co_await` it in a handler returning Async,
// or `.wait()` for it (or `.then(done)`) from a thread outside the runtime. Either way there is
// no timeout, as OTP's supervisor calls use `infinity`: stopping a child can
// legitimately take its whole shutdown time.
//
//   Pid pid = co_await supervisor.start_child(spec);   // in a handler
//   Pid pid = supervisor.start_child(spec).wait();     // from main()
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <utility>

#include "runtime/call.hpp"
#include "runtime/scheduler.hpp"

namespace otpd::runtime {

template <typename R>
class [[nodiscard]] Request {
 public:
  using Handler = typename CallEnvelope<R>::Handler;

  Request(Pid to, Handler handler) : to_(std::move(to)), handler_(std::move(handler)) {}

  CallAwaiter<R> operator co_await() && {
    return CallAwaiter<R>(std::move(to_), std::move(handler_), std::chrono::milliseconds::max());
  }

  // Sends the request now and returns: `done(outcome)` runs when it is
  // answered, on the supervisor's thread (or on this one, when the
  // supervisor is not running); it must hand the outcome on itself.
  template <typename Done>
  void then(Done done) && {
    to_.send(new CallEnvelope<R>(std::move(handler_),
                                 std::make_unique<CallbackReply<R>>(std::move(done))));
  }

  // Blocks this thread until the reply; never from a runtime thread, whose
  // processes could then not run. Throws what the request failed with.
  R wait() && {
    if (Scheduler::current_worker() != nullptr) {
      throw std::logic_error("Request::wait() on a runtime thread: co_await it instead");
    }
    auto promise = std::make_shared<std::promise<Outcome<R>>>();
    auto future = promise->get_future();
    std::move(*this).then(
        [promise](Outcome<R> outcome) { promise->set_value(std::move(outcome)); });
    Outcome<R> outcome = future.get();
    if constexpr (std::is_void_v<R>) {
      outcome.take();
    } else {
      return std::move(outcome.take());
    }
  }

 private:
  Pid to_;
  Handler handler_;
};

}  // namespace otpd::runtime

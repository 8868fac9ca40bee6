// The base of every built-in worker kind: a gen_server that tells the tree
// how it ended. The notice and the kind's cleanup run from the runtime's
// on_ended, which comes at every end after a successful init — a stop, an
// exception escaping a handler, and also the exit signals (`shutdown`,
// `killed`) that end a gen_server without its terminate, as in OTP — and a
// failed init is reported here, so the notice always comes once. A kind
// puts its init in begin() and its cleanup in cleanup().
#pragma once

#include <exception>
#include <functional>
#include <utility>

#include "runtime/gen_server.hpp"

namespace otpd::workers {

using Ended = std::function<void(runtime::ExitReason)>;

template <typename T>
class BuiltinWorker : public runtime::GenServer<T> {
 public:
  explicit BuiltinWorker(Ended ended) : ended_(std::move(ended)) {}

  // GenServer's hooks; kinds add theirs as begin() and cleanup().
  void init() {
    if constexpr (requires(T & t) { t.begin(); }) {
      try {
        static_cast<T&>(*this).begin();
      } catch (const std::exception& e) {
        // Nothing to clean up after a failed init: the notice goes now.
        if (ended_) std::exchange(ended_, nullptr)(runtime::ExitReason::error(e.what()));
        throw;
      } catch (...) {
        if (ended_) std::exchange(ended_, nullptr)(runtime::ExitReason::error("unknown exception"));
        throw;
      }
    }
    initialized_ = true;
  }

  // Not OTP's terminate, which an exit signal skips: the loop's services a
  // kind holds and the tree's notice must go whatever ended the worker.
  void on_ended(const runtime::ExitReason& reason) override {
    if (!initialized_) return;  // a failed init has told the tree already
    if constexpr (requires(T & t) { t.cleanup(); }) {
      try {
        static_cast<T&>(*this).cleanup();
      } catch (...) {
        // The worker ends with `reason` whatever its cleanup does.
      }
    }
    if (ended_) std::exchange(ended_, nullptr)(reason);
  }

 private:
  Ended ended_;
  bool initialized_ = false;
};

}  // namespace otpd::workers

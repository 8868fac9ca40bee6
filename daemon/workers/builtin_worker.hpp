// The base of every built-in worker kind: a gen_server that tells the tree
// how it ended. GenServer runs terminate() on every end after a successful
// init — a stop, an exit signal, an exception escaping a handler, `killed` —
// and a failed init is reported here, so the notice always comes once. A
// kind puts its init in begin() and its cleanup in cleanup().
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
        // The runtime runs no terminate after a failed init.
        if (ended_) std::exchange(ended_, nullptr)(runtime::ExitReason::error(e.what()));
        throw;
      } catch (...) {
        if (ended_) std::exchange(ended_, nullptr)(runtime::ExitReason::error("unknown exception"));
        throw;
      }
    }
  }

  void terminate(const runtime::ExitReason& reason) {
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
};

}  // namespace otpd::workers

// The base of every built-in worker kind: a gen_server that tells the tree
// how it ended. GenServer runs terminate() on every end — a stop, an exit
// signal, an exception escaping a handler, `killed` — so the notice always
// comes, after the kind's own cleanup() if it has one.
#pragma once

#include <functional>
#include <utility>

#include "runtime/gen_server.hpp"

namespace otpd::workers {

using Ended = std::function<void(runtime::ExitReason)>;

template <typename T>
class BuiltinWorker : public runtime::GenServer<T> {
 public:
  explicit BuiltinWorker(Ended ended) : ended_(std::move(ended)) {}

  // GenServer's hook; kinds add theirs as cleanup().
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

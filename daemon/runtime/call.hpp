// The plumbing of a synchronous call: the request travels as an envelope to
// the server, the reply travels back to whoever waits — a process suspended
// in a handler, or a thread outside the runtime — and a call that cannot be
// answered (the server ended, or the reply came too late) fails with a
// CallError rather than hanging or reaching the wrong caller.
#pragma once

#include <chrono>
#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>

#include "runtime/envelope.hpp"
#include "runtime/process.hpp"
#include "runtime/scheduler.hpp"

namespace otpd::runtime {

using namespace std::chrono_literals;

// OTP's default call timeout.
inline constexpr std::chrono::milliseconds kDefaultCallTimeout = 5s;

class CallError : public std::runtime_error {
 public:
  enum class Kind {
    timeout,  // no reply within the timeout; a later reply is dropped
    noproc,   // the server had ended when the call arrived
    ended,    // the server ended while handling the call
    failed,   // the handler threw; the server ended with that error
  };
  CallError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// An exception's what(), for an exit reason or a CallError that carries it.
std::string what_of(const std::exception_ptr& error);

// The process whose handler is running, for what acts on its behalf (links
// to it, registers it, makes it an owner); `what` names the function in the
// std::logic_error thrown on a thread outside the runtime.
Process& calling_process(const char* what);

// What a call produces: the handler's value (std::monostate for void) or
// the error that replaces it.
template <typename R>
using CallValue = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

template <typename R>
struct Outcome {
  std::optional<CallValue<R>> value;
  std::exception_ptr error;

  static Outcome failure(CallError::Kind kind, const std::string& what) {
    return {std::nullopt, std::make_exception_ptr(CallError(kind, what))};
  }
  CallValue<R> take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

// Where a reply goes. Exactly one reply is given: the first.
template <typename R>
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // Made by the caller, freed by the server's thread with its call: from
  // the envelope pool, as messages are, so that a call between threads
  // costs malloc no lock and no chunk carried from one thread's cache to
  // another's.
  static void* operator new(std::size_t size) { return allocate_envelope(size); }
  static void operator delete(void* block, std::size_t size) noexcept {
    free_envelope(block, size);
  }
  void reply(Outcome<R> outcome) {
    if (replied_) return;
    replied_ = true;
    deliver(std::move(outcome));
  }
  bool replied() const { return replied_; }

 protected:
  virtual void deliver(Outcome<R> outcome) = 0;

 private:
  bool replied_ = false;
};

// What runs a call on the server and gives the sink its reply.
template <typename R>
using CallHandler = std::function<void(Process&, std::unique_ptr<ReplySink<R>>&)>;

// A call on its way to the server. Dropped unhandled (the server had
// ended), it fails the call with noproc; a sink destroyed unanswered (the
// server ended in the middle of an Async handler) fails it with `ended`.
// `Fn` is the handler's own type where the caller knows it (a server's
// call): held in the envelope, it costs no allocation of its own, as a
// std::function holding more than two pointers does.
template <typename R, typename Fn = CallHandler<R>>
struct CallEnvelope final : Envelope {
  using Handler = Fn;
  CallEnvelope(Handler handler, std::unique_ptr<ReplySink<R>> sink)
      : handler(std::move(handler)), sink(std::move(sink)) {}
  ~CallEnvelope() override {
    if (sink && !delivered) {
      sink->reply(Outcome<R>::failure(CallError::Kind::noproc, "the server is not running"));
    }
  }
  void deliver(Process& server) override { handler(server, sink); }

  Handler handler;
  std::unique_ptr<ReplySink<R>> sink;
};

// --- a caller that is a process -----------------------------------------------

std::uint64_t next_call_id();

// Arrives in the caller's mailbox; matched to the call it waits for by id.
template <typename R>
struct ReplyEnvelope final : Envelope {
  ReplyEnvelope(unsigned long long id, Outcome<R> outcome, Outcome<R>* slot,
                std::coroutine_handle<> waiter)
      : id(id), outcome(std::move(outcome)), slot(slot), waiter(waiter) {}
  unsigned long long reply_to() const override { return id; }
  void deliver(Process& caller) override;

  unsigned long long id;
  Outcome<R> outcome;
  Outcome<R>* slot;  // in the suspended caller's frame: valid while it waits
  std::coroutine_handle<> waiter;
};

template <typename R>
void ReplyEnvelope<R>::deliver(Process& caller) {
  *slot = std::move(outcome);
  caller.reply_arrived();
  waiter.resume();
}

inline constexpr const char* kEndedBeforeReplying = "the server ended before replying";

template <typename R>
class ProcessReply final : public ReplySink<R> {
 public:
  ProcessReply(Pid caller, unsigned long long id, Outcome<R>* slot, std::coroutine_handle<> waiter)
      : caller_(std::move(caller)), id_(id), slot_(slot), waiter_(waiter) {}
  ~ProcessReply() override {
    if (!this->replied()) {
      this->reply(Outcome<R>::failure(CallError::Kind::ended, kEndedBeforeReplying));
    }
  }

 protected:
  void deliver(Outcome<R> outcome) override {
    caller_.send(new ReplyEnvelope<R>(id_, std::move(outcome), slot_, waiter_));
  }

 private:
  Pid caller_;
  unsigned long long id_;
  Outcome<R>* slot_;
  std::coroutine_handle<> waiter_;
};

// For AwaitedReply: the running process waits for the reply `id`.
struct ReplyWaiting {
  static void begin(Process& caller, unsigned long long id) { caller.wait_for_reply(id); }
  static void begin(Process& caller, unsigned long long id, std::chrono::milliseconds timeout,
                    Process::MakeTimeout make_timeout, void* awaiter) {
    caller.wait_for_reply(id, timeout, make_timeout, awaiter);
  }
};

inline std::string call_timeout_text(std::chrono::milliseconds timeout) {
  return "no reply within " + std::to_string(timeout.count()) + "ms";
}

// What a handler suspended for a reply keeps in its frame (as part of its
// awaiter): the reply's id, where it goes, and the failure that stands in
// for it when none comes within `timeout` (milliseconds::max(): no limit).
template <typename R>
class AwaitedReply {
 public:
  using TimeoutText = std::string (*)(std::chrono::milliseconds);
  AwaitedReply(std::chrono::milliseconds timeout, TimeoutText timeout_text)
      : timeout_(timeout), timeout_text_(timeout_text) {}

  // A fresh id, and the handler to resume when the reply comes.
  void prepare(std::coroutine_handle<> waiter) {
    id_ = next_call_id();
    waiter_ = waiter;
  }
  // From now on the caller waits for this reply.
  void wait(Process& caller) {
    if (timeout_ == std::chrono::milliseconds::max()) {
      ReplyWaiting::begin(caller, id_);
    } else {
      ReplyWaiting::begin(caller, id_, timeout_, &AwaitedReply::timed_out, this);
    }
  }
  unsigned long long id() const { return id_; }
  Outcome<R>& outcome() { return outcome_; }

 private:
  static Envelope* timed_out(void* awaited) {
    auto& self = *static_cast<AwaitedReply*>(awaited);
    return new ReplyEnvelope<R>(
        self.id_, Outcome<R>::failure(CallError::Kind::timeout, self.timeout_text_(self.timeout_)),
        &self.outcome_, self.waiter_);
  }

  std::chrono::milliseconds timeout_;
  TimeoutText timeout_text_;
  unsigned long long id_ = 0;
  std::coroutine_handle<> waiter_{};
  Outcome<R> outcome_;
};

// `co_await server.call(...)` inside a handler returning Async<...>.
template <typename R, typename Fn = CallHandler<R>>
class CallAwaiter {
 public:
  using Handler = Fn;
  CallAwaiter(Pid server, Handler handler, std::chrono::milliseconds timeout)
      : server_(std::move(server)),
        handler_(std::move(handler)),
        reply_(timeout, &call_timeout_text) {}

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter) {
    Process* caller = Process::current();
    if (caller == nullptr) {
      throw std::logic_error("co_await call() outside a process: use call_blocking()");
    }
    reply_.prepare(waiter);
    reply_.wait(*caller);
    server_.send(new CallEnvelope<R, Fn>(
        std::move(handler_),
        std::make_unique<ProcessReply<R>>(caller->self(), reply_.id(), &reply_.outcome(), waiter)));
  }
  CallValue<R> await_resume() { return reply_.outcome().take(); }

 private:
  Pid server_;
  Handler handler_;
  AwaitedReply<R> reply_;
};

// --- a caller outside the runtime ---------------------------------------------------

template <typename R>
class CallbackReply final : public ReplySink<R> {
 public:
  explicit CallbackReply(std::function<void(Outcome<R>)> done) : done_(std::move(done)) {}
  ~CallbackReply() override {
    if (!this->replied()) {
      this->reply(Outcome<R>::failure(CallError::Kind::ended, kEndedBeforeReplying));
    }
  }

 protected:
  void deliver(Outcome<R> outcome) override { done_(std::move(outcome)); }

 private:
  std::function<void(Outcome<R>)> done_;
};

}  // namespace otpd::runtime

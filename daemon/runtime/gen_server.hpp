// OTP's gen_server in C++. A server is a class deriving from GenServer<Self>;
// its public member functions are what callers call or cast, run one at a
// time on the server's own thread:
//
//   class Counter : public GenServer<Counter> {
//    public:
//     int get() const { return value_; }
//     void add(int n) { value_ += n; }
//    private:
//     int value_ = 0;
//   };
//   Server<Counter> counter = start<Counter>(scheduler);
//   counter.cast(&Counter::add, 2);
//   int now = co_await counter.call(&Counter::get);   // in a handler of another server
//   int now = counter.call_blocking(&Counter::get);   // from a thread outside the runtime
//
// Optional hooks, found by name: init(), terminate(const ExitReason&),
// handle_timeout(), handle_down(MonitorRef, const Pid&, const ExitReason&),
// handle_exit(const Pid&, const ExitReason&) (when trapping exits).
// A handler that must wait for another server returns Async<R> and
// co_awaits; the server handles nothing else meanwhile, as in OTP.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "runtime/async.hpp"
#include "runtime/call.hpp"
#include "runtime/process.hpp"
#include "runtime/scheduler.hpp"

namespace otpd::runtime {

template <typename T>
class Server;

namespace detail {

// What a handler F gives back when run on T with Args: R for a plain
// handler, R for one returning Async<R>.
template <typename T, typename F, typename... Args>
using HandlerReturn = std::invoke_result_t<F, T&, Args&...>;

template <typename Ret>
struct CallResultOf {
  using type = Ret;
};
template <typename R>
struct CallResultOf<Async<R>> {
  using type = R;
};

}  // namespace detail

template <typename T>
class GenServer : public Process {
 public:
  Server<T> server() { return Server<T>(self()); }

 protected:
  // OTP's {stop, Reason}: the server ends once the current handler returns.
  void stop(ExitReason reason = ExitReason::normal()) { exit(std::move(reason)); }

  // OTP's {continue, ...}: `f(self)` runs before any other message.
  template <typename F>
  void continue_with(F f) {
    run_next(make_envelope(
        [f = std::move(f)](Process& p) mutable { std::invoke(f, static_cast<T&>(p)); }));
  }

  // After `idle` with no message, handle_timeout() runs; any message
  // restarts the wait. Zero turns it off.
  void set_idle_timeout(std::chrono::milliseconds idle) {
    idle_timeout_ = idle;
    armed_at_ = scheduler().now();
    track_activity(idle.count() > 0);
    ++idle_generation_;
    if (idle.count() > 0) arm_idle_timer(idle);
  }

  using Process::demonitor;
  using Process::link;
  using Process::monitor;
  using Process::trap_exits;
  using Process::unlink;

 private:
  friend class Server<T>;

  T& self_() { return static_cast<T&>(*this); }

  void on_start() override {
    if constexpr (requires(T & t) { t.init(); }) self_().init();
  }
  void on_terminate(const ExitReason& reason) override {
    if constexpr (requires(T & t) { t.terminate(reason); }) self_().terminate(reason);
  }
  void on_down(MonitorRef ref, const Pid& who, const ExitReason& reason) override {
    if constexpr (requires(T & t) { t.handle_down(ref, who, reason); }) {
      self_().handle_down(ref, who, reason);
    }
  }
  void on_exit_message(const Pid& from, const ExitReason& reason) override {
    if (from && from == parent()) {
      stop(reason);  // OTP's gen_server: the parent's exit ends it, trapped or not
      return;
    }
    if constexpr (requires(T & t) { t.handle_exit(from, reason); }) {
      self_().handle_exit(from, reason);
    }
  }

  // --- running handlers -----------------------------------------------------

  // A handler's Async result runs detached; an error in it ends the server
  // as a plain handler's exception does.
  template <typename R>
  void run_async(Async<R> task, std::shared_ptr<ReplySink<R>> sink) {
    auto finished = std::make_shared<bool>(false);
    auto root =
        std::move(task).start([this, sink, finished](typename Async<R>::promise_type& promise) {
          *finished = true;
          release_suspended();
          if (promise.error) {
            if (sink) sink->reply({std::nullopt, failure_of(promise.error)});
            exit(ExitReason::error(what_of(promise.error)));
            return;
          }
          if (!sink) return;
          if constexpr (std::is_void_v<R>) {
            sink->reply({std::monostate{}, nullptr});
          } else {
            sink->reply({std::move(*promise.value), nullptr});
          }
        });
    // Not finished: it waits for a reply; the process holds the frame.
    if (!*finished) hold_suspended(root);
  }

  static std::exception_ptr failure_of(const std::exception_ptr& error) {
    return std::make_exception_ptr(CallError(CallError::Kind::failed, what_of(error)));
  }

  template <typename R, typename F, typename Tuple>
  void handle_call(F& f, Tuple& args, std::unique_ptr<ReplySink<R>>& sink) {
    using Ret =
        decltype(std::apply([&](auto&... a) { return std::invoke(f, self_(), a...); }, args));
    if constexpr (is_async<Ret>::value) {
      run_async<R>(std::apply([&](auto&... a) { return std::invoke(f, self_(), a...); }, args),
                   std::shared_ptr<ReplySink<R>>(std::move(sink)));
    } else {
      try {
        if constexpr (std::is_void_v<R>) {
          std::apply([&](auto&... a) { std::invoke(f, self_(), a...); }, args);
          sink->reply({std::monostate{}, nullptr});
        } else {
          sink->reply({std::apply([&](auto&... a) { return std::invoke(f, self_(), a...); }, args),
                       nullptr});
        }
      } catch (...) {
        sink->reply({std::nullopt, failure_of(std::current_exception())});
        throw;  // the server ends with it, as in OTP
      }
    }
  }

  template <typename F, typename Tuple>
  void handle_cast(F& f, Tuple& args) {
    using Ret =
        decltype(std::apply([&](auto&... a) { return std::invoke(f, self_(), a...); }, args));
    if constexpr (is_async<Ret>::value) {
      using R = typename is_async<Ret>::result;
      run_async<R>(std::apply([&](auto&... a) { return std::invoke(f, self_(), a...); }, args),
                   nullptr);
    } else {
      std::apply([&](auto&... a) { std::invoke(f, self_(), a...); }, args);
    }
  }

  // --- idle timeout ------------------------------------------------------------

  struct IdleTimer final : Envelope {
    IdleTimer(std::uint64_t generation) : generation(generation) {}
    bool is_activity() const override { return false; }
    void deliver(Process& p) override { static_cast<GenServer&>(p).idle_timer_fired(generation); }
    std::uint64_t generation;
  };

  void arm_idle_timer(std::chrono::steady_clock::duration after) {
    scheduler().start_timer(*this, after, new IdleTimer(idle_generation_));
  }

  void idle_timer_fired(std::uint64_t generation) {
    if (generation != idle_generation_ || idle_timeout_.count() == 0) return;
    const auto quiet_since = std::max(last_activity(), armed_at_);
    const auto due = quiet_since + idle_timeout_;
    const auto now = scheduler().now();
    if (now < due) {
      armed_at_ = quiet_since;
      arm_idle_timer(due - now);
      return;
    }
    armed_at_ = now;
    if constexpr (requires(T & t) { t.handle_timeout(); }) self_().handle_timeout();
    // Still set (the handler did not turn it off): wait again.
    if (idle_timeout_.count() > 0 && generation == idle_generation_) arm_idle_timer(idle_timeout_);
  }

  std::chrono::milliseconds idle_timeout_{0};
  std::uint64_t idle_generation_ = 0;
  std::chrono::steady_clock::time_point armed_at_{};  // when the idle timeout was set or last fired
};

// A typed handle on a running server, cheap to copy, valid after it ends.
template <typename T>
class Server {
 public:
  Server() = default;
  explicit Server(Pid pid) : pid_(std::move(pid)) {}
  const Pid& pid() const { return pid_; }
  explicit operator bool() const { return static_cast<bool>(pid_); }

  // Runs f(server, args...) on the server; returns at once.
  template <typename F, typename... Args>
  void cast(F f, Args... args) const {
    pid_.send(make_envelope(
        [f = std::move(f), args = std::make_tuple(std::move(args)...)](Process& p) mutable {
          static_cast<GenServer<T>&>(static_cast<T&>(p)).handle_cast(f, args);
        }));
  }

  // co_await server.call(f, args...) in a handler returning Async<...>: the
  // value f returns, or a CallError after `timeout` (5 s by default).
  template <typename F, typename... Args>
  auto call(F f, Args... args) const {
    return call_within(kDefaultCallTimeout, std::move(f), std::move(args)...);
  }

  template <typename F, typename... Args>
  auto call_within(std::chrono::milliseconds timeout, F f, Args... args) const {
    using R = typename detail::CallResultOf<detail::HandlerReturn<T, F, Args...>>::type;
    auto run = handler<R>(std::move(f), std::move(args)...);
    return CallAwaiter<R, decltype(run)>(pid_, std::move(run), timeout);
  }

  // From a thread outside the runtime: `done(outcome)` runs on the server's
  // thread (or on the caller's, when the server is not running); it must
  // hand the outcome to its own thread itself.
  template <typename F, typename Done, typename... Args>
  void call_then(Done done, F f, Args... args) const {
    using R = typename detail::CallResultOf<detail::HandlerReturn<T, F, Args...>>::type;
    auto run = handler<R>(std::move(f), std::move(args)...);
    pid_.send(new CallEnvelope<R, decltype(run)>(
        std::move(run), std::make_unique<CallbackReply<R>>(std::move(done))));
  }

  // Blocks this thread (never a runtime thread) until the reply: for tests,
  // tools and the control socket's slow paths. Throws CallError.
  template <typename F, typename... Args>
  auto call_blocking(F f, Args... args) const {
    return call_blocking_within(kDefaultCallTimeout, std::move(f), std::move(args)...);
  }

  template <typename F, typename... Args>
  auto call_blocking_within(std::chrono::milliseconds timeout, F f, Args... args) const {
    using R = typename detail::CallResultOf<detail::HandlerReturn<T, F, Args...>>::type;
    auto promise = std::make_shared<std::promise<Outcome<R>>>();
    auto future = promise->get_future();
    call_then([promise](Outcome<R> outcome) { promise->set_value(std::move(outcome)); },
              std::move(f), std::move(args)...);
    if (future.wait_for(timeout) != std::future_status::ready) {
      throw CallError(CallError::Kind::timeout, call_timeout_text(timeout));
    }
    Outcome<R> outcome = future.get();
    if constexpr (std::is_void_v<R>) {
      outcome.take();
    } else {
      return std::move(outcome.take());
    }
  }

  // OTP's gen_server:stop: the server runs terminate() and ends with
  // `reason` once it gets to this request.
  void stop(ExitReason reason = ExitReason::normal()) const {
    pid_.send(make_envelope([reason = std::move(reason)](Process& p) mutable {
      static_cast<GenServer<T>&>(static_cast<T&>(p)).stop(std::move(reason));
    }));
  }

 private:
  // The handler of a call, of its own type (see CallEnvelope).
  template <typename R, typename F, typename... Args>
  static auto handler(F f, Args... args) {
    return [f = std::move(f), args = std::make_tuple(std::move(args)...)](
               Process& p, std::unique_ptr<ReplySink<R>>& sink) mutable {
      static_cast<GenServer<T>&>(static_cast<T&>(p)).template handle_call<R>(f, args, sink);
    };
  }

  Pid pid_;
};

// Starts a server: `T(args...)` is built here, init() runs on its own thread.
template <typename T, typename... Args>
Server<T> start(Scheduler& scheduler, Args&&... args) {
  auto* server = new T(std::forward<Args>(args)...);
  Server<T> handle(server->self());
  scheduler.start(*server);
  return handle;
}

}  // namespace otpd::runtime

// Elixir's Agent: a value owned by a worker process, read and changed by
// functions that run on that worker, one at a time.
//
//   Agent<int> counter = start_agent(scheduler, 0);
//   counter.cast_update([](int& n) { ++n; });                     // Agent.cast
//   counter.update_blocking([](int n) { return n + 10; });        // Agent.update
//   int now = counter.get_blocking([](const int& n) { return n; });  // Agent.get
//   int old = counter.get_and_update_blocking(
//       [](const int& n) { return std::pair{n, 0}; });           // Agent.get_and_update
//
// Every operation but cast_update exists twice: `get(fn)` and friends are
// awaited with co_await in a handler of another process (returning
// Async<...>), `get_blocking(fn)` and friends block a thread outside the
// runtime, exactly as Server<T>::call and call_blocking. Both fail with a
// CallError after the timeout (5 s by default) or when the agent has ended.
//
// An update function either changes the value in place (takes T&, returns
// void) or returns the new value (Elixir's style). A function that throws
// ends the agent with that error, and the caller gets a CallError(failed).
#pragma once

#include <chrono>
#include <type_traits>
#include <utility>

#include "runtime/gen_server.hpp"

namespace otpd::runtime {

// The worker behind an Agent<T>.
template <typename T>
class AgentServer : public GenServer<AgentServer<T>> {
 public:
  explicit AgentServer(T initial) : value_(std::move(initial)) {}

  template <typename Fn>
  auto read(Fn& fn) const {
    return fn(std::as_const(value_));
  }

  template <typename Fn>
  void change(Fn& fn) {
    if constexpr (std::is_void_v<std::invoke_result_t<Fn&, T&>>) {
      fn(value_);
    } else {
      value_ = fn(std::as_const(value_));
    }
  }

  // fn returns {what the caller gets, the new value}.
  template <typename Fn>
  auto exchange(Fn& fn) {
    auto [reply, next] = fn(std::as_const(value_));
    value_ = std::move(next);
    return std::move(reply);
  }

 private:
  T value_;
};

template <typename T>
class Agent {
 public:
  using Timeout = std::chrono::milliseconds;

  Agent() = default;
  explicit Agent(Server<AgentServer<T>> server) : server_(std::move(server)) {}

  const Pid& pid() const { return server_.pid(); }
  explicit operator bool() const { return static_cast<bool>(server_); }

  // Agent.get: what fn(const T&) returns.
  template <typename Fn>
  auto get(Fn fn, Timeout timeout = kDefaultCallTimeout) const {
    return server_.call_within(
        timeout, [fn = std::move(fn)](AgentServer<T>& a) mutable { return a.read(fn); });
  }
  template <typename Fn>
  auto get_blocking(Fn fn) const {
    return server_.call_blocking(
        [fn = std::move(fn)](AgentServer<T>& a) mutable { return a.read(fn); });
  }

  // Agent.update: returns once the value has changed.
  template <typename Fn>
  auto update(Fn fn, Timeout timeout = kDefaultCallTimeout) const {
    return server_.call_within(timeout,
                               [fn = std::move(fn)](AgentServer<T>& a) mutable { a.change(fn); });
  }
  template <typename Fn>
  void update_blocking(Fn fn) const {
    server_.call_blocking([fn = std::move(fn)](AgentServer<T>& a) mutable { a.change(fn); });
  }

  // Agent.get_and_update: fn(const T&) returns std::pair{reply, new value}.
  template <typename Fn>
  auto get_and_update(Fn fn, Timeout timeout = kDefaultCallTimeout) const {
    return server_.call_within(
        timeout, [fn = std::move(fn)](AgentServer<T>& a) mutable { return a.exchange(fn); });
  }
  template <typename Fn>
  auto get_and_update_blocking(Fn fn) const {
    return server_.call_blocking(
        [fn = std::move(fn)](AgentServer<T>& a) mutable { return a.exchange(fn); });
  }

  // Agent.cast: returns at once; from any thread or process.
  template <typename Fn>
  void cast_update(Fn fn) const {
    server_.cast([fn = std::move(fn)](AgentServer<T>& a) mutable { a.change(fn); });
  }

  // Agent.stop.
  void stop(ExitReason reason = ExitReason::normal()) const { server_.stop(std::move(reason)); }

 private:
  Server<AgentServer<T>> server_;
};

// Agent.start: the agent holds `initial` (OTP's initial function becomes
// the value itself; build it before the call).
template <typename T>
Agent<std::decay_t<T>> start_agent(Scheduler& scheduler, T&& initial) {
  using Value = std::decay_t<T>;
  return Agent<Value>(start<AgentServer<Value>>(scheduler, Value(std::forward<T>(initial))));
}

}  // namespace otpd::runtime

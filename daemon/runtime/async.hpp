// Async<R>: what a handler returns when it must wait (for a call to another
// server, a task, a timer) without blocking its thread. The process stays
// blocked like an Erlang process in a receive: its other messages wait until
// the handler finishes, and only then does its own caller get the reply.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <utility>

namespace otpd::runtime {

namespace detail {

template <typename R>
struct AsyncResult {
  std::optional<R> value;
  template <typename V>
  void return_value(V&& v) {
    value.emplace(std::forward<V>(v));
  }
};

template <>
struct AsyncResult<void> {
  bool done = false;
  void return_void() noexcept { done = true; }
};

}  // namespace detail

template <typename R = void>
class [[nodiscard]] Async {
 public:
  struct promise_type : detail::AsyncResult<R> {
    std::exception_ptr error;
    // Who learns the outcome: the dispatcher that started the handler, or
    // the Async that awaits this one.
    std::function<void(promise_type&)> on_done;
    std::coroutine_handle<> continuation;

    Async get_return_object() noexcept {
      return Async{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    auto final_suspend() noexcept {
      struct Finish {
        bool await_ready() noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
          promise_type& promise = h.promise();
          if (promise.continuation) return promise.continuation;
          if (promise.on_done) promise.on_done(promise);
          // Started detached (see start()): nobody else owns the frame.
          h.destroy();
          return std::noop_coroutine();
        }
        void await_resume() noexcept {}
      };
      return Finish{};
    }
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };

  Async(Async&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Async& operator=(Async&&) = delete;
  ~Async() {
    if (handle_) handle_.destroy();
  }

  // Awaited by another Async: runs inside it, and its result or exception
  // comes back at the co_await.
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept {
    handle_.promise().continuation = awaiter;
    return handle_;
  }
  R await_resume() {
    auto& promise = handle_.promise();
    if (promise.error) std::rethrow_exception(promise.error);
    if constexpr (!std::is_void_v<R>) return std::move(*promise.value);
  }

  // Runs it from a handler, detached: `on_done` gets the promise (value or
  // error) when it finishes, and the frame is freed after that. Returns its
  // handle, which is only valid while it has not finished (for the process
  // to destroy it if it ends first).
  std::coroutine_handle<> start(std::function<void(promise_type&)> on_done) && {
    auto handle = std::exchange(handle_, {});
    handle.promise().on_done = std::move(on_done);
    handle.resume();
    return handle;
  }

 private:
  explicit Async(std::coroutine_handle<promise_type> h) : handle_(h) {}
  std::coroutine_handle<promise_type> handle_;
};

template <typename T>
struct is_async : std::false_type {};
template <typename R>
struct is_async<Async<R>> : std::true_type {
  using result = R;
};

}  // namespace otpd::runtime

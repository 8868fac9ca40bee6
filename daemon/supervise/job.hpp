// Sequential supervisor work (stop these children, wait, start those) reads
// best as straight-line code. A Job is a detached coroutine that runs on the
// event loop and suspends on callback-based operations through `until`.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <utility>

#include "supervise/frame_pool.hpp"

namespace otpd::supervise {

// Starts at once and frees its frame when it returns.
struct Job {
  struct promise_type : PooledFrame {
    Job get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

struct Done {};

template <typename T>
using Resume = std::function<void(T)>;

// co_await until<T>(initiate): calls initiate(resume) and suspends until
// resume(value) is called. The value becomes the result of the co_await.
// Callers must invoke resume from the event loop, not from inside initiate.
template <typename T>
class until {
 public:
  explicit until(std::function<void(Resume<T>)> initiate) : initiate_(std::move(initiate)) {}

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> handle) {
    initiate_([this, handle](T value) {
      value_.emplace(std::move(value));
      handle.resume();
    });
  }
  T await_resume() { return std::move(*value_); }

 private:
  std::function<void(Resume<T>)> initiate_;
  std::optional<T> value_;
};

}  // namespace otpd::supervise

namespace otpd::supervise {

namespace detail {
template <typename T>
struct StepResult {
  std::optional<T> value;
  void return_value(T v) { value.emplace(std::move(v)); }
  T take() { return std::move(*value); }
};
template <>
struct StepResult<void> {
  void return_void() noexcept {}
  void take() noexcept {}
};
}  // namespace detail

// A step of a job: a lazily started coroutine that a Job or another Step
// awaits; control returns to the awaiter when it finishes.
template <typename T = void>
class [[nodiscard]] Step {
 public:
  struct promise_type : detail::StepResult<T>, PooledFrame {
    std::coroutine_handle<> continuation;

    Step get_return_object() noexcept {
      return Step{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    auto final_suspend() noexcept {
      struct ToContinuation {
        bool await_ready() noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
          return h.promise().continuation;
        }
        void await_resume() noexcept {}
      };
      return ToContinuation{};
    }
    void unhandled_exception() noexcept { std::terminate(); }
  };

  Step(Step&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Step& operator=(Step&&) = delete;
  ~Step() {
    if (handle_) handle_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept {
    handle_.promise().continuation = awaiter;
    return handle_;
  }
  T await_resume() { return handle_.promise().take(); }

 private:
  explicit Step(std::coroutine_handle<promise_type> h) : handle_(h) {}
  std::coroutine_handle<promise_type> handle_;
};

}  // namespace otpd::supervise

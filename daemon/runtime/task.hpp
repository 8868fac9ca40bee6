// Elixir's Task: run a function concurrently and await its result.
//
//   Async<int> Handler::total() {                  // a handler of some process
//     Task<int> a = async([] { return fetch("a"); });
//     Task<int> b = async([] { return fetch("b"); });
//     std::vector<int> both = co_await await_many(std::vector{a, b}, 2s);
//     co_return both[0] + both[1];
//   }
//
// `async(fn)` starts fn in a new process linked to the calling process:
// when the task crashes (fn throws), the caller crashes with the same
// error unless it traps exits, and when the caller crashes the task ends.
// `co_await task.await(timeout)` gives fn's value, or throws
// CallError(timeout); the task is not killed for it (as in Elixir, a
// linked one ends with a caller that does not catch the timeout and
// crashes; an unlinked one runs on). A task that ended
// without a value makes await throw CallError(failed) (fn threw; the
// message is the exception's) or CallError(ended) (killed or shut down).
// A task is awaited once. From a thread outside the runtime, `async(
// scheduler, fn)` starts an unlinked task and `task.await_blocking()` waits.
//
// Where fn runs: as the task process's handler, on the runtime's threads.
// A function returning Async<R> runs on the caller's thread and co_awaits
// calls to servers or other tasks (a kill ends it at its next co_await). A
// plain function runs beside its caller, on another thread of the pool when
// there is one; C++ cannot preempt it, so one that blocks (a fetch, a file,
// a child process) would hold that thread as a blocking handler does: mark
// it, async(blocking(fn)), and it gets a thread of its own. A kill ends the
// task process at once (the caller is told), while a function already
// running runs to its end and its result is dropped.
//
// TaskSupervisor (Elixir's Task.Supervisor) owns tasks: `async` (linked to
// the caller too), `async_nolink` (a crash is reported to whoever awaits,
// never propagated to the caller) and `start_child` (fire and forget). Its
// tasks are temporary (never restarted) and are shut down when it stops.
#pragma once

#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/async.hpp"
#include "runtime/call.hpp"
#include "runtime/gen_server.hpp"
#include "runtime/process.hpp"
#include "runtime/scheduler.hpp"

namespace otpd::runtime {

// Marks a plain function that blocks (sleeps, waits on a socket, a file, a
// child process): `async(blocking(fn))`, `sup.start_child(blocking(fn))`.
// Its task gets a thread of its own, as the BEAM runs such work on its
// dirty schedulers, so that no thread of the pool waits with it; starting
// a thread costs tens of microseconds. A function that does not block
// belongs on the pool, unmarked.
template <typename Fn>
struct Blocking {
  Fn fn;
  decltype(auto) operator()() { return fn(); }
};

template <typename Fn>
Blocking<std::decay_t<Fn>> blocking(Fn&& fn) {
  static_assert(!is_async<std::invoke_result_t<std::decay_t<Fn>&>>::value,
                "an Async function does not block its thread: pass it to async() as it is");
  return {std::forward<Fn>(fn)};
}

namespace detail {

template <typename Fn>
inline constexpr bool is_blocking = false;
template <typename Fn>
inline constexpr bool is_blocking<Blocking<Fn>> = true;

// What the task process and its awaiter share: the outcome, or where to
// send it when the awaiter came first.
template <typename R>
class TaskState {
 public:
  // The task process, once.
  void finish(Outcome<R> outcome) {
    std::unique_lock lock(mutex_);
    if (finished_) return;
    finished_ = true;
    if (waiter_) {
      auto* reply = new ReplyEnvelope<R>(call_id_, std::move(outcome), slot_, handle_);
      const Pid to = std::exchange(waiter_, {});
      lock.unlock();
      to.send(reply);
      return;
    }
    result_ = std::move(outcome);
    finished_changed_.notify_all();
  }

  // The awaiting process: takes the outcome if there is one, else leaves
  // where to send it (and returns nullopt).
  std::optional<Outcome<R>> take_or_wait(Process& caller, unsigned long long call_id,
                                         Outcome<R>* slot, std::coroutine_handle<> handle) {
    std::lock_guard lock(mutex_);
    claim();
    if (result_) return std::move(result_);
    waiter_ = caller.self();
    call_id_ = call_id;
    slot_ = slot;
    handle_ = handle;
    return std::nullopt;
  }

  // The awaiting process, when its wait timed out: nobody waits any more,
  // and a result that comes later is kept by nobody.
  void give_up() {
    std::lock_guard lock(mutex_);
    waiter_ = {};
  }

  std::optional<Outcome<R>> wait_blocking(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    claim();
    if (!finished_changed_.wait_for(lock, timeout, [&] { return result_.has_value(); })) {
      return std::nullopt;
    }
    return std::move(result_);
  }

 private:
  void claim() {
    if (awaited_) throw std::logic_error("a task is awaited once");
    awaited_ = true;
  }

  std::mutex mutex_;
  std::condition_variable finished_changed_;
  bool finished_ = false;
  bool awaited_ = false;
  std::optional<Outcome<R>> result_;
  Pid waiter_;
  unsigned long long call_id_ = 0;
  Outcome<R>* slot_ = nullptr;
  std::coroutine_handle<> handle_{};
};

inline std::string timeout_text(std::chrono::milliseconds timeout) {
  return "the task gave no result within " + std::to_string(timeout.count()) + "ms";
}

}  // namespace detail

// Elixir's Task.Supervisor process; use it through TaskSupervisor.
class TaskSupervisorServer : public GenServer<TaskSupervisorServer> {
 public:
  void init() { trap_exits(true); }
  void adopt(const Pid& task);
  void handle_exit(const Pid& from, const ExitReason& reason);
  void terminate(const ExitReason& reason);
  std::size_t children() const { return children_.size(); }

 private:
  std::vector<Pid> children_;
};

// What every task process does whatever its function: links, and being
// killed by its owner.
class TaskProcessBase : public Process {
 public:
  // Task.shutdown(task, :brutal_kill). Called from a handler, it unlinks
  // the calling process from the task first, so that the kill does not
  // come back to it through the link.
  static void kill(const Pid& task);

 protected:
  TaskProcessBase(Pid caller, Pid supervisor)
      : caller_(std::move(caller)), supervisor_(std::move(supervisor)) {}
  // Links to the caller and the supervisor, then lets go of their Pids: a
  // Pid holds its process, and a task and a caller holding each other's
  // would keep both alive forever.
  void link_up();

 private:
  struct KillSignal;
  Pid caller_;
  Pid supervisor_;
};

// The process that runs a task's function.
template <typename Fn>
class TaskProcess final : public TaskProcessBase {
 public:
  using Ret = std::invoke_result_t<Fn&>;
  using R = typename detail::CallResultOf<Ret>::type;

  TaskProcess(Fn fn, std::shared_ptr<detail::TaskState<R>> state, Pid caller, Pid supervisor)
      : TaskProcessBase(std::move(caller), std::move(supervisor)),
        fn_(std::move(fn)),
        state_(std::move(state)) {}

  // Where the function runs: a plain one beside its caller (on another
  // thread of the pool when there is one), a blocking() one on a thread of
  // its own, an Async one on the caller's thread, where its calls are cheap.
  static constexpr bool kOwnThread = detail::is_blocking<Fn>;
  static constexpr bool kBeside = !is_async<Ret>::value && !kOwnThread;

 private:
  void on_start() override {
    link_up();
    if constexpr (is_async<Ret>::value) {
      auto finished = std::make_shared<bool>(false);
      auto root = fn_().start([this, finished](typename Ret::promise_type& promise) {
        *finished = true;
        release_suspended();
        if (promise.error) {
          complete({std::nullopt, promise.error});
        } else if constexpr (std::is_void_v<R>) {
          complete({std::monostate{}, nullptr});
        } else {
          complete({std::move(*promise.value), nullptr});
        }
      });
      if (!*finished) hold_suspended(root);
    } else if constexpr (kOwnThread) {
      std::thread([fn = std::move(fn_), me = self()]() mutable {
        Outcome<R> outcome = run(fn);
        me.send(make_envelope([outcome = std::move(outcome)](Process& p) mutable {
          static_cast<TaskProcess&>(p).complete(std::move(outcome));
        }));
      }).detach();
    } else {
      complete(run(fn_));  // here, on the pool: the task process's one handler
    }
  }

  static Outcome<R> run(Fn& fn) {
    try {
      if constexpr (std::is_void_v<R>) {
        fn();
        return {std::monostate{}, nullptr};
      } else {
        return {fn(), nullptr};
      }
    } catch (...) {
      return {std::nullopt, std::current_exception()};
    }
  }

  void complete(Outcome<R> outcome) {
    if (outcome.error) {
      // on_ended tells the awaiter; the links tell the caller.
      exit(ExitReason::error(what_of(outcome.error)));
      return;
    }
    reported_ = true;
    state_->finish(std::move(outcome));
    exit(ExitReason::normal());
  }

  // However it ended, killed included, whoever awaits it is told.
  void on_ended(const ExitReason& reason) override {
    if (reported_) return;
    if (reason.kind() == ExitReason::Kind::error) {
      state_->finish(Outcome<R>::failure(CallError::Kind::failed, reason.detail()));
    } else {
      state_->finish(
          Outcome<R>::failure(CallError::Kind::ended, "the task ended: " + reason.text()));
    }
  }

  Fn fn_;
  std::shared_ptr<detail::TaskState<R>> state_;
  bool reported_ = false;
};

template <typename R>
class Task;

// `co_await task.await(timeout)`.
template <typename R>
class TaskAwaiter {
 public:
  TaskAwaiter(std::shared_ptr<detail::TaskState<R>> state, Pid task,
              std::chrono::milliseconds timeout)
      : state_(std::move(state)), task_(std::move(task)), reply_(timeout, &detail::timeout_text) {}

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> waiter) {
    Process* caller = Process::current();
    if (caller == nullptr) {
      throw std::logic_error("co_await task.await() outside a process: use await_blocking()");
    }
    reply_.prepare(waiter);
    if (auto ready = state_->take_or_wait(*caller, reply_.id(), &reply_.outcome(), waiter)) {
      reply_.outcome() = std::move(*ready);
      return false;
    }
    reply_.wait(*caller);
    return true;
  }
  // A task that missed the timeout goes on running, as in Elixir: an
  // unlinked one to its end, a linked one until the caller, not catching
  // the timeout, crashes and takes it down through the link.
  CallValue<R> await_resume() {
    if (reply_.outcome().error) state_->give_up();
    return reply_.outcome().take();
  }

 private:
  std::shared_ptr<detail::TaskState<R>> state_;
  Pid task_;
  AwaitedReply<R> reply_;
};

template <typename R>
class Task {
 public:
  using Value = CallValue<R>;

  Task() = default;
  Task(std::shared_ptr<detail::TaskState<R>> state, Pid pid)
      : state_(std::move(state)), pid_(std::move(pid)) {}

  const Pid& pid() const { return pid_; }

  // Task.await, in a handler returning Async<...>. `milliseconds::max()`
  // waits forever (Elixir's :infinity).
  TaskAwaiter<R> await(std::chrono::milliseconds timeout = kDefaultCallTimeout) const {
    return TaskAwaiter<R>(state_, pid_, timeout);
  }

  // From a thread outside the runtime (never a runtime thread: it blocks).
  Value await_blocking(std::chrono::milliseconds timeout = kDefaultCallTimeout) const {
    if (Process::current() != nullptr) {
      throw std::logic_error("await_blocking() on a runtime thread: co_await task.await()");
    }
    auto outcome = state_->wait_blocking(timeout);
    if (!outcome) throw CallError(CallError::Kind::timeout, detail::timeout_text(timeout));
    return outcome->take();
  }

  // Task.shutdown(task, :brutal_kill): ends the task now; its result, if
  // it comes, is dropped.
  void kill() const { TaskProcessBase::kill(pid_); }

 private:
  std::shared_ptr<detail::TaskState<R>> state_;
  Pid pid_;
};

template <typename Fn>
using TaskOf = Task<typename TaskProcess<std::decay_t<Fn>>::R>;

namespace detail {

template <typename Fn>
TaskOf<Fn> start_task(Scheduler& scheduler, Fn&& fn, Pid caller, Pid supervisor) {
  using Runner = TaskProcess<std::decay_t<Fn>>;
  auto state = std::make_shared<TaskState<typename Runner::R>>();
  auto* process = new Runner(std::forward<Fn>(fn), state, std::move(caller), std::move(supervisor));
  TaskOf<Fn> task(std::move(state), process->self());
  if constexpr (Runner::kBeside) {
    scheduler.start_beside(*process);
  } else {
    scheduler.start(*process);
  }
  return task;
}

}  // namespace detail

// Task.async, from a handler: a task linked to the calling process.
template <typename Fn>
TaskOf<Fn> async(Fn&& fn) {
  Process& caller = calling_process("async()");
  return detail::start_task(caller.scheduler(), std::forward<Fn>(fn), caller.self(), {});
}

// From anywhere: linked to the calling process when there is one.
template <typename Fn>
TaskOf<Fn> async(Scheduler& scheduler, Fn&& fn) {
  Process* caller = Process::current();
  return detail::start_task(scheduler, std::forward<Fn>(fn), caller ? caller->self() : Pid(), {});
}

// Task.await_many: the values in order. The deadline covers them all; on
// a timeout CallError(timeout) is thrown and, as with await, the tasks not
// done go on (linked ones end with the caller if it does not catch it).
template <typename R>
Async<std::vector<CallValue<R>>> await_many(
    std::vector<Task<R>> tasks, std::chrono::milliseconds timeout = kDefaultCallTimeout) {
  const Scheduler& scheduler = calling_process("await_many()").scheduler();
  const bool forever = timeout == std::chrono::milliseconds::max();
  const auto deadline = forever ? Clock::time_point::max() : scheduler.now() + timeout;
  std::vector<CallValue<R>> values;
  values.reserve(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const auto left = forever ? timeout
                              : std::max(std::chrono::milliseconds(0),
                                         std::chrono::duration_cast<std::chrono::milliseconds>(
                                             deadline - scheduler.now()));
    bool timed_out = false;
    try {
      values.push_back(co_await tasks[i].await(left));
    } catch (const CallError& e) {
      if (e.kind() != CallError::Kind::timeout) throw;
      timed_out = true;
    }
    if (timed_out) {
      throw CallError(CallError::Kind::timeout,
                      "task " + std::to_string(i + 1) + " of " + std::to_string(tasks.size()) +
                          " gave no result within " + std::to_string(timeout.count()) + "ms");
    }
  }
  co_return values;
}

// A handle on a task supervisor; cheap to copy.
class TaskSupervisor {
 public:
  TaskSupervisor() = default;
  explicit TaskSupervisor(Server<TaskSupervisorServer> server) : server_(std::move(server)) {}

  const Pid& pid() const { return server_.pid(); }

  // Task.Supervisor.async: supervised, and linked to the calling process.
  template <typename Fn>
  TaskOf<Fn> async(Fn&& fn) const {
    Process& caller = calling_process("TaskSupervisor::async()");
    return detail::start_task(caller.scheduler(), std::forward<Fn>(fn), caller.self(), pid());
  }

  // Task.Supervisor.async_nolink: supervised only; a crash reaches the
  // awaiter as CallError(failed), never the caller as an exit signal.
  template <typename Fn>
  TaskOf<Fn> async_nolink(Fn&& fn) const {
    return detail::start_task(scheduler(), std::forward<Fn>(fn), {}, pid());
  }

  // Task.Supervisor.start_child: fire and forget.
  template <typename Fn>
  Pid start_child(Fn&& fn) const {
    return detail::start_task(scheduler(), std::forward<Fn>(fn), {}, pid()).pid();
  }

  // Tasks running now (blocking; for tools and tests).
  std::size_t children_blocking() const {
    return server_.call_blocking(&TaskSupervisorServer::children);
  }

  // Stops the supervisor; it shuts its tasks down first.
  void stop() const { server_.stop(ExitReason::shutdown()); }

 private:
  Scheduler& scheduler() const { return pid().get()->scheduler(); }

  Server<TaskSupervisorServer> server_;
};

TaskSupervisor start_task_supervisor(Scheduler& scheduler);

}  // namespace otpd::runtime

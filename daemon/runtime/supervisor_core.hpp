// What Supervisor and DynamicSupervisor share: a process that traps exits,
// restarts within an intensity, stops children by their shutdown policy
// without ever blocking its thread, and answers requests in order.
//
// Stopping a child means waiting for its exit, which arrives as a message:
// meanwhile the supervisor is busy, as an OTP supervisor blocked in its
// shutdown receive is, and requests and other children's exits wait, in
// order, until the stop is over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/call.hpp"
#include "runtime/child_spec.hpp"
#include "runtime/process.hpp"
#include "runtime/request.hpp"
#include "runtime/restart_decision.hpp"
#include "runtime/restart_window.hpp"

namespace otpd::runtime {

// OTP's supervisor reports, handed to SupervisorFlags::on_report on the
// supervisor's thread (keep it short: the supervisor waits for it).
struct SupervisorReport {
  enum class Kind : std::uint8_t {
    started,           // a child (re)started: OTP's progress report
    child_terminated,  // a child ended abnormally, or a permanent one ended at all
    start_error,       // a child's start or restart failed
    shutdown_error,  // a child being stopped ended otherwise than asked (killed after its timeout)
    reached_max_restart_intensity,  // the supervisor gives up and shuts down
  };
  Kind kind = Kind::started;
  std::string child = {};
  Pid pid = {};
  ExitReason reason = ExitReason::normal();
};

const char* to_string(SupervisorReport::Kind kind);

using ReportHandler = std::function<void(const SupervisorReport&)>;

// What a supervisor request fails with: OTP's {error, Reason}.
class SupervisorError : public std::runtime_error {
 public:
  enum class Kind {
    not_found,        // no such child
    running,          // restart_child or delete_child of a running child
    already_present,  // start_child: the name is taken by a stopped child
    already_started,  // start_child: the name is taken by a running child
    start_failed,     // the child's start function threw (its reason is in what())
    max_children,     // DynamicSupervisor::start_child beyond max_children
    invalid_spec,     // no start function, or no name where one is needed
  };
  SupervisorError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// One child as which_children lists it; an empty pid: not running.
struct ChildInfo {
  std::string name = {};
  Pid pid = {};
  ChildType type = ChildType::worker;
};

// OTP's count_children.
struct ChildCounts {
  std::size_t specs = 0;
  std::size_t active = 0;
  std::size_t supervisors = 0;
  std::size_t workers = 0;
};

// Answers one request, now or after a stop.
template <typename R>
class Reply {
 public:
  explicit Reply(std::shared_ptr<ReplySink<R>> sink) : sink_(std::move(sink)) {}
  void operator()(CallValue<R> value) const { sink_->reply({std::move(value), nullptr}); }
  void fail(SupervisorError::Kind kind, const std::string& what) const {
    // Thrown rather than copied into the exception_ptr, and handed over
    // after the catch: the caller's thread is then its only owner (a copy
    // would share its reference-counted message with this thread).
    std::exception_ptr error;
    try {
      throw SupervisorError(kind, what);
    } catch (...) {
      error = std::current_exception();
    }
    sink_->reply({std::nullopt, std::move(error)});
  }

 private:
  std::shared_ptr<ReplySink<R>> sink_;
};

class SupervisorCore : public Process {
 public:
  // Every child, in start order (a dynamic supervisor's: the running ones,
  // in no particular order), and OTP's count of them.
  virtual std::vector<ChildInfo> which_children() const = 0;
  virtual ChildCounts count_children() const = 0;
  // Stops every child and ends with `reason`; the reply comes once the
  // children have stopped.
  void stop(ExitReason reason, const Reply<void>& reply);

  // A request to the supervisor `Self`: `handle(self, reply)` runs on its
  // thread when it is not busy.
  template <typename R, typename Self, typename Handle>
  static Request<R> request(const Pid& to, Handle handle) {
    return Request<R>(
        to, [handle = std::move(handle)](Process& p, std::unique_ptr<ReplySink<R>>& sink) {
          auto& self = static_cast<Self&>(p);
          self.submit([&self, handle,
                       reply = Reply<R>(std::shared_ptr<ReplySink<R>>(std::move(sink)))]() mutable {
            handle(self, reply);
          });
        });
  }

 protected:
  // `all_at_once`: children are stopped all at once when it ends (as a
  // DynamicSupervisor does), else one after the other, last started first.
  SupervisorCore(int max_restarts, std::chrono::milliseconds period, ReportHandler on_report,
                 bool all_at_once);

  // Runs `request` now, or after the stop in progress.
  void submit(std::function<void()> request);
  // Sends `run` to this supervisor's own mailbox (a restart to try again).
  void later(std::function<void()> run);

  struct Stop {
    Pid pid;
    Shutdown shutdown;
    std::string name;
    bool permanent = false;
  };
  // Stops `stops` one after the other, in that order, or all at once, then
  // runs `then` (at once when there are none). Busy meanwhile.
  void stop_children(std::vector<Stop> stops, bool all_at_once, std::function<void()> then);
  bool busy() const { return busy_; }
  // Stops `stops` one after the other, in that order, each by its shutdown
  // policy, and returns once they have ended: for an init that fails, whose
  // start reports the failure only then. The handler waits, running the
  // other processes of its thread (Scheduler::run_here_until), where the
  // children it started live.
  void stop_before_returning(const std::vector<Stop>& stops);

  // What to do about a child's end, or about a failed start to try again
  // (no exit): the decision core's answer (runtime/restart_decision.hpp),
  // the one every supervisor in otpd follows. A restart, and the one too
  // many that gives up, count against the intensity.
  RestartDecision decide(Strategy strategy, std::span<const ChildFacts> children,
                         std::uint64_t child, std::optional<config::ExitKind> exit);
  // Runs a child's start function in this handler, setting `pid` (empty:
  // OTP's `ignore`) and reporting `started`; why it failed, if it did.
  std::optional<ExitReason> run_start(const StartFunction& start, const std::string& name,
                                      Pid& pid) const;
  // Reports reaching the intensity and shuts down with `shutdown`.
  void give_up(const std::string& child, const ExitReason& reason);

  void report(SupervisorReport::Kind kind, const std::string& child, const Pid& pid,
              const ExitReason& reason) const;

  // Ends the supervisor with `reason` once this handler returns; nothing
  // waiting runs any more.
  void finish(ExitReason reason) {
    ending_ = true;
    exit(std::move(reason));
  }

  // Stops every child and ends with `reason`.
  void shut_down(ExitReason reason);
  // The running children, in the order they are stopped in.
  virtual std::vector<Stop> running_children() const = 0;
  // A linked process other than the parent ended.
  virtual void child_exited(const Pid& pid, const ExitReason& reason) = 0;

  void on_ended(const ExitReason& reason) override;

 private:
  struct Deferred {
    Pid from;
    std::optional<ExitReason> exit;  // an exit message, else a request
    std::function<void()> request;
  };
  struct Stopping {
    Stop stop;
    bool killed = false;  // this supervisor sent `killed`
  };
  struct ShutdownTimer;

  void on_exit_message(const Pid& from, const ExitReason& reason) override;
  void exited(const Pid& from, const ExitReason& reason);
  void begin_stop(Stop stop);
  void stopped(const Stopping& stopping, const ExitReason& reason);
  void advance();
  void shutdown_timer_fired(std::uint64_t generation, std::chrono::milliseconds timeout);
  void replay();

  RestartWindow intensity_;
  ReportHandler on_report_;
  bool busy_ = false;
  bool ending_ = false;
  const bool stops_all_at_once_;
  bool all_at_once_ = false;
  std::uint64_t stop_generation_ = 0;
  std::deque<Stop> to_stop_;
  std::unordered_map<Process*, Stopping> stopping_;
  std::vector<std::chrono::milliseconds> timers_armed_;
  std::function<void()> after_stop_;
  std::deque<Deferred> deferred_;
};

// What the handles of a Supervisor and a DynamicSupervisor share. Every
// request is a Request<R>: co_await it in a handler, or wait() for it from
// a thread outside the runtime; an error is thrown as SupervisorError.
class SupervisorHandle {
 public:
  SupervisorHandle() = default;
  explicit SupervisorHandle(Pid pid) : pid_(std::move(pid)) {}

  // Every child, in start order (a dynamic supervisor's: the running ones,
  // in no particular order).
  Request<std::vector<ChildInfo>> which_children() const;
  Request<ChildCounts> count_children() const;
  // Stops the children (a Supervisor's last started first, a
  // DynamicSupervisor's all at once) and ends the supervisor with `reason`;
  // the reply comes once the children have stopped.
  Request<void> stop(ExitReason reason = ExitReason::shutdown()) const;

  const Pid& pid() const { return pid_; }
  explicit operator bool() const { return static_cast<bool>(pid_); }

 protected:
  Pid pid_;
};

}  // namespace otpd::runtime

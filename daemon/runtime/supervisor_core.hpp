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
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/call.hpp"
#include "runtime/child_spec.hpp"
#include "runtime/process.hpp"
#include "runtime/request.hpp"
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
  SupervisorCore(int max_restarts, std::chrono::milliseconds period, ReportHandler on_report);

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
  // runs `then`. Busy meanwhile.
  void stop_children(std::vector<Stop> stops, bool all_at_once, std::function<void()> then);
  bool busy() const { return busy_; }

  // Records a restart; false when it is one too many (the caller gives up).
  bool may_restart() { return intensity_.add(scheduler().now()); }
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
  virtual void shut_down(ExitReason reason) = 0;
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
  bool all_at_once_ = false;
  std::uint64_t stop_generation_ = 0;
  std::deque<Stop> to_stop_;
  std::unordered_map<Process*, Stopping> stopping_;
  std::vector<std::chrono::milliseconds> timers_armed_;
  std::function<void()> after_stop_;
  std::deque<Deferred> deferred_;
};

}  // namespace otpd::runtime

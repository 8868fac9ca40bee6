#include "runtime/supervisor_core.hpp"

#include <algorithm>

#include "runtime/envelope.hpp"
#include "runtime/scheduler.hpp"

namespace otpd::runtime {

const char* to_string(SupervisorReport::Kind kind) {
  switch (kind) {
    case SupervisorReport::Kind::started:
      return "started";
    case SupervisorReport::Kind::child_terminated:
      return "child_terminated";
    case SupervisorReport::Kind::start_error:
      return "start_error";
    case SupervisorReport::Kind::shutdown_error:
      return "shutdown_error";
    case SupervisorReport::Kind::reached_max_restart_intensity:
      return "reached_max_restart_intensity";
  }
  return "unknown";
}

// Fires once per distinct timeout of a stop: the children still being
// stopped with that timeout are killed.
struct SupervisorCore::ShutdownTimer final : Envelope {
  ShutdownTimer(std::uint64_t generation, std::chrono::milliseconds timeout)
      : generation(generation), timeout(timeout) {}
  void deliver(Process& p) override {
    static_cast<SupervisorCore&>(p).shutdown_timer_fired(generation, timeout);
  }
  std::uint64_t generation;
  std::chrono::milliseconds timeout;
};

SupervisorCore::SupervisorCore(int max_restarts, std::chrono::milliseconds period,
                               ReportHandler on_report)
    : intensity_(max_restarts, period), on_report_(std::move(on_report)) {
  trap_exits(true);
}

void SupervisorCore::report(SupervisorReport::Kind kind, const std::string& child, const Pid& pid,
                            const ExitReason& reason) const {
  if (on_report_) on_report_({kind, child, pid, reason});
}

void SupervisorCore::submit(std::function<void()> request) {
  if (busy_ || ending_) {
    deferred_.push_back({{}, std::nullopt, std::move(request)});
    return;
  }
  request();
}

void SupervisorCore::later(std::function<void()> run) {
  self().send(make_envelope([run = std::move(run)](Process& p) mutable {
    static_cast<SupervisorCore&>(p).submit(std::move(run));
  }));
}

void SupervisorCore::give_up(const std::string& child, const ExitReason& reason) {
  report(SupervisorReport::Kind::reached_max_restart_intensity, child, {}, reason);
  shut_down(ExitReason::shutdown());
}

void SupervisorCore::on_ended(const ExitReason&) {
  // Requests still waiting are answered `ended` as their replies go.
  deferred_.clear();
}

// --- exits ----------------------------------------------------------------------

void SupervisorCore::on_exit_message(const Pid& from, const ExitReason& reason) {
  if (busy_) {
    const auto found = stopping_.find(from.get());
    if (found == stopping_.end()) {
      deferred_.push_back({from, reason, {}});
      return;
    }
    const Stopping stopping = std::move(found->second);
    stopping_.erase(found);
    stopped(stopping, reason);
    advance();
    return;
  }
  exited(from, reason);
}

void SupervisorCore::exited(const Pid& from, const ExitReason& reason) {
  if (ending_) return;
  if (from && from == parent()) {
    shut_down(reason);
    return;
  }
  child_exited(from, reason);
}

// --- stopping children --------------------------------------------------------------

void SupervisorCore::stop_children(std::vector<Stop> stops, bool all_at_once,
                                   std::function<void()> then) {
  busy_ = true;
  all_at_once_ = all_at_once;
  ++stop_generation_;
  timers_armed_.clear();
  after_stop_ = std::move(then);
  if (all_at_once) {
    stopping_.reserve(stops.size());
    for (Stop& stop : stops) begin_stop(std::move(stop));
  } else {
    to_stop_.assign(std::make_move_iterator(stops.begin()), std::make_move_iterator(stops.end()));
  }
  advance();
}

void SupervisorCore::begin_stop(Stop stop) {
  // Ended already, its exit set aside meanwhile: nothing to send.
  const auto early = std::find_if(deferred_.begin(), deferred_.end(),
                                  [&](const Deferred& d) { return d.exit && d.from == stop.pid; });
  if (early != deferred_.end()) {
    const ExitReason reason = *early->exit;
    deferred_.erase(early);
    stopped({std::move(stop), false}, reason);
    return;
  }
  Stopping& entry = stopping_[stop.pid.get()];
  entry.stop = std::move(stop);
  const Pid& pid = entry.stop.pid;
  const Shutdown shutdown = entry.stop.shutdown;
  if (shutdown.kind == Shutdown::Kind::brutal_kill) {
    entry.killed = true;
    exit_signal(pid, ExitReason::killed(), self());
    return;
  }
  exit_signal(pid, ExitReason::shutdown(), self());
  if (shutdown.kind == Shutdown::Kind::timeout &&
      std::find(timers_armed_.begin(), timers_armed_.end(), shutdown.timeout) ==
          timers_armed_.end()) {
    timers_armed_.push_back(shutdown.timeout);
    scheduler().start_timer(*this, shutdown.timeout,
                            new ShutdownTimer(stop_generation_, shutdown.timeout));
  }
}

void SupervisorCore::shutdown_timer_fired(std::uint64_t generation,
                                          std::chrono::milliseconds timeout) {
  if (!busy_ || generation != stop_generation_) return;
  for (auto& [process, entry] : stopping_) {
    if (entry.killed || entry.stop.shutdown.kind != Shutdown::Kind::timeout ||
        entry.stop.shutdown.timeout != timeout) {
      continue;
    }
    entry.killed = true;
    exit_signal(entry.stop.pid, ExitReason::killed(), self());
  }
}

// OTP's rule: `shutdown` is the expected end (`killed` too for brutal_kill),
// and any normal end of a child that is not permanent.
void SupervisorCore::stopped(const Stopping& stopping, const ExitReason& reason) {
  const bool brutal = stopping.stop.shutdown.kind == Shutdown::Kind::brutal_kill;
  const bool expected = (brutal && reason.kind() == ExitReason::Kind::killed) ||
                        reason == ExitReason::shutdown() ||
                        (!stopping.stop.permanent && reason.is_normal());
  if (!expected) {
    report(SupervisorReport::Kind::shutdown_error, stopping.stop.name, stopping.stop.pid, reason);
  }
}

void SupervisorCore::advance() {
  if (!all_at_once_) {
    while (stopping_.empty() && !to_stop_.empty()) {
      Stop next = std::move(to_stop_.front());
      to_stop_.pop_front();
      begin_stop(std::move(next));
    }
  }
  if (!stopping_.empty()) return;
  busy_ = false;
  ++stop_generation_;  // timers still pending find nothing to do
  auto then = std::exchange(after_stop_, {});
  if (then) then();
  replay();
}

void SupervisorCore::replay() {
  while (!busy_ && !ending_ && !deferred_.empty()) {
    Deferred next = std::move(deferred_.front());
    deferred_.pop_front();
    if (next.exit) {
      exited(next.from, *next.exit);
    } else {
      next.request();
    }
  }
}

}  // namespace otpd::runtime

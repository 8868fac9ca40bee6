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
                               ReportHandler on_report, bool all_at_once)
    : intensity_(max_restarts, period),
      on_report_(std::move(on_report)),
      stops_all_at_once_(all_at_once) {
  trap_exits(true);
}

void SupervisorCore::stop(ExitReason reason, const Reply<void>& reply) {
  stop_children(running_children(), stops_all_at_once_, [this, reason, reply] {
    reply(std::monostate{});
    finish(reason);
  });
}

void SupervisorCore::shut_down(ExitReason reason) {
  stop_children(running_children(), stops_all_at_once_, [this, reason] { finish(reason); });
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

RestartDecision SupervisorCore::decide(Strategy strategy, std::span<const ChildFacts> children,
                                       std::uint64_t child, std::optional<config::ExitKind> exit) {
  const auto now = scheduler().now();
  RestartDecision decision = exit ? decide_exit(strategy, children, child, *exit, intensity_, now)
                                  : decide_retry(strategy, children, child, intensity_, now);
  if (decision.action == RestartDecision::Action::restart ||
      decision.action == RestartDecision::Action::give_up) {
    intensity_.add(now);
  }
  return decision;
}

std::optional<ExitReason> SupervisorCore::run_start(const StartFunction& start,
                                                    const std::string& name, Pid& pid) const {
  try {
    pid = start();
  } catch (const StartError& e) {
    return e.reason();
  } catch (const std::exception& e) {
    return ExitReason::error(e.what());
  }
  if (pid) report(SupervisorReport::Kind::started, name, pid, ExitReason::normal());
  return std::nullopt;
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
  if (stops.empty()) {
    then();
    return;
  }
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

void SupervisorCore::stop_before_returning(const std::vector<Stop>& stops) {
  for (const Stop& stop : stops) {
    const Process* child = stop.pid.get();
    const auto ended = [child] { return !child->alive(); };
    if (!stop.shutdown.asks()) {
      exit_signal(stop.pid, ExitReason::killed(), self());
      scheduler().run_here_until(ended);
      continue;
    }
    exit_signal(stop.pid, ExitReason::shutdown(), self());
    std::optional<std::chrono::steady_clock::time_point> until;
    if (const auto after = stop.shutdown.kill_after()) until = scheduler().now() + *after;
    if (scheduler().run_here_until(ended, until)) continue;
    exit_signal(stop.pid, ExitReason::killed(), self());
    report(SupervisorReport::Kind::shutdown_error, stop.name, stop.pid, ExitReason::killed());
    scheduler().run_here_until(ended);
  }
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
  if (!shutdown.asks()) {
    entry.killed = true;
    exit_signal(pid, ExitReason::killed(), self());
    return;
  }
  exit_signal(pid, ExitReason::shutdown(), self());
  const auto after = shutdown.kill_after();
  if (after &&
      std::find(timers_armed_.begin(), timers_armed_.end(), *after) == timers_armed_.end()) {
    timers_armed_.push_back(*after);
    scheduler().start_timer(*this, *after, new ShutdownTimer(stop_generation_, *after));
  }
}

void SupervisorCore::shutdown_timer_fired(std::uint64_t generation,
                                          std::chrono::milliseconds timeout) {
  if (!busy_ || generation != stop_generation_) return;
  for (auto& [process, entry] : stopping_) {
    if (entry.killed || entry.stop.shutdown.kill_after() != timeout) continue;
    entry.killed = true;
    exit_signal(entry.stop.pid, ExitReason::killed(), self());
  }
}

// OTP's rule: `shutdown` is the expected end (`killed` too for brutal_kill),
// and any normal end of a child that is not permanent.
void SupervisorCore::stopped(const Stopping& stopping, const ExitReason& reason) {
  const bool brutal = !stopping.stop.shutdown.asks();
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

namespace {

template <typename R, typename Handle>
Request<R> ask(const Pid& supervisor, Handle handle) {
  return SupervisorCore::request<R, SupervisorCore>(supervisor, std::move(handle));
}

}  // namespace

Request<std::vector<ChildInfo>> SupervisorHandle::which_children() const {
  return ask<std::vector<ChildInfo>>(
      pid_, [](SupervisorCore& s, const Reply<std::vector<ChildInfo>>& reply) {
        reply(s.which_children());
      });
}

Request<ChildCounts> SupervisorHandle::count_children() const {
  return ask<ChildCounts>(
      pid_, [](SupervisorCore& s, const Reply<ChildCounts>& reply) { reply(s.count_children()); });
}

Request<void> SupervisorHandle::stop(ExitReason reason) const {
  return ask<void>(pid_, [reason = std::move(reason)](SupervisorCore& s, const Reply<void>& reply) {
    s.stop(reason, reply);
  });
}

}  // namespace otpd::runtime

#include "workers/cron.hpp"

#include <algorithm>
#include <ctime>

#include "config/signals.hpp"

namespace otpd::workers {
namespace {

using supervise::EventKind;
using namespace std::chrono_literals;

// However far the next run is, the worker looks at the wall clock at least
// this often: a jump forward delays a scheduled run by no more than this,
// and a clock set back is seen this soon, for check_cron_plan to plan again
// (a year-ahead clock set right must not hold a daily job for a year).
constexpr std::chrono::seconds kLongestWait{30};

constexpr const char* kVocabulary = R"(expected "status" or "run")";

std::string describe_trigger(const std::string& trigger) {
  if (trigger == "start") return "run_at_start";
  if (trigger == "request") return "requested with otpctl call";
  return "scheduled";
}

struct RunEndContext {
  std::optional<supervise::Duration> timeout = {};
  bool killed_for_overlap = false;
  bool worker_gone = false;  // killed because the worker was ending
};

// The run_succeeded or run_failed event of a run that ended (no path yet).
supervise::Event run_end_event(const CommandOutcome& outcome, const RunEndContext& context) {
  const bool succeeded =
      outcome.status && *outcome.status == supervise::ExitStatus::exited(0) && !outcome.timed_out;
  const std::string after = " after " + config::format_duration(outcome.ran_for);
  std::string reason;
  if (outcome.pid == 0) {
    reason = "cannot run: " + outcome.error;
  } else if (outcome.timed_out) {
    reason =
        "timed out: still running after " + config::format_duration(*context.timeout) + ", killed";
  } else if (outcome.killed && context.killed_for_overlap) {
    reason = "killed for overlap: a new run was due" + after;
  } else if (outcome.killed && context.worker_gone) {
    reason = "killed: the cron worker is stopping";
  } else {
    reason = describe(*outcome.status) + after;
  }
  return {.kind = succeeded ? EventKind::run_succeeded : EventKind::run_failed,
          .pid = outcome.pid,
          .status = outcome.status,
          .reason = std::move(reason),
          .duration = outcome.ran_for};
}

// ISO 8601 in otpd's local time zone, with its offset: 2026-11-24T03:00:00+01:00.
std::string local_time_text(std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  localtime_r(&t, &tm);
  char text[64];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S%z", &tm);
  std::string out(text, n);
  if (out.size() >= 5) out.insert(out.size() - 2, ":");
  return out;
}

supervise::Duration milliseconds(auto duration) {
  return std::chrono::duration_cast<supervise::Duration>(duration);
}

}  // namespace

Cron::Cron(Ended ended, std::string path, config::CronSettings settings, LoopServices& services)
    : BuiltinWorker(std::move(ended)),
      path_(std::move(path)),
      settings_(std::move(settings)),
      services_(services) {}

void Cron::begin() {
  if (settings_.schedule) {
    plan_ = config::start_cron_plan(*settings_.schedule, WallClock::to_time_t(WallClock::now()));
  } else {
    next_every_ = Steady::now() + settings_.every;
  }
  if (settings_.run_at_start) due("start");
  arm_timer();
}

void Cron::cleanup() {
  if (!running_) return;
  {
    std::lock_guard lock(running_->end->mutex);
    if (!running_->end->outcome) {
      // The run is the worker's task: it goes with it, and the loop reports
      // its end (run_end_event) once it has been killed and reaped.
      running_->end->worker_gone = true;
      services_.kill_command(running_->command);
      return;
    }
  }
  // It ended on its own just before: its outcome is in a message that this
  // worker will not read.
  finish_run(*running_->end->outcome);
}

// --- the schedule ----------------------------------------------------------------

void Cron::arm_timer() {
  const auto next = next_run_time();
  next_run_ms_.store(
      next == WallClock::time_point::max()
          ? 0
          : std::chrono::duration_cast<std::chrono::milliseconds>(next.time_since_epoch()).count(),
      std::memory_order_relaxed);
  Steady::duration wait = kLongestWait;
  if (!settings_.schedule) {
    wait = std::min<Steady::duration>(wait, next_every_ - Steady::now());
  } else if (plan_.next) {
    wait = std::min<Steady::duration>(wait, WallClock::from_time_t(*plan_.next) - WallClock::now());
  }
  wait = std::max<Steady::duration>(wait, Steady::duration::zero());
  scheduler().start_timer(*this, wait, runtime::make_envelope([](runtime::Process& self) {
    static_cast<Cron&>(self).timer_fired();
  }));
}

void Cron::timer_fired() {
  if (!settings_.schedule) {
    const auto now = Steady::now();
    if (now >= next_every_) {
      due("schedule");
      // Runs missed while the worker's thread was held up are not made up.
      next_every_ += settings_.every;
      if (next_every_ <= now) next_every_ = now + settings_.every;
    }
  } else {
    const auto check =
        config::check_cron_plan(*settings_.schedule, plan_, WallClock::to_time_t(WallClock::now()));
    plan_ = check.plan;
    if (check.due) due("schedule");
  }
  arm_timer();
}

Cron::WallClock::time_point Cron::next_run_time() const {
  if (settings_.schedule) {
    return plan_.next ? WallClock::from_time_t(*plan_.next) : WallClock::time_point::max();
  }
  return WallClock::now() +
         std::chrono::duration_cast<WallClock::duration>(next_every_ - Steady::now());
}

// --- runs ------------------------------------------------------------------------

Json Cron::due(const std::string& trigger) {
  if (!running_) {
    start_run(trigger, describe_trigger(trigger));
    return {{"result", "started"}};
  }
  const std::string busy =
      "the previous run" +
      (running_->pid != 0 ? " (pid " + std::to_string(running_->pid) + ")" : std::string()) +
      " is still running";
  auto skip = [&](const std::string& why) {
    ++skipped_;
    emit({.kind = EventKind::run_skipped, .reason = describe_trigger(trigger) + ": " + why});
    return Json{{"result", "skipped"}, {"reason", why}};
  };
  switch (settings_.overlap) {
    case config::CronSettings::Overlap::skip:
      return skip(busy);
    case config::CronSettings::Overlap::queue:
      if (waiting_) return skip(busy + " and another run is queued");
      waiting_ = trigger;
      emit({.kind = EventKind::run_queued,
            .reason = describe_trigger(trigger) + ": " + busy + "; it starts when that ends"});
      return {{"result", "queued"}, {"reason", busy}};
    case config::CronSettings::Overlap::kill:
      if (waiting_) return skip(busy + " and a run already waits for it to be killed");
      waiting_ = trigger;
      running_->killed_for_overlap = true;
      services_.kill_command(running_->command);
      return {{"result", "killing_previous"}, {"reason", busy + "; killing it"}};
  }
  return {};
}

void Cron::start_run(const std::string& trigger, const std::string& why) {
  Run run{.number = ++started_,
          .end = std::make_shared<RunEnd>(),
          .trigger = trigger,
          .why = why,
          .started_at = WallClock::now()};
  const std::uint64_t number = run.number;
  // Runs on the loop, possibly after this worker has ended (LoopServices
  // outlives every worker).
  auto ended = [self = server(), number, end = run.end, &services = services_, path = path_,
                timeout = settings_.timeout](CommandOutcome outcome) {
    std::unique_lock lock(end->mutex);
    if (end->worker_gone) {
      lock.unlock();
      supervise::Event event = run_end_event(outcome, {.timeout = timeout, .worker_gone = true});
      event.path = path;
      services.emit(std::move(event));
      return;
    }
    end->outcome = outcome;
    lock.unlock();
    self.cast(&Cron::run_ended, number, std::move(outcome));
  };
  run.command = services_.start_command(
      path_, settings_.command, settings_.timeout,
      [self = server(), number](int pid) { self.cast(&Cron::run_started, number, pid); },
      std::move(ended));
  running_ = std::move(run);
}

void Cron::run_started(std::uint64_t number, int pid) {
  if (!running_ || running_->number != number) return;
  running_->pid = pid;
  emit({.kind = EventKind::run_started, .pid = pid, .reason = running_->why});
}

void Cron::run_ended(std::uint64_t number, CommandOutcome outcome) {
  if (!running_ || running_->number != number) return;
  const bool was_killed = finish_run(std::move(outcome));
  if (waiting_) {
    const std::string trigger = std::exchange(waiting_, std::nullopt).value();
    start_run(trigger,
              describe_trigger(trigger) + (was_killed ? ", after killing the previous run"
                                                      : ", queued behind the previous run"));
  }
}

bool Cron::finish_run(CommandOutcome outcome) {
  supervise::Event event = run_end_event(
      outcome, {.timeout = settings_.timeout, .killed_for_overlap = running_->killed_for_overlap});
  Finished finished{.run = std::move(*running_), .outcome = std::move(outcome)};
  running_.reset();
  finished.succeeded = event.kind == EventKind::run_succeeded;
  finished.reason = event.reason;
  if (!finished.succeeded) ++failed_;
  emit(std::move(event));
  const bool was_killed = finished.run.killed_for_overlap;
  last_ = std::move(finished);
  return was_killed;
}

// --- calls ----------------------------------------------------------------------

Json Cron::json_call(const Json& message) {
  if (message == "status") return status();
  if (message == "run") return due("request");
  throw BadRequest(kVocabulary);
}

void Cron::json_cast(const Json& message) {
  if (message == "run") due("request");
}

Json Cron::status() const {
  Json out = Json::object();
  if (settings_.schedule) {
    out["schedule"] = settings_.schedule->text;
  } else {
    out["every"] = config::format_duration(settings_.every);
  }
  out["overlap"] = config::to_string(settings_.overlap);
  out["timeout"] = settings_.timeout ? Json(config::format_duration(*settings_.timeout)) : Json();
  const auto next = next_run_time();
  if (next == WallClock::time_point::max()) {
    out["next_run"] = nullptr;
  } else {
    out["next_run"] = local_time_text(next);
    out["next_run_in_ms"] = std::max<long long>(0, milliseconds(next - WallClock::now()).count());
  }
  if (running_) {
    out["running"] = {{"pid", running_->pid != 0 ? Json(running_->pid) : Json()},
                      {"started", local_time_text(running_->started_at)},
                      {"trigger", running_->trigger}};
  } else {
    out["running"] = nullptr;
  }
  out["waiting"] = waiting_ ? Json(*waiting_) : Json();
  if (last_) {
    Json last = {{"started", local_time_text(last_->run.started_at)},
                 {"trigger", last_->run.trigger},
                 {"outcome", last_->succeeded ? "succeeded" : "failed"},
                 {"reason", last_->reason}};
    if (last_->outcome.pid != 0) last["pid"] = last_->outcome.pid;
    if (const auto& status = last_->outcome.status) {
      if (status->signaled) {
        last["signal"] = config::signal_name(status->code);
      } else {
        last["exit_status"] = status->code;
      }
      last["duration_ms"] = last_->outcome.ran_for.count();
    }
    out["last_run"] = std::move(last);
  } else {
    out["last_run"] = nullptr;
  }
  out["runs"] = started_;
  out["failed"] = failed_;
  out["skipped"] = skipped_;
  return out;
}

void Cron::emit(supervise::Event event) {
  event.path = path_;
  services_.emit(std::move(event));
}

}  // namespace otpd::workers

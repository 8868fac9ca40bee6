#include "workers/health_check.hpp"

namespace otpd::workers {

using Probe = config::HealthCheckSettings::Probe;

namespace {

// An exec probe passes when its command exits 0 within the timeout.
ProbeResult judge_command(const CommandOutcome& outcome, supervise::Duration timeout) {
  if (outcome.pid == 0) return {false, "cannot run: " + outcome.error};
  if (outcome.timed_out) {
    return {false, "still running after " + config::format_duration(timeout) + ", killed"};
  }
  return {*outcome.status == supervise::ExitStatus::exited(0), describe(*outcome.status)};
}

}  // namespace

HealthCheck::HealthCheck(Ended ended, std::string path, config::HealthCheckSettings settings,
                         LoopServices& services, std::string guarded_path)
    : BuiltinWorker(std::move(ended)),
      path_(std::move(path)),
      settings_(std::move(settings)),
      services_(services),
      guarded_path_(std::move(guarded_path)) {}

void HealthCheck::begin() {
  probe_after(settings_.initial_delay);
}

void HealthCheck::probe_after(supervise::Duration delay) {
  scheduler().start_timer(*this, delay, runtime::make_envelope([](runtime::Process& self) {
    static_cast<HealthCheck&>(self).probe();
  }));
}

// The answer comes back on the loop, and from there as a cast: it is
// dropped if this worker has ended meanwhile.
void HealthCheck::probe() {
  auto reply = [self = server()](ProbeResult result) { self.cast(&HealthCheck::probed, result); };
  switch (settings_.probe) {
    case Probe::tcp:
      services_.connect(settings_.host, settings_.port, settings_.timeout, std::move(reply));
      break;
    case Probe::http:
      services_.http_get(settings_.host, settings_.port, settings_.target, settings_.timeout,
                         std::move(reply));
      break;
    case Probe::exec:
      command_ = services_.start_command(
          path_, settings_.command, settings_.timeout, nullptr,
          [reply = std::move(reply), timeout = settings_.timeout](const CommandOutcome& outcome) {
            reply(judge_command(outcome, timeout));
          });
      break;
  }
}

void HealthCheck::cleanup() {
  if (command_) services_.kill_command(*command_);
}

void HealthCheck::probed(ProbeResult result) {
  command_.reset();
  if (result.ok) {
    if (failed_in_a_row_ > 0) {
      emit(supervise::EventKind::health_recovered,
           what_is_probed() + ": " + result.detail + " after " + std::to_string(failed_in_a_row_) +
               " failed probe" + (failed_in_a_row_ == 1 ? "" : "s"));
    }
    failed_in_a_row_ = 0;
    probe_after(settings_.interval);
    return;
  }
  ++failed_in_a_row_;
  emit(supervise::EventKind::health_failed, what_is_probed() + ": " + result.detail + " (" +
                                                std::to_string(failed_in_a_row_) + "/" +
                                                std::to_string(settings_.failures) + ")");
  if (failed_in_a_row_ < settings_.failures) {
    probe_after(settings_.interval);
    return;
  }
  const std::string why = std::to_string(failed_in_a_row_) + " failed probes in a row";
  if (guarded_path_.empty()) {
    emit(supervise::EventKind::unhealthy, why + "; exiting");
    stop(runtime::ExitReason::error("unhealthy: " + why + " (" + what_is_probed() + ": " +
                                    result.detail + ")"));
    return;
  }
  emit(supervise::EventKind::unhealthy, why + "; killing " + guarded_path_);
  services_.kill_process(guarded_path_);
  // Under rest_for_one or one_for_all the guarded process's restart
  // restarts this check too; otherwise it goes on from a fresh count, the
  // new process given the initial delay.
  failed_in_a_row_ = 0;
  probe_after(std::max(settings_.interval, settings_.initial_delay));
}

std::string HealthCheck::what_is_probed() const {
  switch (settings_.probe) {
    case Probe::tcp: {
      const bool v6 = settings_.host.find(':') != std::string::npos;
      return "tcp " + (v6 ? "[" + settings_.host + "]" : settings_.host) + ":" +
             std::to_string(settings_.port);
    }
    case Probe::http:
      return "GET " + settings_.url;
    case Probe::exec: {
      const auto& argv = settings_.command.argv;
      return "'" + (settings_.command.via_shell ? argv.back() : argv.front()) + "'";
    }
  }
  return "probe";
}

void HealthCheck::emit(supervise::EventKind kind, std::string reason) {
  services_.emit({.kind = kind, .path = path_, .reason = std::move(reason)});
}

}  // namespace otpd::workers

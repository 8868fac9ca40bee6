#include "supervise/process_node.hpp"

#include <signal.h>

#include <algorithm>

#include "config/signals.hpp"
#include "sd_notify/notify_message.hpp"
#include "supervise/program_hints.hpp"

namespace otpd::supervise {
namespace {

using Kind = config::Readiness::Kind;

// The longest a single readiness probe (a connection attempt, a run of the
// probe command) may take before it counts as failed.
constexpr Duration kProbeRunLimit{5000};
// How long a process killed by its watchdog has to dump core after SIGABRT
// when its shutdown policy gives no time (infinity).
constexpr Duration kWatchdogGraceForInfinity{5000};

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) out += (out.empty() ? "" : " ") + word;
  return out;
}

std::string address_of(const config::Readiness& ready) {
  const bool v6 = ready.host.find(':') != std::string::npos;
  return (v6 ? "[" + ready.host + "]" : ready.host) + ":" + std::to_string(ready.port);
}

}  // namespace

ProcessNode::ProcessNode(Context& context, std::string path, const config::ProcessSpec& spec,
                         config::Shutdown shutdown)
    : Node(context, std::move(path)),
      spec_(&spec),
      shutdown_(shutdown),
      self_(std::make_shared<ProcessNode*>(this)) {
  if (spec.ready->kind == Kind::exec) {
    // The probe runs like the child (directory, environment, and whatever
    // else the spec says about how to run it), without readiness of its own.
    probe_spec_ = std::make_unique<config::ProcessSpec>(spec);
    probe_spec_->argv = spec.ready->argv;
    probe_spec_->via_shell = spec.ready->via_shell;
    probe_spec_->ready = config::Readiness{};
    probe_spec_->watchdog.reset();
  }
}

void ProcessNode::respec(const config::ChildSpec& spec, const std::shared_ptr<const void>&) {
  spec_ = &spec.process();
}

ProcessNode::~ProcessNode() {
  *self_ = nullptr;
  // The tree is stopped before it is destroyed; this only guards a process
  // that would otherwise outlive its supervisor.
  if (pid_ != 0) context_.processes.signal_group(pid_, SIGKILL);
  if (wait_ && wait_->probe_pid != 0) context_.processes.signal_group(wait_->probe_pid, SIGKILL);
}

const std::string& ProcessNode::notify_status() const {
  static const std::string none;
  return notified_ ? notified_->status : none;
}

void ProcessNode::start(Resume<Failure> done) {
  notified_.reset();
  wait_.reset();

  const config::ProcessSpec* launched = spec_;
  config::ProcessSpec with_socket;
  if (spec_->ready->kind == Kind::notify) {
    const std::string socket = context_.processes.notify_socket();
    if (socket.empty()) {
      context_.host.post([done = std::move(done)] {
        done("ready: notify needs otpd's notify socket, which could not be opened");
      });
      return;
    }
    // Last, so that they win over the spec's own.
    with_socket = *spec_;
    with_socket.env.emplace_back("NOTIFY_SOCKET", socket);
    if (spec_->watchdog) {
      with_socket.env.emplace_back("WATCHDOG_USEC",
                                   std::to_string(spec_->watchdog->count() * 1000));
    }
    launched = &with_socket;
  }

  std::weak_ptr<ProcessNode*> token = self_;
  // The exit callback names the start it belongs to, since the pid is only
  // known after spawn() returns (and a number is smaller than a cell for it).
  const std::uint32_t start = ++starts_;
  SpawnResult result =
      context_.processes.spawn(path(), *launched, [token, start](ExitStatus status) {
        if (auto self = token.lock(); self && *self) (*self)->exited(start, status);
      });
  pid_ = result.pid;
  if (result.failure) {
    context_.host.post(
        [done = std::move(done), failure = std::move(result.failure)] { done(failure); });
    return;
  }
  emit({.kind = EventKind::started, .pid = pid_});
  if (spec_->ready->kind == Kind::notify) {
    // For the whole life of the process: STATUS= and WATCHDOG=1 come later.
    notified_ = std::make_unique<Notified>();
    notified_->watch = context_.processes.watch_notify(
        pid_, [this](const std::string& datagram) { notified(datagram); });
  }
  if (spec_->ready->kind == Kind::none) {
    context_.host.post([done = std::move(done)] { done(std::nullopt); });
    return;
  }
  start_done_ = std::move(done);
  wait_ = std::make_unique<Wait>();
  wait_->probe_gap = spec_->ready->interval;
  await_readiness();
}

void ProcessNode::await_readiness() {
  if (spec_->start_timeout) {
    wait_->deadline = context_.host.now() + *spec_->start_timeout;
    wait_->start_timer = context_.host.start_timer(*spec_->start_timeout, [this] {
      fail_start(not_ready(config::format_duration(*spec_->start_timeout)));
    });
  }
  const config::Readiness& ready = *spec_->ready;
  switch (ready.kind) {
    case Kind::none:
      break;
    case Kind::notify:
      if (!notified_->watch) fail_start("otpd cannot receive sd_notify messages here");
      break;
    case Kind::fd:
      wait_->ready_fd_watch = context_.processes.watch_ready_fd(pid_, [this](bool ready) {
        const std::string fd = std::to_string(spec_->ready->fd);
        if (ready) {
          became_ready("wrote a newline to fd " + fd);
        } else {
          fail_start("closed its readiness descriptor (fd " + fd + ") without writing a newline");
        }
      });
      if (wait_ && !wait_->ready_fd_watch) {
        fail_start("otpd cannot watch a readiness descriptor here");
      }
      break;
    case Kind::tcp:
    case Kind::exec:
      probe();
      break;
    case Kind::delay:
      wait_->probe_timer = context_.host.start_timer(ready.delay, [this] {
        became_ready("up for " + config::format_duration(spec_->ready->delay));
      });
      break;
  }
}

void ProcessNode::probe() {
  if (!awaiting_ready()) return;
  if (spec_->ready->kind == Kind::tcp) {
    wait_->connect_watch = context_.processes.try_connect(
        spec_->ready->host, spec_->ready->port, kProbeRunLimit, [this](bool accepted) {
          if (!awaiting_ready()) return;
          if (!accepted) {
            wait_->last_probe = address_of(*spec_->ready) + " refused or did not answer";
            probe_later();
            return;
          }
          // An earlier copy left running (a program that daemonizes) may
          // hold the port: its answer says nothing of this one.
          const std::string holder =
              context_.processes.foreign_listener(pid_, spec_->ready->host, spec_->ready->port);
          if (holder.empty()) {
            became_ready(address_of(*spec_->ready) + " accepts connections");
            return;
          }
          wait_->last_probe = address_of(*spec_->ready) + " answered, but its listener is " +
                              holder + "'s, not this child's";
          probe_later();
        });
    if (wait_ && !wait_->connect_watch) fail_start("otpd cannot make TCP connections here");
    return;
  }
  std::weak_ptr<ProcessNode*> token = self_;
  auto pid_cell = std::make_shared<int>(0);
  // The probe is a copy of the child's spec: its output goes where the
  // child's does, under the child's path, with the probe's pid.
  SpawnResult result =
      context_.processes.spawn(path(), *probe_spec_, [token, pid_cell](ExitStatus status) {
        if (auto self = token.lock(); self && *self) (*self)->probe_exited(*pid_cell, status);
      });
  *pid_cell = result.pid;
  if (result.failure) {
    fail_start("cannot run the readiness probe: " + *result.failure);
    return;
  }
  if (!wait_) return;  // the spawn's failure of the probe ended the wait
  wait_->probe_pid = result.pid;
  wait_->probe_kill_timer = context_.host.start_timer(kProbeRunLimit, [this] {
    if (wait_ && wait_->probe_pid != 0) {
      context_.processes.signal_group(wait_->probe_pid, SIGKILL);
    }
  });
}

void ProcessNode::probe_exited(int pid, ExitStatus status) {
  // A probe abandoned earlier.
  if (!wait_ || pid != wait_->probe_pid || pid == 0) return;
  wait_->probe_pid = 0;
  wait_->probe_kill_timer.reset();
  const std::string command =
      "'" +
      joined(spec_->ready->via_shell ? std::vector{spec_->ready->argv.back()}
                                     : spec_->ready->argv) +
      "'";
  if (!status.signaled && status.code == 0) {
    became_ready(command + " succeeded");
  } else {
    wait_->last_probe = command + " " + describe(status);
    probe_later();
  }
}

// While the program starts, each failed probe doubles the wait before the
// next, from `interval` up to `max_interval` (docs/config.md, "Readiness"):
// a database in recovery is not asked ten times a second.
void ProcessNode::probe_later() {
  if (!awaiting_ready()) return;
  const Duration gap = wait_->probe_gap;
  const Duration most = std::max(spec_->ready->interval, spec_->ready->max_interval);
  wait_->probe_gap = std::min(gap * 2, most);
  wait_->probe_timer = context_.host.start_timer(gap, [this] { probe(); });
}

// "not ready after 3s: no READY=1 arrived (...)": what the wait saw, so
// that the operator need not guess.
std::string ProcessNode::not_ready(const std::string& when) const {
  std::string text = "not ready after " + when;
  if (spec_->ready->kind == Kind::notify) {
    const int messages = notified_ ? notified_->messages : 0;
    text += ": no READY=1 arrived (";
    text += messages == 0 ? std::string("no sd_notify message at all")
                          : std::to_string(messages) + " other sd_notify message" +
                                (messages == 1 ? " did" : "s did");
    text += "); " + notify_advice(program_name(*spec_));
  } else if (wait_ && !wait_->last_probe.empty()) {
    text += ": " + wait_->last_probe;
  }
  return text;
}

// Ends every way of waiting for readiness (the notify watch stays); a
// failure being reported is kept.
void ProcessNode::end_wait() {
  if (!wait_) return;
  if (wait_->probe_pid != 0) {
    context_.processes.signal_group(wait_->probe_pid, SIGKILL);  // its exit is ignored
  }
  if (!wait_->failure) {
    wait_.reset();
    return;
  }
  Failure failure = std::move(wait_->failure);
  wait_ = std::make_unique<Wait>();
  wait_->failure = std::move(failure);
}

void ProcessNode::became_ready(std::string how) {
  if (!awaiting_ready() || pid_ == 0) return;
  end_wait();
  emit({.kind = EventKind::ready, .pid = pid_, .reason = std::move(how)});
  if (spec_->watchdog) arm_watchdog();
  context_.host.post([done = std::exchange(start_done_, nullptr)] { done(std::nullopt); });
}

// The start fails once the process is gone: it is killed, and exited()
// reports the failure, so that nothing of it runs when the supervisor hears.
void ProcessNode::fail_start(std::string why) {
  if (!awaiting_ready() || pid_ == 0) return;
  end_wait();
  wait_ = std::make_unique<Wait>();
  wait_->failure = std::move(why);
  emit({.kind = EventKind::stopping, .pid = pid_, .reason = *wait_->failure + ", sending SIGKILL"});
  context_.processes.signal_group(pid_, SIGKILL);
}

void ProcessNode::abort_start(const std::string& why) {
  if (!awaiting_ready()) return;
  end_wait();
  context_.host.post([done = std::exchange(start_done_, nullptr), why] { done(why); });
  stop(why, [](Done) {});
}

void ProcessNode::notified(const std::string& datagram) {
  if (pid_ == 0) return;
  if (!notified_) return;
  const sd_notify::NotifyMessage message = sd_notify::parse_notify(datagram);
  Notified& notified = *notified_;
  ++notified.messages;
  if (message.main_pid != 0) notified.main_pid = message.main_pid;
  if (message.status) notified.status = *message.status;
  if (message.stopping) notified.announced_stopping = true;
  if (message.extend_timeout && awaiting_ready() && wait_ && wait_->start_timer) {
    // As systemd does: the start may now take until `extend` from now, if
    // that is later than the deadline so far.
    const TimePoint wanted = context_.host.now() + *message.extend_timeout;
    if (wanted > wait_->deadline) {
      wait_->deadline = wanted;
      wait_->start_timer = context_.host.start_timer(*message.extend_timeout, [this] {
        fail_start(not_ready(config::format_duration(*spec_->start_timeout) +
                             " and the extensions it asked for"));
      });
    }
  }
  if (message.ready) became_ready("READY=1");
  if (!spec_->watchdog || (wait_ && wait_->failure) || !notified_) return;
  if (message.watchdog_trigger) {
    watchdog_failed("watchdog triggered by the child (WATCHDOG=trigger)");
  } else if (message.watchdog && notified_->watchdog_timer) {
    arm_watchdog();
  }
}

void ProcessNode::arm_watchdog() {
  if (!notified_) return;
  notified_->watchdog_timer = context_.host.start_timer(*spec_->watchdog, [this] {
    watchdog_failed("watchdog timeout (no WATCHDOG=1 for " +
                    config::format_duration(*spec_->watchdog) + ")");
  });
}

// SIGABRT, so that the hung program can leave a core dump, then SIGKILL
// after its shutdown timeout; the exit is then a crash.
void ProcessNode::watchdog_failed(std::string why) {
  if (pid_ == 0 || stopping_ || !notified_ || notified_->watchdog_failure) return;
  notified_->watchdog_timer.reset();
  notified_->watchdog_failure = std::move(why);
  if (shutdown_.kind == config::Shutdown::Kind::brutal_kill) {
    kill();
    return;
  }
  context_.processes.signal_group(pid_, SIGABRT);
  const Duration grace = shutdown_.kind == config::Shutdown::Kind::timeout
                             ? shutdown_.timeout
                             : kWatchdogGraceForInfinity;
  kill_timer_ = context_.host.start_timer(grace, [this] { kill(); });
}

void ProcessNode::stop(const std::string& why, Resume<Done> done) {
  if (pid_ == 0) {
    context_.host.post([done = std::move(done)] { done({}); });
    return;
  }
  stop_waiters_.push_back(std::move(done));
  if (stopping_) return;
  stopping_ = true;
  if (notified_) notified_->watchdog_timer.reset();
  emit({.kind = EventKind::stopping, .pid = pid_, .reason = why});
  escalate_stop(
      shutdown_, [this] { send_stop_signal(); }, "sending SIGKILL");
}

// With kill_mode process the rest of the group is left to the main process;
// whatever of it remains is killed once the main process has been reaped.
void ProcessNode::send_stop_signal() {
  if (spec_->kill_mode == config::KillMode::process) {
    context_.processes.signal_process(pid_, spec_->stop_signal);
  } else {
    context_.processes.signal_group(pid_, spec_->stop_signal);
  }
}

void ProcessNode::kill() {
  if (pid_ != 0) context_.processes.signal_group(pid_, SIGKILL);
}

void ProcessNode::exited(std::uint32_t start, ExitStatus status) {
  if (start != starts_ || pid_ == 0) return;
  const int pid = pid_;
  pid_ = 0;
  kill_timer_.reset();
  // What a notify child said stays for the exit's report; its watch ends.
  if (notified_) {
    notified_->watchdog_timer.reset();
    notified_->watch.reset();
  }
  end_wait();
  const Failure failure = wait_ ? std::move(wait_->failure) : std::nullopt;
  wait_.reset();

  if (start_done_) {
    // Died while its start waited for readiness: the start failed, and the
    // exit is not reported again as a crash.
    std::string error =
        failure ? *failure : "exited before it was ready (" + describe(status) + ")";
    if (!failure && !stopping_ && status.clean() && !status.left_behind.empty()) {
      error += "; " + daemonize_advice(program_name(*spec_));
    }
    emit({.kind = stopping_ || failure ? EventKind::stopped : EventKind::exited,
          .pid = pid,
          .status = status,
          .reason = describe(status)});
    stopping_ = false;
    for (auto& done : std::exchange(stop_waiters_, {})) {
      context_.host.post([done = std::move(done)] { done({}); });
    }
    context_.host.post(
        [done = std::exchange(start_done_, nullptr), error = std::move(error)] { done(error); });
    return;
  }
  if (stopping_) {
    stopping_ = false;
    record_stop(status, describe(status));
    emit({.kind = EventKind::stopped, .pid = pid, .status = status, .reason = describe(status)});
    for (auto& done : std::exchange(stop_waiters_, {})) {
      context_.host.post([done = std::move(done)] { done({}); });
    }
    return;
  }
  ChildExit reason = reason_for(status);
  if (status.clean() && !status.left_behind.empty()) {
    reason.text += "; " + daemonize_advice(program_name(*spec_));
  }
  if (notified_ && notified_->watchdog_failure) {
    reason.kind = ChildExit::Kind::abnormal;
    reason.text = *notified_->watchdog_failure + ", " + reason.text;
  } else if (notified_ && notified_->announced_stopping) {
    reason.text += " (after announcing STOPPING=1)";
  }
  emit({.kind = EventKind::exited, .pid = pid, .status = status, .reason = reason.text});
  if (on_exit) on_exit(std::move(reason));
}

ChildExit ProcessNode::reason_for(const ExitStatus& status) const {
  const auto& listed = status.signaled ? spec_->normal_exit_signals : spec_->normal_exit_codes;
  const bool normal = (!status.signaled && status.code == 0) ||
                      std::find(listed.begin(), listed.end(), status.code) != listed.end();
  return {normal ? ChildExit::Kind::normal : ChildExit::Kind::abnormal, status, describe(status)};
}

}  // namespace otpd::supervise

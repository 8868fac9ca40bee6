#include "supervise/process_node.hpp"

#include <signal.h>

#include <algorithm>

#include "config/signals.hpp"

namespace otpd::supervise {

ProcessNode::ProcessNode(Context& context, std::string path, config::ProcessSpec spec,
                         config::Shutdown shutdown)
    : Node(context, std::move(path)),
      spec_(std::move(spec)),
      shutdown_(shutdown),
      self_(std::make_shared<ProcessNode*>(this)) {}

ProcessNode::~ProcessNode() {
  *self_ = nullptr;
  // The tree is stopped before it is destroyed; this only guards a process
  // that would otherwise outlive its supervisor.
  if (pid_ != 0) context_.processes.signal_group(pid_, SIGKILL);
}

void ProcessNode::start(Resume<std::string> done) {
  std::weak_ptr<ProcessNode*> token = self_;
  // The pid is only known after spawn() returns, so the exit callback reads
  // it from a cell filled in right after.
  auto pid_cell = std::make_shared<int>(0);
  SpawnResult result = context_.processes.spawn(spec_, [token, pid_cell](ExitStatus status) {
    if (auto self = token.lock(); self && *self) (*self)->exited(*pid_cell, status);
  });
  *pid_cell = result.pid;
  pid_ = result.pid;
  if (pid_ != 0) emit({.kind = EventKind::started, .pid = pid_});
  context_.host.post([done = std::move(done), error = std::move(result.error)] { done(error); });
}

void ProcessNode::stop(std::string why, Resume<Done> done) {
  if (pid_ == 0) {
    context_.host.post([done = std::move(done)] { done({}); });
    return;
  }
  stop_waiters_.push_back(std::move(done));
  if (stopping_) return;
  stopping_ = true;
  emit({.kind = EventKind::stopping, .pid = pid_, .reason = std::move(why)});
  switch (shutdown_.kind) {
    case config::Shutdown::Kind::brutal_kill:
      context_.processes.signal_group(pid_, SIGKILL);
      break;
    case config::Shutdown::Kind::timeout:
      send_stop_signal();
      kill_timer_ = context_.host.start_timer(shutdown_.timeout, [this] {
        emit({.kind = EventKind::stopping,
              .pid = pid_,
              .reason = "shutdown timeout of " + config::format_duration(shutdown_.timeout) +
                        " ran out, sending SIGKILL"});
        kill();
      });
      break;
    case config::Shutdown::Kind::infinity:
      send_stop_signal();
      break;
  }
}

// With kill_mode process the rest of the group is left to the main process;
// whatever of it remains is killed once the main process has been reaped.
void ProcessNode::send_stop_signal() {
  if (spec_.kill_mode == config::KillMode::process) {
    context_.processes.signal_process(pid_, spec_.stop_signal);
  } else {
    context_.processes.signal_group(pid_, spec_.stop_signal);
  }
}

void ProcessNode::kill() {
  if (pid_ != 0) context_.processes.signal_group(pid_, SIGKILL);
}

void ProcessNode::exited(int pid, ExitStatus status) {
  if (pid != pid_ || pid == 0) return;
  pid_ = 0;
  kill_timer_.reset();
  if (stopping_) {
    stopping_ = false;
    emit({.kind = EventKind::stopped, .pid = pid, .status = status, .reason = describe(status)});
    for (auto& done : std::exchange(stop_waiters_, {})) {
      context_.host.post([done = std::move(done)] { done({}); });
    }
    return;
  }
  ExitReason reason = reason_for(status);
  emit({.kind = EventKind::exited, .pid = pid, .status = status, .reason = reason.text});
  if (on_exit) on_exit(std::move(reason));
}

ExitReason ProcessNode::reason_for(const ExitStatus& status) const {
  const auto& listed = status.signaled ? spec_.normal_exit_signals : spec_.normal_exit_codes;
  const bool normal = (!status.signaled && status.code == 0) ||
                      std::find(listed.begin(), listed.end(), status.code) != listed.end();
  return {normal ? ExitReason::Kind::normal : ExitReason::Kind::abnormal, status, describe(status)};
}

}  // namespace otpd::supervise

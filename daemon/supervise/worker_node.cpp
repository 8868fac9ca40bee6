#include "supervise/worker_node.hpp"

#include "supervise/worker_starter.hpp"

namespace otpd::supervise {

WorkerNode::WorkerNode(Context& context, std::string path, const config::WorkerSpec& spec,
                       config::Shutdown shutdown)
    : Node(context, std::move(path)),
      spec_(&spec),
      shutdown_(shutdown),
      self_(std::make_shared<WorkerNode*>(this)) {}

void WorkerNode::respec(const config::ChildSpec& spec, const std::shared_ptr<const void>&) {
  spec_ = &spec.worker();
}

WorkerNode::~WorkerNode() {
  *self_ = nullptr;
  // The tree is stopped before it is destroyed; this only guards a worker
  // that would otherwise outlive its supervisor.
  if (pid_) runtime::Process::exit_signal(pid_, runtime::ExitReason::killed());
}

ChildExit WorkerNode::reason_for(const runtime::ExitReason& reason) {
  return {.kind = reason.exit_kind(), .text = reason.text()};
}

void WorkerNode::start(Resume<Failure> done) {
  context_.host.post([done = std::move(done), failure = start_at_once()] { done(failure); });
}

Failure WorkerNode::start_at_once() {
  if (context_.workers == nullptr) return "in-process workers are not available in this otpd";
  std::weak_ptr<WorkerNode*> token = self_;
  Host& host = context_.host;
  // The notice carries the number of this start, so that the end of an
  // earlier incarnation is told apart.
  const std::uint64_t start = ++starts_;
  auto report = [token, start](const runtime::ExitReason& reason) {
    if (auto self = token.lock(); self && *self) (*self)->ended(start, reason);
  };
  WorkerStart started =
      context_.workers->start(path(), *spec_, [report, &host](runtime::ExitReason reason) {
        if (host.reports_here()) return report(reason);
        host.post([report, reason = std::move(reason)] { report(reason); });
      });
  pid_ = std::move(started.pid);
  if (!pid_) return started.failure ? std::move(started.failure) : "the worker did not start";
  if (heard(EventKind::started)) {
    emit({.kind = EventKind::started,
          .reason = std::string(config::to_string(spec_->kind())) + " worker"});
  }
  return std::nullopt;
}

void WorkerNode::stop(const std::string& why, Resume<Done> done) {
  if (!pid_) {
    context_.host.post([done = std::move(done)] { done({}); });
    return;
  }
  stop_waiters_.push_back(std::move(done));
  if (stopping_) return;
  stopping_ = true;
  if (heard(EventKind::stopping)) emit({.kind = EventKind::stopping, .reason = why});
  escalate_stop(
      shutdown_,
      [this] { runtime::Process::exit_signal(pid_, runtime::ExitReason::shutdown(), sender()); },
      "sending exit signal killed");
}

void WorkerNode::kill() {
  if (pid_) runtime::Process::exit_signal(pid_, runtime::ExitReason::killed(), sender());
}

runtime::Pid WorkerNode::sender() {
  runtime::Process* engine = runtime::Process::current();
  return engine != nullptr ? engine->self() : runtime::Pid();
}

void WorkerNode::ended(std::uint64_t start, const runtime::ExitReason& reason) {
  if (!pid_ || start != starts_) return;  // an earlier incarnation
  pid_ = {};
  kill_timer_.reset();
  if (stopping_) {
    stopping_ = false;
    record_stop(std::nullopt, reason.text());
    if (heard(EventKind::stopped)) emit({.kind = EventKind::stopped, .reason = reason.text()});
    for (auto& done : std::exchange(stop_waiters_, {})) {
      context_.host.post([done = std::move(done)] { done({}); });
    }
    return;
  }
  ChildExit exit = reason_for(reason);
  if (heard(EventKind::exited)) emit({.kind = EventKind::exited, .reason = exit.text});
  if (on_exit) on_exit(std::move(exit));
}

}  // namespace otpd::supervise

#include "runtime/task.hpp"

#include <algorithm>
#include <utility>

namespace otpd::runtime {

// A signal, so that it acts even while the task waits in a co_await.
struct TaskProcessBase::KillSignal final : Envelope {
  explicit KillSignal(Pid killer) : killer(std::move(killer)) {}
  bool is_signal() const override { return true; }
  void deliver(Process& task) override {
    auto& self = static_cast<TaskProcessBase&>(task);
    if (killer) self.unlink(killer);
    self.exit_abruptly(ExitReason::killed());
  }
  Pid killer;
};

void TaskProcessBase::kill(const Pid& task) {
  Process* killer = Process::current();
  task.send(new KillSignal(killer != nullptr ? killer->self() : Pid()));
}

void TaskProcessBase::link_up() {
  if (const Pid caller = std::exchange(caller_, {})) link(caller);
  if (const Pid supervisor = std::exchange(supervisor_, {})) {
    link(supervisor);
    supervisor.send(make_envelope(
        [me = self()](Process& p) { static_cast<TaskSupervisorServer&>(p).adopt(me); }));
  }
}

void TaskSupervisorServer::adopt(const Pid& task) {
  children_.push_back(task);
}

void TaskSupervisorServer::handle_exit(const Pid& from, const ExitReason&) {
  // Temporary children: an ended task is forgotten, never restarted.
  std::erase(children_, from);
}

void TaskSupervisorServer::terminate(const ExitReason&) {
  for (const Pid& task : std::exchange(children_, {})) {
    Process::exit_signal(task, ExitReason::shutdown(), self());
  }
}

TaskSupervisor start_task_supervisor(Scheduler& scheduler) {
  return TaskSupervisor(start<TaskSupervisorServer>(scheduler));
}

}  // namespace otpd::runtime

// A child that is one OS process (OTP would call it a port): it owns one pid
// and its process group, and turns the kernel's exit status into an exit
// reason. With `ready:` its start completes only once the process is ready
// (docs/supervision.md, "Readiness"); with `watchdog:` it must keep pinging.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "config/spec.hpp"
#include "supervise/node.hpp"

namespace otpd::supervise {

class ProcessNode final : public Node {
 public:
  // `spec` is not copied: it must outlive the node, or be replaced through
  // respec() (the supervisor's spec holds it).
  ProcessNode(Context& context, std::string path, const config::ProcessSpec& spec,
              config::Shutdown shutdown);
  ~ProcessNode() override;

  void start(Resume<Failure> done) override;
  void stop(const std::string& why, Resume<Done> done) override;
  void kill() override;
  void abort_start(const std::string& why) override;
  bool running() const override { return pid_ != 0; }
  NodeKind node_kind() const override { return NodeKind::process; }
  int pid() const override { return pid_; }

  const config::ProcessSpec& spec() const { return *spec_; }
  void respec(const config::ChildSpec& spec, const std::shared_ptr<const void>& owner) override;
  // What the running process said through sd_notify.
  const std::string& notify_status() const;
  int main_pid() const { return notified_ ? notified_->main_pid : 0; }
  bool announced_stopping() const { return notified_ && notified_->announced_stopping; }

 private:
  // A start that waits for readiness (a child with `ready:`), from the
  // spawn until the process is ready or gone. Most children of a big tree
  // have no `ready:`, so this is on the heap, and only while it lasts.
  struct Wait {
    Failure failure;  // set once a failed start is killing the process
    TimePoint deadline{};
    std::unique_ptr<TimerHandle> start_timer;
    std::unique_ptr<TimerHandle> probe_timer;
    std::unique_ptr<TimerHandle> probe_kill_timer;
    std::unique_ptr<Watch> ready_fd_watch;
    std::unique_ptr<Watch> connect_watch;
    int probe_pid = 0;
    Duration probe_gap{0};   // the wait before the next probe, which grows
    std::string last_probe;  // how the last probe failed, for the timeout's message
  };
  // What a child with `ready: notify` says while it runs, and its watchdog.
  struct Notified {
    std::unique_ptr<Watch> watch;
    std::unique_ptr<TimerHandle> watchdog_timer;
    Failure watchdog_failure;  // set once the watchdog is killing the process
    std::string status;
    int main_pid = 0;
    int messages = 0;  // sd_notify datagrams since the start
    bool announced_stopping = false;
  };

  void send_stop_signal();
  bool awaiting_ready() const { return start_done_ && wait_ && !wait_->failure; }
  void await_readiness();
  void became_ready(std::string how);
  void fail_start(std::string why);
  void end_wait();
  void probe();
  void probe_later();
  std::string not_ready(const std::string& when) const;
  void probe_exited(int pid, ExitStatus status);
  void notified(const std::string& datagram);
  void arm_watchdog();
  void watchdog_failed(std::string why);
  void exited(std::uint32_t start, ExitStatus status);
  ChildExit reason_for(const ExitStatus& status) const;

  const config::ProcessSpec* spec_;
  std::unique_ptr<config::ProcessSpec> probe_spec_;  // ready: exec, the probe to run
  config::Shutdown shutdown_;
  int pid_ = 0;
  std::uint32_t starts_ = 0;  // spawns so far: which one an exit belongs to
  bool stopping_ = false;
  std::vector<Resume<Done>> stop_waiters_;

  // Waiting for readiness: start()'s `done`, until the process is ready or
  // its start has failed.
  Resume<Failure> start_done_;
  std::unique_ptr<Wait> wait_;
  // With `ready: notify`, from the spawn on.
  std::unique_ptr<Notified> notified_;

  // Exit callbacks outlive nothing: they check this token before touching
  // the node.
  std::shared_ptr<ProcessNode*> self_;
};

}  // namespace otpd::supervise

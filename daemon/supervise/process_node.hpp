// A child that is one OS process (OTP would call it a port): it owns one pid
// and its process group, and turns the kernel's exit status into an exit
// reason.
#pragma once

#include <memory>
#include <vector>

#include "config/spec.hpp"
#include "supervise/node.hpp"

namespace otpd::supervise {

class ProcessNode final : public Node {
 public:
  ProcessNode(Context& context, std::string path, config::ProcessSpec spec,
              config::Shutdown shutdown);
  ~ProcessNode() override;

  void start(Resume<std::string> done) override;
  void stop(std::string why, Resume<Done> done) override;
  void kill() override;
  bool running() const override { return pid_ != 0; }
  int pid() const override { return pid_; }

  const config::ProcessSpec& spec() const { return spec_; }

 private:
  void send_stop_signal();
  void exited(int pid, ExitStatus status);
  ExitReason reason_for(const ExitStatus& status) const;

  config::ProcessSpec spec_;
  config::Shutdown shutdown_;
  int pid_ = 0;
  bool stopping_ = false;
  std::vector<Resume<Done>> stop_waiters_;
  std::unique_ptr<TimerHandle> kill_timer_;
  // Exit callbacks outlive nothing: they check this token before touching
  // the node.
  std::shared_ptr<ProcessNode*> self_;
};

}  // namespace otpd::supervise

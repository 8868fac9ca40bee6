// A child that is an in-process worker (docs/workers.md): it runs on the
// runtime's thread pool, never on the supervisor's loop, and its end comes
// back to the loop as an exit reason like a process's exit status does.
//
// Stopping sends the worker the exit signal `shutdown`, then `killed` once
// the shutdown timeout runs out; brutal_kill sends `killed` at once. Both act
// between two messages: a handler that is running is never interrupted.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "config/spec.hpp"
#include "runtime/exit_reason.hpp"
#include "runtime/process.hpp"
#include "supervise/node.hpp"

namespace otpd::supervise {

class WorkerNode final : public Node {
 public:
  // `spec` is not copied (a worker's spec is large, and a dynamic
  // supervisor may have many): it must outlive the node, or be replaced
  // through respec() (the supervisor's spec, or the child's own, holds it).
  WorkerNode(Context& context, std::string path, const config::WorkerSpec& spec,
             config::Shutdown shutdown);
  ~WorkerNode() override;

  void start(Resume<Failure> done) override;
  bool starts_at_once() const override { return true; }
  Failure start_at_once() override;
  void stop(const std::string& why, Resume<Done> done) override;
  void kill() override;
  bool running() const override { return static_cast<bool>(pid_); }
  NodeKind node_kind() const override { return NodeKind::worker; }

  const config::WorkerSpec& spec() const { return *spec_; }
  void respec(const config::ChildSpec& spec, const std::shared_ptr<const void>& owner) override;
  // The running worker's runtime pid (empty when it does not run): for
  // calls and casts from the control socket.
  const runtime::Pid& runtime_pid() const { return pid_; }

  // How the engine words a worker's end; `killed` and errors are abnormal.
  static ChildExit reason_for(const runtime::ExitReason& reason);

 private:
  void ended(std::uint64_t start, const runtime::ExitReason& reason);
  // Where exit signals come from: the runtime process the engine runs as
  // (EngineProcess), the parent its children were linked to, so that one
  // trapping exits ends as OTP's children do when their parent asks; none
  // on the daemon's loop.
  static runtime::Pid sender();

  const config::WorkerSpec* spec_;
  config::Shutdown shutdown_;
  runtime::Pid pid_;
  std::uint64_t starts_ = 0;  // numbers each start: an end names its own
  bool stopping_ = false;
  std::vector<Resume<Done>> stop_waiters_;
  // End notices come from other threads through the loop; they check this
  // token before touching the node.
  std::shared_ptr<WorkerNode*> self_;
};

}  // namespace otpd::supervise

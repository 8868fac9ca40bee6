// The engine's ProcessControl on the real kernel: spawn_process to start,
// the Reaper to learn about exits, kill() on the process group to signal,
// and (with a ReadinessIo) the notify socket, readiness pipes and TCP
// probes behind `ready:`.
#pragma once

#include <functional>
#include <memory>

#include "asio/readiness_io.hpp"
#include "process/cgroups.hpp"
#include "process/child_records.hpp"
#include "process/child_stdio.hpp"
#include "process/descriptor_budget.hpp"
#include "process/left_behind.hpp"
#include "process/listeners.hpp"
#include "process/reaper.hpp"
#include "process/spawn.hpp"
#include "supervise/host.hpp"

namespace boost::asio {
class io_context;
}

namespace otpd::process {

class CgroupDrain;

class OsProcesses : public supervise::ProcessControl {
 public:
  // With `readiness`, `ready:` works; with `stdio`, each child's stdout and
  // stderr are whatever it chooses, else otpd's own. A child whose output
  // pipe tells when it ends needs no pidfd; the pidfds of the others come
  // out of `budget`.
  explicit OsProcesses(Reaper& reaper, SpawnOptions options = {},
                       on_asio::ReadinessIo* readiness = nullptr,
                       ChildStdioRouting* stdio = nullptr, DescriptorBudget* budget = nullptr);
  ~OsProcesses() override;

  // What keeps children from outliving otpd (docs/spawning.md). With
  // cgroups that contain, each process runs in a leaf of the tree's cgroup
  // and its exit is reported once nothing of that leaf runs any more (the
  // leaf is killed as a whole and waited for). Without, children get
  // PR_SET_PDEATHSIG(SIGKILL) and, with `records`, are recorded by pid and
  // start time. `cgroups` may also be there only for limits (cgroup v1).
  // Limits asked for where they cannot be enforced fail the spawn with a
  // message that says why; `no_cgroups` is the reason when `cgroups` is
  // null. Warnings (a leaf that would not empty) go to `warn`.
  struct Containment {
    Cgroups* cgroups = nullptr;
    ChildRecords* records = nullptr;
    std::string no_cgroups;
    std::function<void(const std::string&)> warn;
  };
  void contain(boost::asio::io_context& io, Containment containment);
  // The tree is stopping for good: no restart will take the empty leaf of
  // a process that exits, so each leaf goes as soon as its process has,
  // while the next child is being stopped, rather than all at otpd's exit.
  void stopping();

  supervise::SpawnResult spawn(const std::string& path, const config::ProcessSpec& spec,
                               std::function<void(supervise::ExitStatus)> on_exit) override;
  // spawn() with `stdin_fd` as the child's standard input (it stays the
  // caller's to close): event hooks read their event there.
  supervise::SpawnResult spawn_with_input(const std::string& path, const config::ProcessSpec& spec,
                                          int stdin_fd,
                                          std::function<void(supervise::ExitStatus)> on_exit);
  void signal_group(int pgid, int signo) override;
  void signal_process(int pid, int signo) override;

  std::string notify_socket() override;
  std::unique_ptr<supervise::Watch> watch_notify(
      int pgid, std::function<void(const std::string&)> fn) override;
  std::unique_ptr<supervise::Watch> watch_ready_fd(int pid, std::function<void(bool)> fn) override;
  std::string foreign_listener(int pid, const std::string& host, int port) override;
  std::unique_ptr<supervise::Watch> try_connect(const std::string& host, int port,
                                                supervise::Duration timeout,
                                                std::function<void(bool)> fn) override;

  // How long a killed leaf may take to empty before its exit is reported
  // anyway, with a warning, and its cgroup left behind.
  static constexpr std::chrono::milliseconds kLeafPatience{5000};
  // How long the empty leaf of an exited process is kept for a restart.
  static constexpr std::chrono::milliseconds kLeafRest{5000};

 private:
  using ExitFn = std::function<void(supervise::ExitStatus)>;
  supervise::SpawnResult spawn_contained(const std::string& path, const config::ProcessSpec& spec,
                                         SpawnOptions options, ExitFn on_exit);
  // Where to look for what the process leaves when it exits: in the cgroup
  // v2 leaf it made, among otpd's orphans (without cgroups, or with cgroup
  // v1 alone), or nowhere (a process in a leaf it shares).
  enum class Leftovers { nowhere, in_leaf, orphans };
  supervise::SpawnResult spawn_prepared(const std::string& path, const config::ProcessSpec& spec,
                                        SpawnOptions& options, ExitFn& on_exit, Leftovers leftovers,
                                        const std::shared_ptr<Cgroups::Leaf>& leaf);
  Reaper::InspectFn look_for_leftovers(Leftovers leftovers,
                                       const std::shared_ptr<Cgroups::Leaf>& leaf);
  void end_leaf(const std::shared_ptr<Cgroups::Leaf>& leaf, supervise::ExitStatus status,
                ExitFn on_exit);
  void leaf_emptied(const std::shared_ptr<Cgroups::Leaf>& leaf, supervise::ExitStatus status,
                    const ExitFn& on_exit);
  void rest_leaf(Cgroups::Leaf& leaf);
  void remove_soon(const std::shared_ptr<Cgroups::Leaf>& leaf);
  void remove_stopped(const std::shared_ptr<Cgroups::Leaf>& leaf);
  void warn_leaf_stays(const Cgroups::Leaf& leaf) const;
  void remove_rested();

  Reaper& reaper_;
  SpawnOptions options_;
  on_asio::ReadinessIo* readiness_;
  ChildStdioRouting* stdio_;
  DescriptorBudget* budget_;
  Containment containment_;
  bool die_with_otpd_ = false;
  bool stopping_ = false;
  std::unique_ptr<CgroupDrain> drain_;
  LeftBehind left_behind_;
  // The last listener found not to be a child's, and who holds it.
  struct ForeignListener {
    int pid = 0;
    SocketInodes sockets;
    std::string holder;
  } last_foreign_;
};

}  // namespace otpd::process

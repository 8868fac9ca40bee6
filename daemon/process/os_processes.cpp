#include "process/os_processes.hpp"

#include <signal.h>
#include <unistd.h>

#include "process/cgroup_drain.hpp"
#include "process/listeners.hpp"
#include "process/low_fd.hpp"
#include "process/proc_stat.hpp"

namespace otpd::process {

OsProcesses::OsProcesses(Reaper& reaper, SpawnOptions options, on_asio::ReadinessIo* readiness,
                         ChildStdioRouting* stdio, DescriptorBudget* budget)
    : reaper_(reaper), options_(options), readiness_(readiness), stdio_(stdio), budget_(budget) {
  if (stdio_ != nullptr) stdio_->when_ended([&reaper](int pid) { reaper.look(pid); });
}

OsProcesses::~OsProcesses() = default;

void OsProcesses::contain(boost::asio::io_context& io, Containment containment) {
  containment_ = std::move(containment);
  Cgroups* cgroups = containment_.cgroups;
  die_with_otpd_ = cgroups == nullptr || !cgroups->contains();
  if (cgroups != nullptr && cgroups->contains()) drain_ = std::make_unique<CgroupDrain>(io);
}

supervise::SpawnResult OsProcesses::spawn(const std::string& path, const config::ProcessSpec& spec,
                                          std::function<void(supervise::ExitStatus)> on_exit) {
  return spawn_contained(path, spec, options_, std::move(on_exit));
}

supervise::SpawnResult OsProcesses::spawn_with_input(
    const std::string& path, const config::ProcessSpec& spec, int stdin_fd,
    std::function<void(supervise::ExitStatus)> on_exit) {
  SpawnOptions options = options_;
  options.stdin_fd = stdin_fd;
  return spawn_contained(path, spec, options, std::move(on_exit));
}

supervise::SpawnResult OsProcesses::spawn_contained(const std::string& path,
                                                    const config::ProcessSpec& spec,
                                                    SpawnOptions options, ExitFn on_exit) {
  options.die_with_parent = die_with_otpd_;
  // The child's cgroups, before anything else that would need undoing.
  Cgroups* cgroups = containment_.cgroups;
  std::shared_ptr<Cgroups::Leaf> leaf;
  bool owns_leaf = false;
  auto let_go = [&] {
    if (owns_leaf) {
      cgroups->remove(*leaf);
      cgroups->forget(*leaf);
    }
    leaf.reset();
    owns_leaf = false;
  };
  if (cgroups != nullptr && (cgroups->contains() || !spec.limits->empty())) {
    std::string error;
    leaf = cgroups->enter(path, *spec.limits, owns_leaf, error);
    if (leaf && !cgroups->open_procs(*leaf, options, error)) let_go();
    if (!leaf && !spec.limits->empty()) return {.failure = error};
    if (!leaf) {
      // A cgroupfs that went odd under otpd must not stop the tree: the
      // child runs as it would without cgroups.
      if (containment_.warn) {
        containment_.warn(error + "; " + path + " runs outside cgroups, tied to otpd's life");
      }
      options.die_with_parent = true;
    }
  } else if (!spec.limits->empty()) {
    return {.failure = Cgroups::no_cgroups_message(*spec.limits, containment_.no_cgroups.empty()
                                                                     ? "cgroups are not set up"
                                                                     : containment_.no_cgroups)};
  }
  // The process that made the leaf ends it: its exit is reported once
  // nothing of the leaf runs any more.
  if (owns_leaf) {
    on_exit = [this, leaf, on_exit = std::move(on_exit)](supervise::ExitStatus status) mutable {
      end_leaf(leaf, std::move(status), std::move(on_exit));
    };
  }
  // A process that shares a leaf it did not make (a readiness probe beside
  // its child) has nothing of its own to leave behind there.
  Leftovers leftovers = Leftovers::nowhere;
  if (owns_leaf) {
    leftovers = leaf->tree != nullptr ? Leftovers::in_leaf : Leftovers::orphans;
  } else if (!leaf) {
    leftovers = Leftovers::orphans;
  }
  supervise::SpawnResult result = spawn_prepared(path, spec, options, on_exit, leftovers, leaf);
  Cgroups::close_procs(options);
  if (result.pid == 0) let_go();
  return result;
}

supervise::SpawnResult OsProcesses::spawn_prepared(const std::string& path,
                                                   const config::ProcessSpec& spec,
                                                   SpawnOptions& options, ExitFn& on_exit,
                                                   Leftovers leftovers,
                                                   const std::shared_ptr<Cgroups::Leaf>& leaf) {
  int write_end = -1;
  const bool ready_fd = spec.ready->kind == config::Readiness::Kind::fd;
  if (ready_fd) {
    if (readiness_ == nullptr) return {.failure = "readiness descriptors are not available"};
    std::string error;
    write_end = readiness_->open_ready_pipe(error);
    if (write_end < 0) return {.failure = error};
    options.passed_fd = place_low_fd(write_end);
    options.passed_fd_target = spec.ready->fd;
  }
  ChildStdio stdio;
  if (stdio_ != nullptr) {
    stdio = stdio_->prepare(path, spec);
    options.stdout_fd = stdio.out;
    options.stderr_fd = stdio.err;
  }
  // A pidfd only for a child whose exit no pipe will tell.
  int pidfd = -1;
  DescriptorGrant pidfd_grant;
  if (!stdio.ends_at_exit) pidfd_grant = DescriptorGrant::take(budget_);
  supervise::SpawnResult result = !stdio.failure
                                      ? spawn_process(spec, options, pidfd_grant ? &pidfd : nullptr)
                                      : supervise::SpawnResult{.failure = stdio.failure};
  if (stdio_ != nullptr) stdio_->spawned(path, result.pid);
  if (ready_fd) {
    // Only the child keeps a write end, so otpd sees end of file when it closes its own.
    release_low_fd();
    close(write_end);
    readiness_->adopt_ready_pipe(result.pid);
    if (result.pid > 0) {
      on_exit = [readiness = readiness_, pid = result.pid,
                 on_exit = std::move(on_exit)](supervise::ExitStatus status) {
        readiness->drop_ready_pipe(pid);
        on_exit(status);
      };
    }
  }
  if (result.pid == 0) return result;
  if (ChildRecords* records = containment_.records) {
    records->started(result.pid);
    on_exit = [records, pid = result.pid,
               on_exit = std::move(on_exit)](supervise::ExitStatus status) {
      records->reaped(pid);
      on_exit(std::move(status));
    };
  }
  // Before returning to the loop, so the exit cannot be taken for an orphan's.
  // A child alone in its leaf leaves its leftovers there, where end_leaf
  // finds and kills them whatever their group: its group needs no signal.
  const bool kill_group = leftovers != Leftovers::in_leaf;
  reaper_.watch(result.pid, std::move(on_exit), kill_group, pidfd,
                pidfd >= 0 ? std::move(pidfd_grant) : DescriptorGrant{},
                look_for_leftovers(leftovers, leaf), stdio.ends_at_exit);
  return result;
}

// Only after an exit with status 0: a program that daemonizes exits so,
// and anything else that ends with processes left is a crash whose
// leftovers are ended as ever, without a look that costs a scan of /proc.
Reaper::InspectFn OsProcesses::look_for_leftovers(Leftovers leftovers,
                                                  const std::shared_ptr<Cgroups::Leaf>& leaf) {
  if (leftovers == Leftovers::nowhere) return {};
  // Small enough for std::function to hold without an allocation of its own.
  if (leftovers == Leftovers::in_leaf) {
    return [leaf](int pid, supervise::ExitStatus& status) {
      if (!status.clean()) return;
      status.left_behind = LeftBehind::in_cgroup(leaf->dir(), pid, status.left_unlisted);
    };
  }
  return [this](int pid, supervise::ExitStatus& status) {
    if (!status.clean()) return;
    status.left_behind =
        left_behind_.orphaned_by(pid, [this](pid_t p) { return reaper_.watches(p); });
  };
}

void OsProcesses::end_leaf(const std::shared_ptr<Cgroups::Leaf>& leaf, supervise::ExitStatus status,
                           ExitFn on_exit) {
  Cgroups& cgroups = *containment_.cgroups;
  // Read before the leaf can be reused: the count is kept in it.
  status.oom_limit = cgroups.oom_killed(*leaf);
  // Once the tree stops for good no leaf is kept for a restart, and its
  // rmdir tells whether something still runs there (the kernel refuses to
  // remove a cgroup with members): the exit is reported without reading
  // cgroup.events first, so the next child's stop signal goes out before
  // otpd touches the cgroup, as OTP's supervisor moves on once the child
  // itself is down. Anything left is killed just after (remove_stopped).
  if (stopping_ && drain_ && leaf->tree != nullptr) {
    on_exit(std::move(status));
    remove_soon(leaf);
    return;
  }
  // Usually the process was alone: its leaf is empty at once.
  if (cgroups.empty(*leaf)) {
    leaf_emptied(leaf, std::move(status), on_exit);
    return;
  }
  // Something it started is still there, in its process group or not.
  cgroups.kill(*leaf);
  if (!drain_ || leaf->tree == nullptr) {
    // cgroup v1 alone tells nothing when it is empty: the leaf goes now,
    // or (if its processes are still dying) at otpd's exit.
    cgroups.remove(*leaf);
    cgroups.forget(*leaf);
    on_exit(std::move(status));
    return;
  }
  drain_->wait(
      leaf->dir(), kLeafPatience,
      [this, leaf, status = std::move(status), on_exit = std::move(on_exit)](bool emptied) {
        if (emptied) {
          leaf_emptied(leaf, status, on_exit);
          return;
        }
        warn_leaf_stays(*leaf);
        containment_.cgroups->forget(*leaf);
        on_exit(status);
      });
}

// The leaf rests for a restart; once the tree stops for good it goes
// instead, after the exit has been reported (see remove_soon).
void OsProcesses::leaf_emptied(const std::shared_ptr<Cgroups::Leaf>& leaf,
                               supervise::ExitStatus status, const ExitFn& on_exit) {
  if (stopping_ && drain_) {
    on_exit(std::move(status));
    remove_soon(leaf);
    return;
  }
  rest_leaf(*leaf);
  on_exit(std::move(status));
}

void OsProcesses::warn_leaf_stays(const Cgroups::Leaf& leaf) const {
  if (!containment_.warn) return;
  containment_.warn("processes of " + leaf.path + " still run " +
                    std::to_string(kLeafPatience.count() / 1000) + "s after SIGKILL; its cgroup " +
                    leaf.dir() + " stays");
}

void OsProcesses::remove_stopped(const std::shared_ptr<Cgroups::Leaf>& leaf) {
  Cgroups& cgroups = *containment_.cgroups;
  if (cgroups.remove(*leaf)) {
    cgroups.forget(*leaf);
    return;
  }
  cgroups.kill(*leaf);
  drain_->wait(leaf->dir(), kLeafPatience, [this, leaf](bool emptied) {
    if (emptied) {
      containment_.cgroups->remove(*leaf);
    } else {
      warn_leaf_stays(*leaf);
    }
    containment_.cgroups->forget(*leaf);
  });
}

void OsProcesses::stopping() {
  stopping_ = true;
  if (drain_)
    drain_->soon([this] { containment_.cgroups->remove_rested(std::chrono::milliseconds(0)); });
}

// Posted after the exit was reported: the supervisor's next step (the next
// child's stop signal) is queued before it, so the kernel takes the cgroup
// apart while that child is dying instead of at otpd's exit. A leaf that
// is not empty by then is killed and drained first (remove_stopped).
void OsProcesses::remove_soon(const std::shared_ptr<Cgroups::Leaf>& leaf) {
  drain_->soon([this, leaf] { remove_stopped(leaf); });
}

void OsProcesses::rest_leaf(Cgroups::Leaf& leaf) {
  containment_.cgroups->rest(leaf);
  if (drain_) drain_->later(kLeafRest, [this] { remove_rested(); });
}

void OsProcesses::remove_rested() {
  if (containment_.cgroups->remove_rested(kLeafRest) > 0) {
    drain_->later(kLeafRest, [this] { remove_rested(); });
  }
}

void OsProcesses::signal_group(int pgid, int signo) {
  // kill(0) and kill(-1) would reach otpd's own group or every process.
  if (pgid <= 1) return;
  // ESRCH: the group is already gone, which is what the caller wanted.
  kill(-pgid, signo);
}

void OsProcesses::signal_process(int pid, int signo) {
  if (pid <= 1) return;
  // Not yet reaped, the pid cannot have been reused by another process.
  kill(pid, signo);
}

std::string OsProcesses::notify_socket() {
  return readiness_ != nullptr ? readiness_->notify().address() : std::string();
}

std::unique_ptr<supervise::Watch> OsProcesses::watch_notify(
    int pgid, std::function<void(const std::string&)> fn) {
  return readiness_ != nullptr ? readiness_->notify().watch(pgid, std::move(fn)) : nullptr;
}

std::unique_ptr<supervise::Watch> OsProcesses::watch_ready_fd(int pid,
                                                              std::function<void(bool)> fn) {
  return readiness_ != nullptr ? readiness_->watch_ready_fd(pid, std::move(fn)) : nullptr;
}

// With cgroups, the child is whatever runs in its leaf; without, the
// process and its descendants (a listener handed to a process that left
// them is then not seen as the child's).
std::string OsProcesses::foreign_listener(int pid, const std::string& host, int port) {
  SocketInodes sockets = listening_sockets(pid, host, port);
  if (sockets.empty()) return {};  // nothing to tell by: take the answer
  // A probe that keeps meeting the same listener asks again every
  // interval; the search of /proc for its holder is made once.
  if (last_foreign_.pid == pid && last_foreign_.sockets == sockets) return last_foreign_.holder;
  const std::string leaf =
      containment_.cgroups != nullptr ? containment_.cgroups->leaf_of(pid) : std::string();
  for (const pid_t process : processes_of(pid, leaf)) {
    if (holds_any(process, sockets)) return {};
  }
  const auto holder = holder_of(sockets);
  const std::string name = holder ? process_name(*holder) : std::string();
  std::string answer =
      !holder ? std::string("a process otpd cannot see")
              : "pid " + std::to_string(*holder) + (name.empty() ? "" : " (" + name + ")");
  last_foreign_ = {pid, std::move(sockets), answer};
  return answer;
}

std::unique_ptr<supervise::Watch> OsProcesses::try_connect(const std::string& host, int port,
                                                           supervise::Duration timeout,
                                                           std::function<void(bool)> fn) {
  return readiness_ != nullptr ? readiness_->try_connect(host, port, timeout, std::move(fn))
                               : nullptr;
}

}  // namespace otpd::process

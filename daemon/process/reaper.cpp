#include "process/reaper.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace otpd::process {

namespace asio = boost::asio;

namespace {

// Long enough for a burst of exits (a shutdown) to share one sweep, short
// enough that an orphan does not linger as a zombie.
constexpr std::chrono::milliseconds orphan_sweep_delay{20};
// A sweep walks every child of otpd in the kernel (under load, about a
// microsecond per child), so with many children it waits longer: a
// shutdown of 10,000 then sweeps about once a second instead of 50 times.
// Watched children are found without it (their SIGCHLD, pipe or pidfd
// names them); the sweep is for orphans and merged signals, which can wait.
constexpr std::chrono::microseconds sweep_delay_per_child{100};
constexpr std::chrono::milliseconds longest_sweep_delay{2000};

// A pipe usually ends a moment before its process becomes a zombie, whose
// SIGCHLD then names it: only a process still running this long after the
// end of its pipe is given a pidfd.
constexpr std::chrono::milliseconds pipe_end_patience{20};

// Between the end of its pipe (its files closed) and its zombie, an exiting
// process has a few microseconds of its exit left: otpd looks again for
// this long, yielding the CPU between looks, before it sleeps until the
// SIGCHLD. A sleep and a wake-up on another CPU cost more than that.
constexpr std::chrono::microseconds exit_settle_spin{50};

std::chrono::microseconds sweep_delay(std::size_t children) {
  const auto grown = orphan_sweep_delay + sweep_delay_per_child * children;
  return std::min<std::chrono::microseconds>(grown, longest_sweep_delay);
}

int open_pidfd(int pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

}  // namespace

struct Reaper::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, int fd, OrphanFn orphan, DescriptorBudget* budget)
      : io(io),
        signals(io, fd),
        sweep_timer(io),
        settle_timer(io),
        on_orphan(std::move(orphan)),
        budget(budget) {}

  struct Watch {
    ExitFn on_exit;
    InspectFn inspect;
    bool kill_group = false;
    // Nothing but a SIGCHLD or a sweep will tell of its exit: no pidfd, and
    // no pipe whose end will (see blind_watches).
    bool blind = false;
    // Its pidfd, when it has one (few do: a child whose output pipe tells
    // of its end needs none), with the budget's grant for it.
    struct Pidfd : asio::posix::stream_descriptor {
      Pidfd(asio::io_context& io, int fd, DescriptorGrant grant)
          : asio::posix::stream_descriptor(io, fd), grant(std::move(grant)) {}
      DescriptorGrant grant;
    };
    std::unique_ptr<Pidfd> pidfd;  // closes it
  };

  // Handlers hold only a weak reference: after the Reaper is gone a pending
  // completion finds nothing and returns.
  void wait_for_sigchld() {
    signals.async_wait(asio::posix::descriptor_base::wait_read,
                       [weak = weak_from_this()](const boost::system::error_code& ec) {
                         auto self = weak.lock();
                         if (!self || ec) return;
                         self->on_sigchld(self->drain_signals());
                         if (!self->stopped) self->wait_for_sigchld();
                       });
  }

  // A SIGCHLD names the child that sent it, but SIGCHLDs that arrive
  // while one is pending merge into it: the pids are where to look first,
  // and the sweep finds the rest. (A stopped or continued child sends one
  // too; waitid then finds nothing.)
  std::vector<int> drain_signals() {
    std::vector<int> pids;
    signalfd_siginfo buffer[16];
    ssize_t n;
    while ((n = read(signals.native_handle(), buffer, sizeof buffer)) > 0) {
      for (std::size_t i = 0; i < static_cast<std::size_t>(n) / sizeof buffer[0]; ++i) {
        if (buffer[i].ssi_pid > 0) pids.push_back(static_cast<int>(buffer[i].ssi_pid));
      }
      // A read that did not fill the buffer took all there was; one that
      // comes later re-arms the wait (the reactor looks again when it does).
      if (static_cast<std::size_t>(n) < sizeof buffer) break;
    }
    return pids;
  }

  void on_sigchld(const std::vector<int>& pids) {
    for (int pid : pids) reap_if_exited(pid);
    if (draining) {
      sweep();
      return;
    }
    if (sweep_scheduled) return;
    sweep_scheduled = true;
    // A child only a sweep may find cannot wait as long as orphans.
    sweep_timer.expires_after(blind_watches > 0 ? std::chrono::microseconds(orphan_sweep_delay)
                                                : sweep_delay(watching.size()));
    sweep_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec) return;
      self->sweep_scheduled = false;
      self->sweep();
    });
  }

  void watch_pidfd(int pid, asio::posix::stream_descriptor& pidfd) {
    pidfd.async_wait(asio::posix::descriptor_base::wait_read,
                     [weak = weak_from_this(), pid](const boost::system::error_code& ec) {
                       auto self = weak.lock();
                       if (!self || ec) return;  // aborted: reaped by a sweep
                       self->pidfd_ready(pid);
                     });
  }

  // Reaps `pid` and reports it if it is a child of otpd's that has exited
  // (a watched one or an orphan); whether it was. waitid by pid costs the
  // same whatever the number of children.
  bool reap_if_exited(int pid) {
    if (stopped) return false;
    if (const auto found = watching.find(pid);
        found != watching.end() && !found->second->kill_group) {
      return reap_unheld(pid, P_PID, pid) == Reaped::yes;
    }
    siginfo_t info{};
    int result;
    // Look first, reap second: the pid stays reserved in between.
    while ((result = waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT)) !=
               0 &&
           errno == EINTR) {
    }
    if (result != 0 || info.si_pid != pid) return false;
    reap_seen(pid, info);
    return true;
  }

  // A watched child whose group is not killed at its exit needs no look
  // before the reap: nothing has to hold its pid, and one waitid is one
  // system call less on the way from an exit to the supervisor's next step.
  enum class Reaped { yes, still_running, failed };
  Reaped reap_unheld(int pid, idtype_t type, int id) {
    siginfo_t info{};
    int result;
    while ((result = waitid(type, static_cast<id_t>(id), &info, WEXITED | WNOHANG)) != 0 &&
           errno == EINTR) {
    }
    if (result != 0) return Reaped::failed;
    if (info.si_pid != pid) return Reaped::still_running;
    supervise::ExitStatus status =
        supervise::ExitStatus::from_siginfo(info.si_code, info.si_status);
    if (const auto found = watching.find(pid); found != watching.end()) {
      if (auto inspect = std::exchange(found->second->inspect, nullptr)) inspect(pid, status);
    }
    report(pid, std::move(status));
    return Reaped::yes;
  }

  void look(int pid) {
    auto found = watching.find(pid);
    if (found == watching.end() || found->second->pidfd) return;
    if (reap_if_exited(pid) || reaped_while_settling(pid)) return;
    // Most likely it is still exiting, and its SIGCHLD is on the way: a
    // pidfd now would cost four system calls and one more wake-up per exit.
    unsettled.push_back(pid);
    if (settle_scheduled) return;
    settle_scheduled = true;
    settle_timer.expires_after(pipe_end_patience);
    settle_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec) return;
      self->settle_scheduled = false;
      for (const int pid : std::exchange(self->unsettled, {})) self->watch_by_pidfd(pid);
    });
  }

  bool reaped_while_settling(int pid) {
    const auto until = std::chrono::steady_clock::now() + exit_settle_spin;
    do {
      sched_yield();  // on one CPU, the exiting child's turn
      if (reap_if_exited(pid)) return true;
    } while (std::chrono::steady_clock::now() < until);
    return false;
  }

  // `pid`'s pipe ended a while ago: if it still runs, a pidfd says when it
  // ends. Without one (no room in the budget), its SIGCHLD or the sweep will.
  void watch_by_pidfd(int pid) {
    auto found = watching.find(pid);
    if (found == watching.end() || found->second->pidfd) return;
    if (reap_if_exited(pid)) return;
    Watch& watch = *found->second;
    DescriptorGrant grant = DescriptorGrant::take(budget);
    const int fd = grant ? open_pidfd(pid) : -1;
    if (fd < 0) {
      if (!watch.blind) ++blind_watches;
      watch.blind = true;
      return;
    }
    watch.pidfd = std::make_unique<Watch::Pidfd>(io, fd, std::move(grant));
    watch_pidfd(pid, *watch.pidfd);
  }

  void pidfd_ready(int pid) {
    auto found = watching.find(pid);
    if (found == watching.end() || stopped) return;
    Watch& watch = *found->second;
    const int fd = watch.pidfd->native_handle();
    if (!watch.kill_group) {
      // Woken early (not exited after all): wait on.
      if (reap_unheld(pid, P_PIDFD, fd) == Reaped::still_running) watch_pidfd(pid, *watch.pidfd);
      return;
    }
    // Look first, reap second: the pid stays reserved in between.
    siginfo_t info{};
    int result;
    while ((result = waitid(P_PIDFD, static_cast<id_t>(fd), &info, WEXITED | WNOHANG | WNOWAIT)) !=
               0 &&
           errno == EINTR) {
    }
    if (result == 0 && info.si_pid == pid) {
      reap_seen(pid, info);
    } else if (result == 0) {
      watch_pidfd(pid, *watch.pidfd);  // woken early: not exited after all
    }
  }

  // Everything that has exited, watched children and orphans alike.
  void sweep() {
    while (!stopped) {
      siginfo_t info{};
      // Look first, reap second: the pid stays reserved in between.
      if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
        if (errno == EINTR) continue;
        if (errno == ECHILD) no_children_left();
        return;
      }
      const pid_t pid = info.si_pid;
      if (pid == 0) return;  // children left, none has exited
      reap_seen(pid, info);
    }
  }

  // `pid` has exited (`info`, looked at without reaping): inspected, its
  // group killed, reaped and reported.
  void reap_seen(int pid, const siginfo_t& info) {
    supervise::ExitStatus status =
        supervise::ExitStatus::from_siginfo(info.si_code, info.si_status);
    const auto found = watching.find(pid);
    // Once, while the exited process is a zombie that holds its pid and its
    // group has not been killed yet: what it left is still there to see.
    if (found != watching.end()) {
      if (auto inspect = std::exchange(found->second->inspect, nullptr)) inspect(pid, status);
    }
    if (found != watching.end() && found->second->kill_group) {
      kill(-pid, SIGKILL);  // ESRCH when the leader was alone: nothing left
    }
    // An orphan's process group, while its zombie still has one: whose
    // leftover it was.
    const pid_t group = found == watching.end() ? getpgid(pid) : 0;
    siginfo_t reaped{};
    while (waitid(P_PID, static_cast<id_t>(pid), &reaped, WEXITED | WNOHANG) != 0 &&
           errno == EINTR) {
    }
    report(pid, std::move(status), group < 0 ? 0 : group);
  }

  void report(int pid, supervise::ExitStatus status, int group = 0) {
    auto found = watching.find(pid);
    if (found == watching.end()) {
      if (on_orphan) on_orphan(pid, group, status);
      return;
    }
    // Out of the table before the call: the callback may spawn and watch
    // again. Destroying the pidfd here cancels its pending wait.
    std::unique_ptr<Watch> watch = std::move(found->second);
    watching.erase(found);
    if (watch->blind) --blind_watches;
    ExitFn on_exit = std::move(watch->on_exit);
    watch.reset();  // the pidfd and its grant go before the callback spawns
    if (on_exit) on_exit(status);
  }

  void no_children_left() {
    if (!draining) return;
    draining = false;
    drain_timer.reset();
    if (auto done = std::exchange(drained, nullptr)) {
      asio::post(io, [done = std::move(done)] { done(true); });
    }
  }

  asio::io_context& io;
  asio::posix::stream_descriptor signals;
  asio::steady_timer sweep_timer;
  bool sweep_scheduled = false;
  // Children whose pipe ended while they still ran, given a moment to exit.
  std::vector<int> unsettled;
  asio::steady_timer settle_timer;
  bool settle_scheduled = false;
  std::size_t blind_watches = 0;
  OrphanFn on_orphan;
  DescriptorBudget* budget;
  std::unordered_map<int, std::unique_ptr<Watch>> watching;
  bool draining = false;
  std::function<void(bool)> drained;
  std::unique_ptr<asio::steady_timer> drain_timer;
  bool subreaper = false;
  bool stopped = false;
};

namespace {

int open_sigchld_fd() {
  sigset_t sigchld;
  sigemptyset(&sigchld);
  sigaddset(&sigchld, SIGCHLD);
  // A SIGCHLD that is not blocked is discarded (default action: ignore) and
  // never reaches the signalfd.
  pthread_sigmask(SIG_BLOCK, &sigchld, nullptr);
  const int fd = signalfd(-1, &sigchld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "signalfd(SIGCHLD)");
  return fd;
}

}  // namespace

Reaper::Reaper(asio::io_context& io, OrphanFn on_orphan, DescriptorBudget* budget)
    : impl_(std::make_shared<Impl>(io, open_sigchld_fd(), std::move(on_orphan), budget)) {
  // PID 1 gets every orphan of the namespace anyway.
  if (getpid() != 1) impl_->subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
  impl_->wait_for_sigchld();
  // Children that exited before the Reaper existed raised no signal it could see.
  asio::post(io, [weak = std::weak_ptr<Impl>(impl_)] {
    if (auto self = weak.lock()) self->sweep();
  });
}

Reaper::~Reaper() {
  impl_->stopped = true;
  boost::system::error_code ignored;
  impl_->signals.cancel(ignored);
  impl_->sweep_timer.cancel();
  impl_->settle_timer.cancel();
  if (impl_->drain_timer) impl_->drain_timer->cancel();
  impl_->watching.clear();
}

void Reaper::watch(int pid, ExitFn on_exit, bool kill_group, int pidfd, DescriptorGrant grant,
                   InspectFn inspect, bool pipe_tells) {
  auto watch = std::make_unique<Impl::Watch>();
  watch->on_exit = std::move(on_exit);
  watch->inspect = std::move(inspect);
  watch->kill_group = kill_group;
  watch->blind = pidfd < 0 && !pipe_tells;
  if (watch->blind) ++impl_->blind_watches;
  if (pidfd >= 0) {
    watch->pidfd = std::make_unique<Impl::Watch::Pidfd>(impl_->io, pidfd, std::move(grant));
    impl_->watch_pidfd(pid, *watch->pidfd);
  }
  impl_->watching[pid] = std::move(watch);
}

void Reaper::look(int pid) {
  impl_->look(pid);
}

void Reaper::drain(std::chrono::milliseconds patience, std::function<void(bool)> done) {
  impl_->draining = true;
  impl_->drained = std::move(done);
  impl_->drain_timer = std::make_unique<asio::steady_timer>(impl_->io, patience);
  impl_->drain_timer->async_wait(
      [weak = std::weak_ptr<Impl>(impl_)](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (!self || ec || !self->draining) return;
        self->draining = false;
        if (auto finish = std::exchange(self->drained, nullptr)) finish(false);
      });
  asio::post(impl_->io, [weak = std::weak_ptr<Impl>(impl_)] {
    if (auto self = weak.lock()) self->sweep();
  });
}

bool Reaper::receives_orphans() const {
  return impl_->subreaper || getpid() == 1;
}

std::size_t Reaper::watched() const {
  return impl_->watching.size();
}

std::size_t Reaper::pidfds() const {
  std::size_t count = 0;
  for (const auto& [pid, watch] : impl_->watching) count += watch->pidfd ? 1 : 0;
  return count;
}

bool Reaper::watches(int pid) const {
  return impl_->watching.contains(pid);
}

}  // namespace otpd::process

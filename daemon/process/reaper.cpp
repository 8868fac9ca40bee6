#include "process/reaper.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <system_error>
#include <unordered_map>

namespace otpd::process {

namespace asio = boost::asio;

struct Reaper::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, int fd, OrphanFn orphan)
      : signals(io, fd), on_orphan(std::move(orphan)) {}

  // Handlers hold only a weak reference: after the Reaper is gone a pending
  // completion finds nothing and returns.
  void wait_for_sigchld() {
    signals.async_wait(asio::posix::descriptor_base::wait_read,
                       [weak = weak_from_this()](const boost::system::error_code& ec) {
                         auto self = weak.lock();
                         if (!self || ec) return;
                         self->drain_signals();
                         self->reap_all();
                         if (!self->stopped) self->wait_for_sigchld();
                       });
  }

  // The signals only say "look"; SIGCHLDs coalesce, so their count and
  // contents mean nothing and waitid decides what exited.
  void drain_signals() {
    signalfd_siginfo buffer[16];
    while (read(signals.native_handle(), buffer, sizeof buffer) > 0) {
    }
  }

  void reap_all() {
    while (!stopped) {
      siginfo_t info{};
      // Look first, reap second: the pid stays reserved in between.
      if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
        if (errno == EINTR) continue;
        return;  // ECHILD: no children at all
      }
      const pid_t pid = info.si_pid;
      if (pid == 0) return;  // children left, none has exited
      if (auto found = watching.find(pid); found != watching.end() && found->second.kill_group) {
        kill(-pid, SIGKILL);  // ESRCH when the leader was alone: nothing left
      }
      siginfo_t reaped{};
      while (waitid(P_PID, static_cast<id_t>(pid), &reaped, WEXITED | WNOHANG) != 0 &&
             errno == EINTR) {
      }
      report(pid, supervise::ExitStatus::from_siginfo(info.si_code, info.si_status));
    }
  }

  void report(int pid, supervise::ExitStatus status) {
    auto found = watching.find(pid);
    if (found == watching.end()) {
      if (on_orphan) on_orphan(pid, status);
      return;
    }
    // Out of the table before the call: the callback may spawn and watch again.
    ExitFn on_exit = std::move(found->second.on_exit);
    watching.erase(found);
    if (on_exit) on_exit(status);
  }

  asio::posix::stream_descriptor signals;
  OrphanFn on_orphan;
  struct Watch {
    ExitFn on_exit;
    bool kill_group = false;
  };
  std::unordered_map<int, Watch> watching;
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

Reaper::Reaper(asio::io_context& io, OrphanFn on_orphan)
    : impl_(std::make_shared<Impl>(io, open_sigchld_fd(), std::move(on_orphan))) {
  // PID 1 gets every orphan of the namespace anyway.
  if (getpid() != 1) impl_->subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
  impl_->wait_for_sigchld();
  // Children that exited before the Reaper existed raised no signal it could see.
  asio::post(io, [weak = std::weak_ptr<Impl>(impl_)] {
    if (auto self = weak.lock()) self->reap_all();
  });
}

Reaper::~Reaper() {
  impl_->stopped = true;
  boost::system::error_code ignored;
  impl_->signals.cancel(ignored);
}

void Reaper::watch(int pid, ExitFn on_exit, bool kill_group) {
  impl_->watching[pid] = {std::move(on_exit), kill_group};
}

bool Reaper::receives_orphans() const {
  return impl_->subreaper || getpid() == 1;
}

std::size_t Reaper::watched() const {
  return impl_->watching.size();
}

}  // namespace otpd::process

#include "asio/signals.hpp"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <system_error>

namespace otpd::on_asio {
namespace {

namespace asio = boost::asio;

sigset_t control_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signo : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&set, signo);
  return set;
}

}  // namespace

void block_supervisor_signals() {
  sigset_t set = control_signals();
  sigaddset(&set, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

struct SignalWatcher::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, int fd, std::function<void(int)> fn)
      : signals(io, fd), on_signal(std::move(fn)) {}

  void wait() {
    signals.async_wait(asio::posix::descriptor_base::wait_read,
                       [weak = weak_from_this()](const boost::system::error_code& ec) {
                         auto self = weak.lock();
                         if (!self || ec) return;
                         self->deliver();
                         if (!self->stopped) self->wait();
                       });
  }

  // Unlike SIGCHLD each of these means something, so every one read is delivered.
  void deliver() {
    signalfd_siginfo info{};
    while (!stopped && read(signals.native_handle(), &info, sizeof info) == sizeof info) {
      if (on_signal) on_signal(static_cast<int>(info.ssi_signo));
    }
  }

  asio::posix::stream_descriptor signals;
  std::function<void(int)> on_signal;
  bool stopped = false;
};

namespace {

int open_signal_fd() {
  const sigset_t set = control_signals();
  // Unblocked, the default action (terminate) would win over the signalfd.
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  const int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
  return fd;
}

}  // namespace

SignalWatcher::SignalWatcher(asio::io_context& io, std::function<void(int)> on_signal)
    : impl_(std::make_shared<Impl>(io, open_signal_fd(), std::move(on_signal))) {
  impl_->wait();
}

SignalWatcher::~SignalWatcher() {
  impl_->stopped = true;
  boost::system::error_code ignored;
  impl_->signals.cancel(ignored);
}

}  // namespace otpd::on_asio

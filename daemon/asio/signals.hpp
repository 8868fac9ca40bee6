// Signals otpd acts on. They are blocked in every thread and read from
// signalfds on the event loop, never taken by asynchronous handlers: a
// handler interrupts syscalls in other threads and would run inside vfork
// children.
#pragma once

#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace otpd::on_asio {

// Blocks SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 in
// the calling thread
// and ignores SIGPIPE (a client that hangs up must not kill otpd). Call first
// in main, before any thread exists: threads inherit the mask. Children get
// an empty mask and default dispositions back at spawn.
void block_supervisor_signals();

// Calls on_signal(signo) from the event loop for SIGTERM, SIGINT, SIGHUP,
// SIGQUIT, SIGUSR1 and SIGUSR2 (whose default action would end otpd). Throws std::system_error if
// the signalfd cannot be created.
class SignalWatcher {
 public:
  SignalWatcher(boost::asio::io_context& io, std::function<void(int signo)> on_signal);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace otpd::on_asio

// What the supervisor engine needs from the world around it. The daemon
// implements these on Boost.Asio and the kernel; unit tests implement them
// with a hand-driven clock and fake processes.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "config/spec.hpp"
#include "supervise/exit_status.hpp"
#include "supervise/failure.hpp"

namespace otpd::supervise {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::milliseconds;

// A pending timer; destroying it cancels the callback.
class TimerHandle {
 public:
  virtual ~TimerHandle() = default;
};

// A watch on something outside the engine; destroying it ends the watch.
using Watch = TimerHandle;

class Host {
 public:
  virtual ~Host() = default;
  virtual TimePoint now() const = 0;
  // Calls fn after `delay` unless the handle is destroyed first.
  [[nodiscard]] virtual std::unique_ptr<TimerHandle> start_timer(Duration delay,
                                                                 std::function<void()> fn) = 0;
  // Calls fn later from the event loop, never from inside post(). Any
  // thread may call it: in-process workers report through it.
  virtual void post(std::function<void()> fn) = 0;
  // Whether a worker's end (WorkerStarter's `ended`) reported by the caller
  // may be handled now, without a post: the caller is on the engine's
  // thread, which is never inside the engine's own calls there (the report
  // comes as a message of its own).
  virtual bool reports_here() const { return false; }
};

struct SpawnResult {
  int pid = 0;           // > 0 once it started
  Failure failure = {};  // why the program could not be started; then pid is 0
};

// Starting and signalling OS processes.
class ProcessControl {
 public:
  virtual ~ProcessControl() = default;
  // Starts the process in a new process group whose id is its pid. On
  // success, on_exit is called exactly once, from the event loop, when the
  // process has been reaped; by then whatever was left of its process group
  // has been killed, so that nothing of it runs beside the next incarnation.
  // On failure nothing is left behind. `path` names the child in the tree
  // ("app/api"), for what is kept per child, such as its output.
  virtual SpawnResult spawn(const std::string& path, const config::ProcessSpec& spec,
                            std::function<void(ExitStatus)> on_exit) = 0;
  // Sends signo to the process group `pgid` (a no-op when it is gone).
  virtual void signal_group(int pgid, int signo) = 0;
  // Sends signo to the process `pid` alone, one that spawn() started and
  // whose on_exit has not been called yet (a no-op when it is gone).
  virtual void signal_process(int pid, int signo) = 0;

  // What a child needs to tell otpd it is ready or alive, and probes of its
  // readiness. A ProcessControl without them returns "" or nullptr, and the
  // children that need them fail to start. Destroying a returned watch ends
  // it; no callback comes after that.

  // The NOTIFY_SOCKET value for children ("@otpd/PID/notify"), or "".
  virtual std::string notify_socket() { return {}; }
  // Calls fn with each sd_notify datagram sent by a process of the group
  // `pgid`, from the event loop.
  [[nodiscard]] virtual std::unique_ptr<Watch> watch_notify(
      int pgid, std::function<void(const std::string&)> fn) {
    (void)pgid;
    (void)fn;
    return nullptr;
  }
  // For a process spawned with ready: {fd: N}: calls fn(true) once when it
  // writes a newline to that descriptor, or fn(false) when it closes it
  // first. Either way otpd's end of the pipe is closed then.
  [[nodiscard]] virtual std::unique_ptr<Watch> watch_ready_fd(int pid,
                                                              std::function<void(bool)> fn) {
    (void)pid;
    (void)fn;
    return nullptr;
  }
  // Whether a TCP listener on `port` that `host` reaches is held by a
  // process other than `pid` and what it started: who holds it then ("pid
  // 4242 (nginx)"), else "" (also when it cannot be told).
  virtual std::string foreign_listener(int pid, const std::string& host, int port) {
    (void)pid;
    (void)host;
    (void)port;
    return {};
  }
  // One TCP connection attempt to a numeric address, given up after
  // `timeout`; fn(true) when it was accepted (the connection is closed at once).
  [[nodiscard]] virtual std::unique_ptr<Watch> try_connect(const std::string& host, int port,
                                                           Duration timeout,
                                                           std::function<void(bool)> fn) {
    (void)host;
    (void)port;
    (void)timeout;
    (void)fn;
    return nullptr;
  }
};

}  // namespace otpd::supervise

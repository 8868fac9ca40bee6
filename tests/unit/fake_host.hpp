// A hand-driven world for engine tests: a clock that moves only when told,
// and "processes" that live in a table and die when the test says so.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "supervise/event.hpp"
#include "supervise/host.hpp"

namespace otpd::test {

using supervise::Duration;
using supervise::ExitStatus;
using supervise::TimePoint;

class FakeHost final : public supervise::Host {
 public:
  TimePoint now() const override { return now_; }
  std::unique_ptr<supervise::TimerHandle> start_timer(Duration delay,
                                                      std::function<void()> fn) override;
  // Thread-safe, like the daemon's: in-process workers post from their threads.
  void post(std::function<void()> fn) override {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(fn));
    posted_changed_.notify_all();
  }

  // Runs posted work until there is none left.
  void run();
  // Waits until work has been posted and not yet run; false when none came
  // within `bound`. For tests whose workers post from their own threads.
  bool wait_for_post(std::chrono::milliseconds bound = std::chrono::seconds(5));
  // Moves the clock forward, firing due timers in deadline order.
  void advance(Duration d);
  std::size_t pending_timers() const { return timers_.size(); }

 private:
  friend class FakeTimer;
  TimePoint now_{};
  std::uint64_t next_timer_ = 1;
  std::map<std::pair<TimePoint, std::uint64_t>, std::function<void()>> timers_;
  std::mutex posted_mutex_;
  std::condition_variable posted_changed_;
  std::vector<std::function<void()>> posted_;
};

// Processes are named by argv[0]. History lines: "start NAME", "term NAME",
// "kill NAME", "abrt NAME", "exit NAME", "connect HOST:PORT"; another signal
// is "SIGQUIT NAME". A signal sent to the process alone rather than its group
// adds " (process)". Any signal but SIGKILL and SIGABRT ends a process with
// status 0 unless it ignores it; SIGABRT kills it unless it ignores it.
class FakeProcesses final : public supervise::ProcessControl {
 public:
  explicit FakeProcesses(FakeHost& host) : host_(host) {}

  supervise::SpawnResult spawn(const std::string& path, const config::ProcessSpec& spec,
                               std::function<void(ExitStatus)> on_exit) override;
  void signal_group(int pgid, int signo) override;
  void signal_process(int pid, int signo) override;

  // Readiness: a notify socket whose datagrams the test sends in a child's
  // name, readiness pipes it writes to, and ports that accept or refuse.
  std::string notify_socket() override { return notify_socket_; }
  std::unique_ptr<supervise::Watch> watch_notify(
      int pgid, std::function<void(const std::string&)> fn) override;
  std::unique_ptr<supervise::Watch> watch_ready_fd(int pid, std::function<void(bool)> fn) override;
  std::unique_ptr<supervise::Watch> try_connect(const std::string& host, int port, Duration timeout,
                                                std::function<void(bool)> fn) override;
  void disable_notify_socket() { notify_socket_.clear(); }
  // Delivers a datagram from the child `name`; false when nobody listens.
  bool notify(const std::string& name, const std::string& datagram);
  // The child `name` writes a newline to (or closes) its readiness fd.
  bool write_ready_fd(const std::string& name, bool newline = true);
  void listen_on(int port) { listening_.insert(port); }
  // The port accepts, but through a listener of `holder`, not of the child.
  void listen_foreign(int port, std::string holder) {
    listening_.insert(port);
    foreign_[port] = std::move(holder);
  }
  std::string foreign_listener(int, const std::string&, int port) override {
    const auto found = foreign_.find(port);
    return found == foreign_.end() ? std::string() : found->second;
  }
  // The environment the last start of `name` was given.
  std::vector<std::pair<std::string, std::string>> env_of(const std::string& name) const {
    auto it = env_.find(name);
    return it == env_.end() ? std::vector<std::pair<std::string, std::string>>{} : it->second;
  }

  int pid_of(const std::string& name) const;  // 0 when not running
  bool running(const std::string& name) const { return pid_of(name) != 0; }
  void exit(const std::string& name, ExitStatus status);
  void fail_starts_of(const std::string& name, std::string error) { failing_[name] = error; }
  void let_start(const std::string& name) { failing_.erase(name); }
  void allow_starts_of(const std::string& name) { failing_.erase(name); }
  void ignore_sigterm(const std::string& name) { stubborn_.insert(name); }
  int starts_of(const std::string& name) const;
  std::vector<std::string> history;

 private:
  struct Proc {
    std::string name;
    std::function<void(ExitStatus)> on_exit;
  };
  void die(int pid, ExitStatus status);
  void deliver(int pid, int signo, const std::string& suffix);

  FakeHost& host_;
  int next_pid_ = 100;
  std::map<int, Proc> live_;
  std::map<std::string, std::string> failing_;
  std::set<std::string> stubborn_;
  std::string notify_socket_ = "@fake/notify";
  std::map<int, std::shared_ptr<std::function<void(const std::string&)>>> notify_;
  std::map<int, std::shared_ptr<std::function<void(bool)>>> ready_fds_;
  std::set<int> listening_;
  std::map<int, std::string> foreign_;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> env_;
};

class RecordingSink final : public supervise::EventSink {
 public:
  void emit(const supervise::Event& e) override { events.push_back(e); }
  // "started app/api" lines for every event of these kinds.
  std::vector<std::string> lines(std::set<supervise::EventKind> kinds) const;
  int count(supervise::EventKind kind, const std::string& path) const;
  std::vector<supervise::Event> events;
};

}  // namespace otpd::test

#include "fake_host.hpp"

#include <signal.h>

#include "config/signals.hpp"

namespace otpd::test {

class FakeTimer final : public supervise::TimerHandle {
 public:
  FakeTimer(FakeHost& host, std::pair<TimePoint, std::uint64_t> key) : host_(host), key_(key) {}
  ~FakeTimer() override { host_.timers_.erase(key_); }

 private:
  FakeHost& host_;
  std::pair<TimePoint, std::uint64_t> key_;
};

std::unique_ptr<supervise::TimerHandle> FakeHost::start_timer(Duration delay,
                                                              std::function<void()> fn) {
  auto key = std::make_pair(now_ + delay, next_timer_++);
  timers_.emplace(key, std::move(fn));
  return std::make_unique<FakeTimer>(*this, key);
}

void FakeHost::run() {
  for (;;) {
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard lock(posted_mutex_);
      batch = std::move(posted_);
      posted_.clear();
    }
    if (batch.empty()) return;
    for (auto& fn : batch) fn();
  }
}

bool FakeHost::wait_for_post(std::chrono::milliseconds bound) {
  std::unique_lock lock(posted_mutex_);
  return posted_changed_.wait_for(lock, bound, [&] { return !posted_.empty(); });
}

void FakeHost::advance(Duration d) {
  const TimePoint until = now_ + d;
  run();
  while (!timers_.empty() && timers_.begin()->first.first <= until) {
    auto it = timers_.begin();
    now_ = it->first.first;
    // Fired timers leave the table; the handle's later destruction is a no-op.
    auto fn = std::move(it->second);
    timers_.erase(it);
    fn();
    run();
  }
  now_ = until;
  run();
}

supervise::SpawnResult FakeProcesses::spawn(const std::string& /*path*/,
                                            const config::ProcessSpec& spec,
                                            std::function<void(ExitStatus)> on_exit) {
  const std::string& name = spec.argv.at(0);
  history.push_back("start " + name);
  env_[name] = spec.env;
  if (auto it = failing_.find(name); it != failing_.end()) return {.failure = it->second};
  const int pid = next_pid_++;
  live_[pid] = {name, std::move(on_exit)};
  return {.pid = pid};
}

void FakeProcesses::signal_group(int pgid, int signo) {
  deliver(pgid, signo, "");
}

void FakeProcesses::signal_process(int pid, int signo) {
  deliver(pid, signo, " (process)");
}

void FakeProcesses::deliver(int pid, int signo, const std::string& suffix) {
  auto it = live_.find(pid);
  if (it == live_.end()) return;
  const std::string& name = it->second.name;
  if (signo == SIGKILL) {
    history.push_back("kill " + name + suffix);
    die(pid, ExitStatus::killed(SIGKILL));
    return;
  }
  if (signo == SIGABRT) {
    history.push_back("abrt " + name + suffix);
    if (!stubborn_.contains(name)) die(pid, ExitStatus::killed(SIGABRT));
    return;
  }
  const std::string what = signo == SIGTERM ? "term" : config::signal_name(signo);
  history.push_back(what + " " + name + suffix);
  if (!stubborn_.contains(name)) die(pid, ExitStatus::exited(0));
}

void FakeProcesses::die(int pid, ExitStatus status) {
  // The reaper reports exits from the event loop, not from inside kill().
  host_.post([this, pid, status] {
    auto it = live_.find(pid);
    if (it == live_.end()) return;
    Proc proc = std::move(it->second);
    live_.erase(it);
    history.push_back("exit " + proc.name);
    proc.on_exit(status);
  });
}

namespace {

// Ends a fake watch by emptying the shared callback the table points to.
template <typename Fn>
class FakeWatch final : public supervise::Watch {
 public:
  explicit FakeWatch(std::shared_ptr<Fn> fn) : fn_(std::move(fn)) {}
  ~FakeWatch() override { *fn_ = nullptr; }

 private:
  std::shared_ptr<Fn> fn_;
};

}  // namespace

std::unique_ptr<supervise::Watch> FakeProcesses::watch_notify(
    int pgid, std::function<void(const std::string&)> fn) {
  if (notify_socket_.empty()) return nullptr;
  auto shared = std::make_shared<std::function<void(const std::string&)>>(std::move(fn));
  notify_[pgid] = shared;
  return std::make_unique<FakeWatch<std::function<void(const std::string&)>>>(shared);
}

std::unique_ptr<supervise::Watch> FakeProcesses::watch_ready_fd(int pid,
                                                                std::function<void(bool)> fn) {
  auto shared = std::make_shared<std::function<void(bool)>>(std::move(fn));
  ready_fds_[pid] = shared;
  return std::make_unique<FakeWatch<std::function<void(bool)>>>(shared);
}

std::unique_ptr<supervise::Watch> FakeProcesses::try_connect(const std::string& host, int port,
                                                             Duration,
                                                             std::function<void(bool)> fn) {
  history.push_back("connect " + host + ":" + std::to_string(port));
  auto shared = std::make_shared<std::function<void(bool)>>(std::move(fn));
  host_.post([shared, accepted = listening_.contains(port)] {
    if (auto call = std::exchange(*shared, nullptr)) call(accepted);
  });
  return std::make_unique<FakeWatch<std::function<void(bool)>>>(shared);
}

bool FakeProcesses::notify(const std::string& name, const std::string& datagram) {
  auto it = notify_.find(pid_of(name));
  if (it == notify_.end() || !*it->second) return false;
  auto fn = *it->second;  // a copy: the listener may end its own watch
  fn(datagram);
  host_.run();
  return true;
}

bool FakeProcesses::write_ready_fd(const std::string& name, bool newline) {
  auto it = ready_fds_.find(pid_of(name));
  if (it == ready_fds_.end() || !*it->second) return false;
  auto fn = std::exchange(*it->second, nullptr);
  fn(newline);
  host_.run();
  return true;
}

int FakeProcesses::pid_of(const std::string& name) const {
  for (const auto& [pid, proc] : live_) {
    if (proc.name == name) return pid;
  }
  return 0;
}

void FakeProcesses::exit(const std::string& name, ExitStatus status) {
  const int pid = pid_of(name);
  if (pid != 0) die(pid, status);
  host_.run();
}

int FakeProcesses::starts_of(const std::string& name) const {
  int n = 0;
  for (const auto& line : history) n += line == "start " + name;
  return n;
}

std::vector<std::string> RecordingSink::lines(std::set<supervise::EventKind> kinds) const {
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (kinds.contains(e.kind)) out.push_back(std::string(to_string(e.kind)) + " " + e.path);
  }
  return out;
}

int RecordingSink::count(supervise::EventKind kind, const std::string& path) const {
  int n = 0;
  for (const auto& e : events) n += e.kind == kind && e.path == path;
  return n;
}

}  // namespace otpd::test

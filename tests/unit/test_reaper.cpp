// The Reaper, OsProcesses, AsioHost and SignalWatcher on a real io_context.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "asio/asio_host.hpp"
#include "asio/signals.hpp"
#include "process/descriptor_budget.hpp"
#include "process/os_processes.hpp"
#include "process/reaper.hpp"

namespace fs = std::filesystem;
using otpd::config::ProcessSpec;
using otpd::process::DescriptorBudget;
using otpd::process::DescriptorGrant;
using otpd::process::OsProcesses;
using otpd::process::Reaper;
using otpd::supervise::ExitStatus;
using namespace std::chrono_literals;

namespace {

ProcessSpec shell(const std::string& script) {
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  return spec;
}

// Runs the loop until `done` holds or five seconds pass; no test can hang.
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (io.stopped()) io.restart();
    io.run_for(10ms);
  }
  return true;
}

// Every process a test starts, killed and reaped by pid if the test ends
// before the process does.
class Started {
 public:
  ~Started() {
    for (int pid : pids_) {
      if (waitpid(pid, nullptr, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
  }
  void add(int pid) { pids_.push_back(pid); }

 private:
  std::vector<int> pids_;
};

struct Fixture {
  Fixture() { otpd::on_asio::block_supervisor_signals(); }
  boost::asio::io_context io;
  std::vector<std::pair<int, ExitStatus>> orphans;
  Reaper reaper{io, [this](int pid, int, ExitStatus s) { orphans.emplace_back(pid, s); }};
  OsProcesses processes{reaper};
  Started started;

  // Spawns through OsProcesses and returns the pid; the exit lands in `status`.
  int spawn(const ProcessSpec& spec, std::optional<ExitStatus>& status) {
    const auto result = processes.spawn("test", spec, [&status](ExitStatus s) { status = s; });
    REQUIRE_MESSAGE(result.pid > 0, result.failure.value_or(""));
    started.add(result.pid);
    return result.pid;
  }

  ExitStatus exit_of(const ProcessSpec& spec) {
    std::optional<ExitStatus> status;
    spawn(spec, status);
    REQUIRE(run_until(io, [&] { return status.has_value(); }));
    return *status;
  }
};

// Waits (5 s at most) until our child `pid` has exited, leaving it to be
// reaped by whoever reaps it.
bool exited_unreaped(int pid) {
  const int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return false;
  pollfd ready{.fd = fd, .events = POLLIN, .revents = 0};
  const bool exited = poll(&ready, 1, 5000) == 1;
  close(fd);
  return exited;
}

// The pid a shell wrote to `file`, once it is there.
std::optional<int> read_pid(const std::string& file) {
  std::ifstream in(file);
  int pid = 0;
  if (in >> pid && pid > 0) return pid;
  return std::nullopt;
}

std::string core_pattern() {
  std::ifstream in("/proc/sys/kernel/core_pattern");
  std::string pattern;
  std::getline(in, pattern);
  return pattern;
}

}  // namespace

TEST_CASE_FIXTURE(Fixture, "the reaper reports exit codes and signals") {
  CHECK(exit_of(shell("exit 3")) == ExitStatus::exited(3));
  CHECK(exit_of(shell("exit 0")) == ExitStatus::exited(0));
  CHECK(exit_of(shell("kill -KILL $$")) == ExitStatus::killed(SIGKILL));
  CHECK(exit_of(shell("ulimit -c 0; kill -SEGV $$")) == ExitStatus::killed(SIGSEGV, false));
  CHECK(describe(ExitStatus::exited(3)) == "exited with status 3");
  CHECK(reaper.watched() == 0);
  CHECK(orphans.empty());
}

TEST_CASE_FIXTURE(Fixture, "the reaper reports a dumped core") {
  // Only a core written next to the process can be relied on; a pipe or an
  // absolute path belongs to the host.
  const std::string pattern = core_pattern();
  if (pattern.empty() || pattern[0] == '|' || pattern[0] == '/') {
    MESSAGE("core_pattern '" << pattern << "' is not a relative file; skipped");
    return;
  }
  char dir[] = "/tmp/otpd-core-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  ProcessSpec spec = shell("ulimit -c unlimited; kill -SEGV $$");
  spec.cwd = dir;
  const ExitStatus status = exit_of(spec);
  fs::remove_all(dir);
  CHECK(status == ExitStatus::killed(SIGSEGV, true));
}

TEST_CASE_FIXTURE(Fixture, "signal_group reaches the whole group, and orphans are reaped") {
  REQUIRE(reaper.receives_orphans());
  char dir[] = "/tmp/otpd-group-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string pidfile = std::string(dir) + "/bg";
  // A background sleep in the shell's group: it would outlive the shell as
  // an orphan if the signal reached only the shell.
  std::optional<ExitStatus> status;
  // One builtin write: the file is seen empty or whole, and no other
  // process of the group is around to become an orphan.
  const int pid = spawn(shell("sleep 30 & echo $! > " + pidfile + "; wait"), status);
  std::optional<int> background;
  REQUIRE(run_until(io, [&] { return (background = read_pid(pidfile)).has_value(); }));
  started.add(*background);

  processes.signal_group(pid, SIGTERM);
  REQUIRE(run_until(io, [&] { return status && !orphans.empty(); }));
  fs::remove_all(dir);
  CHECK(*status == ExitStatus::killed(SIGTERM));
  REQUIRE(orphans.size() == 1);
  CHECK(orphans[0].first == *background);
  CHECK(orphans[0].second == ExitStatus::killed(SIGTERM));

  // Gone groups, and the ones that would mean "everyone", are left alone.
  processes.signal_group(pid, SIGTERM);
  processes.signal_group(0, SIGTERM);
  processes.signal_group(1, SIGTERM);
}

TEST_CASE_FIXTURE(Fixture, "a grandchild left behind by a double fork is reaped as an orphan") {
  REQUIRE(reaper.receives_orphans());
  char dir[] = "/tmp/otpd-orphan-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string pidfile = std::string(dir) + "/grandchild";
  const std::string grandchild = "echo $$ > " + pidfile + "; sleep 0.2; exit 7";

  // setsid: out of the child's process group, which is killed when the
  // child exits.
  // child exits; the child waits until the grandchild is out of it.
  const ExitStatus exited = exit_of(shell("setsid sh -c '" + grandchild + "' & until [ -s " +
                                          pidfile + " ]; do sleep 0.01; done; exit 0"));
  REQUIRE(run_until(io, [&] { return !orphans.empty(); }));
  const std::optional<int> pid = read_pid(pidfile);
  fs::remove_all(dir);
  REQUIRE(pid.has_value());
  CHECK(orphans[0].first == *pid);
  CHECK(orphans[0].second == ExitStatus::exited(7));
  // A clean exit that left a process behind, out of its group: named, and
  // left to run (without cgroups otpd only infers that it was the child's).
  CHECK(exited.clean());
  REQUIRE(!exited.left_behind.empty());
  CHECK(exited.left_behind[0].pid == *pid);
  CHECK(exited.left_behind[0].runs_on);
}

TEST_CASE_FIXTURE(Fixture, "what a child leaves in its process group is killed when it exits") {
  char dir[] = "/tmp/otpd-leftover-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string pidfile = std::string(dir) + "/leftover";
  const ExitStatus exited = exit_of(shell("sleep 30 & echo $! > " + pidfile + "; exit 0"));
  REQUIRE(run_until(io, [&] { return !orphans.empty(); }));
  const std::optional<int> pid = read_pid(pidfile);
  fs::remove_all(dir);
  REQUIRE(pid.has_value());
  CHECK(orphans[0].first == *pid);
  CHECK(orphans[0].second == ExitStatus::killed(SIGKILL));
  // Named in the exit (as sh or sleep: it may not have exec'd yet), and
  // ended with the group.
  CHECK(exited.clean());
  REQUIRE(exited.left_behind.size() == 1);
  CHECK(exited.left_behind[0].pid == *pid);
  CHECK_FALSE(exited.left_behind[0].runs_on);
}

TEST_CASE_FIXTURE(Fixture, "exits that coalesce into one SIGCHLD are all reported") {
  constexpr int kChildren = 20;
  std::vector<std::optional<ExitStatus>> statuses(kChildren);
  std::vector<int> pids;
  for (int i = 0; i < kChildren; ++i) {
    pids.push_back(spawn(shell("exit " + std::to_string(i)), statuses[i]));
  }
  // All of them have exited before the loop looks once: each one's pidfd
  // (a second one, ours) is readable once it is a zombie, and reads reap
  // nothing.
  for (const int pid : pids) REQUIRE(exited_unreaped(pid));
  REQUIRE(run_until(io, [&] { return reaper.watched() == 0; }));
  for (int i = 0; i < kChildren; ++i) CHECK(statuses[i] == ExitStatus::exited(i));
  CHECK(orphans.empty());
}

TEST_CASE_FIXTURE(Fixture, "an exit callback may start the replacement") {
  int restarts = 0;
  std::function<void(ExitStatus)> on_exit = [&](ExitStatus) {
    if (++restarts == 3) return;
    const auto result = processes.spawn("test", shell("exit 1"), on_exit);
    REQUIRE_MESSAGE(result.pid > 0, result.failure.value_or(""));
    started.add(result.pid);
  };
  const auto first = processes.spawn("test", shell("exit 1"), on_exit);
  REQUIRE(first.pid > 0);
  started.add(first.pid);
  REQUIRE(run_until(io, [&] { return restarts == 3; }));
  CHECK(reaper.watched() == 0);
}

namespace {

// Output as otpd's output hub routes it, reduced to what the reaper needs:
// one pipe the child gets as stdout and stderr, read to its end on the
// loop, which then reports the child's pid.
class PipeRouting : public otpd::process::ChildStdioRouting {
 public:
  explicit PipeRouting(boost::asio::io_context& io) : io_(io) {}
  ~PipeRouting() override {
    if (pending_read_ >= 0) close(pending_read_);
  }

  otpd::process::ChildStdio prepare(const std::string&, const ProcessSpec&) override {
    int ends[2];
    REQUIRE(pipe2(ends, O_CLOEXEC) == 0);
    pending_read_ = ends[0];
    write_end_ = ends[1];
    return {ends[1], ends[1], {}, /*ends_at_exit=*/true};
  }
  void spawned(const std::string&, int pid) override {
    close(write_end_);
    auto pipe = std::make_shared<boost::asio::posix::stream_descriptor>(io_, pending_read_);
    pending_read_ = -1;
    read(pipe, pid);
  }
  void when_ended(std::function<void(int)> fn) override { ended_ = std::move(fn); }

 private:
  void read(std::shared_ptr<boost::asio::posix::stream_descriptor> pipe, int pid) {
    pipe->async_wait(boost::asio::posix::descriptor_base::wait_read,
                     [this, pipe, pid](const boost::system::error_code& error) {
                       char buffer[256];
                       const ssize_t n =
                           error ? 0 : ::read(pipe->native_handle(), buffer, sizeof buffer);
                       if (n > 0 || (n < 0 && errno == EAGAIN)) return read(pipe, pid);
                       pipe->close();
                       ended_(pid);
                     });
  }

  boost::asio::io_context& io_;
  int pending_read_ = -1;
  int write_end_ = -1;
  std::function<void(int)> ended_;
};

struct PipedFixture {
  PipedFixture() { otpd::on_asio::block_supervisor_signals(); }
  boost::asio::io_context io;
  Reaper reaper{io};
  PipeRouting routing{io};
  OsProcesses processes{reaper, {}, nullptr, &routing};
  Started started;

  int spawn(const ProcessSpec& spec, std::optional<ExitStatus>& status) {
    const auto result = processes.spawn("test", spec, [&status](ExitStatus s) { status = s; });
    REQUIRE_MESSAGE(result.pid > 0, result.failure.value_or(""));
    started.add(result.pid);
    return result.pid;
  }
};

}  // namespace

TEST_CASE_FIXTURE(PipedFixture, "a child whose output pipe tells of its exit needs no pidfd") {
  std::optional<ExitStatus> status;
  spawn(shell("echo hello; exit 3"), status);
  CHECK(reaper.pidfds() == 0);
  REQUIRE(run_until(io, [&] { return status.has_value(); }));
  CHECK(*status == ExitStatus::exited(3));
  CHECK(reaper.watched() == 0);
}

TEST_CASE_FIXTURE(PipedFixture, "a child that closes its output and runs on is watched by pidfd") {
  std::optional<ExitStatus> status;
  spawn(shell("exec >&- 2>&-; sleep 0.3; exit 4"), status);
  // The pipe ends long before the child: from then on a pidfd watches it.
  REQUIRE(run_until(io, [&] { return reaper.pidfds() == 1 || status.has_value(); }));
  CHECK_FALSE(status.has_value());
  REQUIRE(run_until(io, [&] { return status.has_value(); }));
  CHECK(*status == ExitStatus::exited(4));
  CHECK(reaper.pidfds() == 0);
}

TEST_CASE("with no room in the descriptor budget a child has no pidfd and is reaped all the same") {
  otpd::on_asio::block_supervisor_signals();
  boost::asio::io_context io;
  // A limit of 64 is all reserve: nothing is left for children.
  DescriptorBudget budget(64);
  Reaper reaper{io, {}, &budget};
  OsProcesses processes{reaper, {}, nullptr, nullptr, &budget};
  Started started;
  std::vector<std::optional<ExitStatus>> statuses(5);
  for (int i = 0; i < 5; ++i) {
    const auto result = processes.spawn("test", shell("sleep 0.1; exit " + std::to_string(i)),
                                        [&statuses, i](ExitStatus s) { statuses[i] = s; });
    REQUIRE_MESSAGE(result.pid > 0, result.failure.value_or(""));
    started.add(result.pid);
  }
  CHECK(reaper.pidfds() == 0);
  CHECK(budget.held() == 0);
  REQUIRE(run_until(io, [&] { return reaper.watched() == 0; }));
  for (int i = 0; i < 5; ++i) CHECK(statuses[i] == ExitStatus::exited(i));
}

TEST_CASE("a child's pidfd comes out of the budget and goes back to it") {
  otpd::on_asio::block_supervisor_signals();
  boost::asio::io_context io;
  DescriptorBudget budget(1000);
  Reaper reaper{io, {}, &budget};
  OsProcesses processes{reaper, {}, nullptr, nullptr, &budget};
  Started started;
  std::optional<ExitStatus> status;
  const auto result =
      processes.spawn("test", shell("sleep 0.1; exit 2"), [&](ExitStatus s) { status = s; });
  REQUIRE(result.pid > 0);
  started.add(result.pid);
  CHECK(reaper.pidfds() == 1);
  CHECK(budget.held() == 1);
  REQUIRE(run_until(io, [&] { return status.has_value(); }));
  CHECK(*status == ExitStatus::exited(2));
  CHECK(budget.held() == 0);
}

TEST_CASE("the descriptor budget keeps a reserve out of the open-file limit") {
  CHECK(DescriptorBudget::reserve_for(256) == 64);
  CHECK(DescriptorBudget::reserve_for(4096) == 512);
  CHECK(DescriptorBudget::reserve_for(20000) == 1024);
  CHECK(DescriptorBudget(20000).capacity() == 18976);
  CHECK(DescriptorBudget(10).capacity() == 0);
  // The least limit that holds a number of descriptors.
  for (std::uint64_t needed : {1u, 192u, 900u, 10000u, 30000u}) {
    const std::uint64_t limit = DescriptorBudget::limit_for(needed);
    CHECK(DescriptorBudget(limit).capacity() >= needed);
    CHECK(DescriptorBudget(limit - 1).capacity() < needed);
  }
  DescriptorBudget budget(256);
  CHECK(budget.take(190));
  CHECK_FALSE(budget.take(3));  // none of the three, then
  CHECK(budget.held() == 190);
  {
    DescriptorGrant two = DescriptorGrant::take(&budget, 2);
    CHECK(two);
    CHECK(budget.held() == 192);
    CHECK_FALSE(DescriptorGrant::take(&budget));
    DescriptorGrant one = two.split_one();
    two.release();
    CHECK(budget.held() == 191);
  }
  CHECK(budget.held() == 190);
  // Without a budget, everything is granted.
  CHECK(DescriptorGrant::take(nullptr, 5));
}

TEST_CASE("AsioHost timers fire after their delay, never once their handle is gone") {
  boost::asio::io_context io;
  otpd::on_asio::AsioHost host(io);
  const auto start = host.now();

  std::optional<otpd::supervise::TimePoint> fired_at;
  auto fires = host.start_timer(20ms, [&] { fired_at = host.now(); });
  bool cancelled_fired = false;
  auto cancelled = host.start_timer(10ms, [&] { cancelled_fired = true; });
  cancelled.reset();
  // Two timers due in the same loop iteration, each cancelling the other:
  // whichever runs first must silence the second although its completion is
  // already queued.
  int racers_fired = 0;
  std::unique_ptr<otpd::supervise::TimerHandle> a;
  std::unique_ptr<otpd::supervise::TimerHandle> b;
  a = host.start_timer(1ms, [&] { ++racers_fired, b.reset(); });
  b = host.start_timer(1ms, [&] { ++racers_fired, a.reset(); });
  // Both due before the loop first looks: a wait for that moment itself.
  std::this_thread::sleep_until(std::chrono::steady_clock::now() + 2ms);

  REQUIRE(run_until(io, [&] { return fired_at.has_value(); }));
  io.run_for(30ms);
  CHECK(*fired_at - start >= 20ms);
  CHECK_FALSE(cancelled_fired);
  CHECK(racers_fired == 1);
}

TEST_CASE("AsioHost::post runs the function later, from the loop") {
  boost::asio::io_context io;
  otpd::on_asio::AsioHost host(io);
  std::vector<int> order;
  host.post([&] { order.push_back(2); });
  order.push_back(1);
  REQUIRE(run_until(io, [&] { return order.size() == 2; }));
  CHECK(order == std::vector<int>{1, 2});
}

TEST_CASE("SignalWatcher delivers SIGHUP and SIGTERM to the loop") {
  otpd::on_asio::block_supervisor_signals();
  boost::asio::io_context io;
  std::vector<int> received;
  otpd::on_asio::SignalWatcher watcher(io, [&](int signo) { received.push_back(signo); });

  raise(SIGHUP);
  REQUIRE(run_until(io, [&] { return received.size() == 1; }));
  kill(getpid(), SIGTERM);
  REQUIRE(run_until(io, [&] { return received.size() == 2; }));
  CHECK(received == std::vector<int>{SIGHUP, SIGTERM});
}

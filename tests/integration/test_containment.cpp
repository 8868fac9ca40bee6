// Children never outlive otpd (docs/spawning.md, "What outlives otpd"):
// real otpds over real children, killed with SIGKILL and started again,
// children that escape their process group, the fallback without cgroups,
// and the limits of a child's cgroup. Every wait has a deadline; every
// process is found and ended by pid.
//
// Most of these need a writable cgroup2 (root, or a delegated cgroup) and
// say so when they skip; the fallback tests run anywhere.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "harness.hpp"
#include "otpctl_process.hpp"
#include "process/cgroup_fs.hpp"

using namespace otpd::it;
namespace cgroupfs = otpd::process::cgroupfs;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::vector<pid_t> pids_in_file(const std::string& path) {
  std::vector<pid_t> pids;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) pids.push_back(std::stoi(line));
  }
  return pids;
}

// Why otpd cannot put children in cgroups here, or "" when it can: a
// cgroup2 that shows this process's cgroup, and room to make one below it.
std::string cgroups_unusable() {
  const auto layout = cgroupfs::read_layout();
  if (!layout.v2) return "no cgroup2 file system is mounted";
  if (layout.v2->own.empty()) return "this process's cgroup is not visible in cgroup2";
  const std::string probe = layout.v2->own + "/otpd-test-" + std::to_string(getpid());
  if (mkdir(probe.c_str(), 0755) != 0) {
    return "cannot create a cgroup in " + layout.v2->own + " (" + std::strerror(errno) +
           "): run as root or in a delegated cgroup";
  }
  rmdir(probe.c_str());
  return {};
}

#define SKIP_WITHOUT_CGROUPS()                                           \
  do {                                                                   \
    const std::string unusable = cgroups_unusable();                     \
    if (!unusable.empty()) {                                             \
      MESSAGE("skipped: needs a writable cgroup2 (" << unusable << ")"); \
      return;                                                            \
    }                                                                    \
  } while (false)

// The cgroup v2 directory of a process, from /proc/PID/cgroup.
std::string cgroup_of(pid_t pid) {
  const auto layout = cgroupfs::read_layout();
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("0::", 0) == 0 && layout.v2) {
      return line.substr(3) == "/" ? layout.v2->mount : layout.v2->mount + line.substr(3);
    }
  }
  return {};
}

// The directory of a process's cgroup in the cgroup v1 hierarchy of
// `controller`, or "" when it has none.
std::string v1_cgroup_of(pid_t pid, const std::string& controller) {
  const auto layout = cgroupfs::read_layout();
  const auto hierarchy = layout.v1.find(controller);
  if (hierarchy == layout.v1.end()) return {};
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = "," + line.substr(first + 1, second - first - 1) + ",";
    if (controllers.find("," + controller + ",") == std::string::npos) continue;
    const std::string path = line.substr(second + 1);
    return path == "/" ? hierarchy->second.mount : hierarchy->second.mount + path;
  }
  return {};
}

// Waits until none of `pids` runs (a zombie has ended); those still running.
std::vector<pid_t> still_running(const std::vector<pid_t>& pids, Ms timeout = Ms(10000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::vector<pid_t> left;
    for (pid_t pid : pids) {
      if (running(pid)) left.push_back(pid);
    }
    if (left.empty() || std::chrono::steady_clock::now() >= deadline) return left;
    std::this_thread::sleep_for(Ms(20));
  }
}

// Waits until `path` holds `count` lines.
bool wait_lines(const std::string& path, std::size_t count, Ms timeout = Ms(30000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pids_in_file(path).size() < count) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(Ms(20));
  }
  return true;
}

// Waits until otpd has recorded `pid` beside its socket, by pid and start
// time: right after the spawn returns, which may be after the child has run.
bool wait_child_record(const Sandbox& box, pid_t pid, Ms timeout = Ms(10000)) {
  const std::string recorded = "\n+ " + std::to_string(pid) + " ";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (read_text(box.path("otpd.sock.children")).find(recorded) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(Ms(20));
  }
  return true;
}

// An otpctl command against the otpd of `box`.
otpd::ctl_test::Outcome otpctl(const Sandbox& box, std::vector<std::string> args) {
  return otpd::ctl_test::run_otpctl(std::move(args), {"OTPD_SOCKET=" + box.path("otpd.sock")});
}

// Children with a descendant in their process group (b) and one that left it
// with setsid (c): all three kinds must go.
constexpr const char* kThreeKinds = R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
    - name: b
      command: [@CHILD@, --name, b, --fork]
    - name: c
      shell: "setsid @CHILD@ --name c.escaped & exec @CHILD@ --name c"
)";

// A program that daemonizes: its first process exits 0 once its copy, in a
// session of its own, runs.
constexpr const char* kDaemonizing = R"(
tree:
  children:
    - name: web
      command: [@CHILD@, --name, web, --daemonize]
      restart: transient
)";

// What happens while the tree stops, seen before the tree has stopped: its
// oldest child, `slow`, stopped last (newest first), holds on to its
// SIGTERM until its shutdown timeout of 3 s kills it, so what a test checks
// of `sibling` (one child's YAML, listed after `slow`) must have happened
// within those 3 s rather than at otpd's exit. Runs otpd on the tree and
// waits until `slow` has started.
Otpd run_beside_slow(const Sandbox& box, const std::string& sibling) {
  Otpd otpd = Otpd::run(box, std::string(R"(
tree:
  children:
    - name: slow
      shutdown: 3s
      command: [@CHILD@, --name, slow, --record, @DIR@/record, --ignore-term])") +
                                 sibling);
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "slow"), otpd.transcript());
  return otpd;
}

// Stops the tree; returns once `slow` has its SIGTERM, which starts its 3 s.
void stop_until_slow_holds_on(const Sandbox& box, Otpd& otpd) {
  otpd.signal(SIGTERM);
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "term", "slow"), otpd.transcript());
}

// What the test checked came while `slow` was still being stopped; then
// otpd exits once its shutdown timeout has ended it.
void wait_exit_after_slow(Otpd& otpd) {
  CHECK(otpd.count("slow", "stopped") == 0);
  REQUIRE_MESSAGE(otpd.wait_exit(Ms(20000)) == 0, otpd.transcript());
}

}  // namespace

TEST_SUITE("containment: a child that daemonizes") {
  TEST_CASE("it is told to run in the foreground, and what it left ends with its cgroup") {
    SKIP_WITHOUT_CGROUPS();
    Sandbox box;
    Otpd otpd = Otpd::run(box, kDaemonizing);
    REQUIRE_MESSAGE(otpd.wait_event("web", "exited"), otpd.transcript());
    const pid_t daemon = box.pid("web.daemon");
    REQUIRE(daemon > 0);
    const Line* exited = otpd.event("web", "exited");
    const std::string reason = exited->str("reason");
    CHECK_MESSAGE(
        reason == "exited with status 0, leaving a process behind: " + std::to_string(daemon) +
                      " (otpd-test-child); otpd-test-child seems to daemonize: run it "
                      "in the foreground (most daemons have an option for it, such as "
                      "--foreground, --nodaemon or -f)",
        reason);
    CHECK(exited->json["left_behind"] == nlohmann::json::array({daemon}));
    // Ended with the cgroup before the exit was reported.
    CHECK(still_running({daemon}).empty());
    const auto status = otpctl(box, {"status", "web"});
    CHECK_MESSAGE(status.out.find("seems to daemonize") != std::string::npos, status.shown());
    otpd.signal(SIGTERM);
    REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
  }

  TEST_CASE("--no-cgroups: what left its group is named, runs on, and is ended at the exit") {
    Sandbox box;
    Otpd otpd = Otpd::run(box, kDaemonizing, {.args = {"--no-cgroups"}});
    REQUIRE_MESSAGE(otpd.wait_event("web", "exited"), otpd.transcript());
    const pid_t daemon = box.pid("web.daemon");
    REQUIRE(daemon > 0);
    const std::string reason = otpd.event("web", "exited")->str("reason");
    CHECK_MESSAGE(
        reason.find("exited with status 0, leaving a process behind: " + std::to_string(daemon) +
                    " (otpd-test-child, runs on); otpd-test-child seems to daemonize") == 0,
        reason);
    CHECK(running(daemon));
    otpd.signal(SIGTERM);
    REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
    CHECK_MESSAGE(otpd.logged("1 process otpd did not start still running: sending SIGTERM to " +
                              std::to_string(daemon) + " (otpd-test-child)"),
                  otpd.transcript());
    // Ended and reaped by otpd before it exited; ended here, by pid, only if not.
    const bool ended = still_running({daemon}).empty();
    if (!ended) {
      kill(daemon, SIGKILL);
      waitpid(daemon, nullptr, 0);
    }
    CHECK(ended);
  }
}

TEST_SUITE("containment: cgroups") {
  TEST_CASE("each child runs in a cgroup of its own, removed when otpd stops") {
    SKIP_WITHOUT_CGROUPS();
    Sandbox box;
    Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: app
      children:
        - name: api.v2
          command: [@CHILD@, --name, api]
)");
    REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "api"), otpd.transcript());
    const std::string leaf = cgroup_of(box.pid("api"));
    const std::string tree =
        cgroup_of(getpid()) + "/" + cgroupfs::instance_name(box.path("otpd.sock"));
    // A name with a dot cannot be taken for one of the kernel's files.
    CHECK(leaf == tree + "/app/_api.v2");
    CHECK(pids_in_file(leaf + "/cgroup.procs") == std::vector<pid_t>{box.pid("api")});
    otpd.signal(SIGTERM);
    REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
    CHECK(!std::filesystem::exists(tree));
  }

  TEST_CASE("while the tree stops, a stopped child's cgroup goes before the next child has ended") {
    SKIP_WITHOUT_CGROUPS();
    Sandbox box;
    // `quick` ends at SIGTERM.
    Otpd otpd = run_beside_slow(box, R"(
    - name: quick
      command: [@CHILD@, --name, quick]
)");
    REQUIRE_MESSAGE(otpd.wait_event("quick", "started"), otpd.transcript());
    const std::string leaf = cgroup_of(otpd.pid_of("quick"));
    REQUIRE(!leaf.empty());
    const std::string parent = std::filesystem::path(leaf).parent_path().string();
    // rmdir(2) on the cgroup file system reports IN_DELETE to its parent.
    const int watch = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    REQUIRE(watch >= 0);
    REQUIRE(inotify_add_watch(watch, parent.c_str(), IN_DELETE) >= 0);
    stop_until_slow_holds_on(box, otpd);
    // The shutdown timeout of `slow` is the deadline: an otpd that keeps
    // the leaf until it exits (or rests it 5 s for a restart) fails.
    const auto deadline = std::chrono::steady_clock::now() + Ms(2500);
    bool removed = !std::filesystem::exists(leaf);
    while (!removed && std::chrono::steady_clock::now() < deadline) {
      pollfd ready{watch, POLLIN, 0};
      const auto left = std::chrono::duration_cast<Ms>(deadline - std::chrono::steady_clock::now());
      if (poll(&ready, 1, static_cast<int>(std::max<Ms::rep>(left.count(), 0))) <= 0) break;
      alignas(inotify_event) char buffer[4096];
      while (read(watch, buffer, sizeof buffer) > 0) {
      }
      removed = !std::filesystem::exists(leaf);
    }
    close(watch);
    CHECK_MESSAGE(removed, leaf << " is still there while `slow` is being stopped");
    wait_exit_after_slow(otpd);
  }

  TEST_CASE("while the tree stops, what a stopped child left ends before the next child has") {
    SKIP_WITHOUT_CGROUPS();
    Sandbox box;
    // `c` leaves `c.escaped` in a session of its own, out of reach of the
    // group's SIGTERM.
    Otpd otpd = run_beside_slow(box, R"(
    - name: c
      shell: "setsid @CHILD@ --name c.escaped & exec @CHILD@ --name c"
)");
    REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "c.escaped"), otpd.transcript());
    REQUIRE_MESSAGE(otpd.wait_event("c", "started"), otpd.transcript());
    const pid_t escaped = box.pid("c.escaped");
    stop_until_slow_holds_on(box, otpd);
    // Before `slow`'s shutdown timeout: not left for otpd's own exit.
    CHECK_MESSAGE(still_running({escaped}, Ms(2500)).empty(),
                  "c.escaped still runs while `slow` is being stopped");
    wait_exit_after_slow(otpd);
  }

  TEST_CASE("an otpd started after a killed one ends what that one left, then starts one copy") {
    SKIP_WITHOUT_CGROUPS();
    Sandbox box;
    std::vector<pid_t> first_pids;
    {
      Otpd first = Otpd::run(box, kThreeKinds);
      for (const char* name : {"a", "b", "b.child", "c", "c.escaped"}) {
        REQUIRE_MESSAGE(first.wait_recorded(box, "start", name), first.transcript());
        first_pids.push_back(box.pid(name));
      }
      first.signal(SIGKILL);
      REQUIRE(first.wait_exit() == 128 + SIGKILL);
      // Nothing ended them: they run on without an otpd.
      for (pid_t pid : first_pids) CHECK(running(pid));

      Otpd second = Otpd::run(box, kThreeKinds);
      REQUIRE_MESSAGE(second.wait_message("tree started"), second.transcript());
      CHECK_MESSAGE(second.logged("ended 5 processes that a previous otpd on this socket left in "
                                  "its cgroups"),
                    second.transcript());
      CHECK(still_running(first_pids).empty());
      // Exactly one copy of each: the second starts, alone in their cgroups.
      for (const char* name : {"a", "b", "b.child", "c", "c.escaped"}) {
        REQUIRE_MESSAGE(second.wait_recorded(box, "start", name, 2), second.transcript());
        CHECK(box.count_recorded("start", name) == 2);
        CHECK(running(box.pid(name, 1)));
      }
      CHECK(pids_in_file(cgroup_of(box.pid("a", 1)) + "/cgroup.procs") ==
            std::vector<pid_t>{box.pid("a", 1)});
      std::vector<pid_t> b = pids_in_file(cgroup_of(box.pid("b", 1)) + "/cgroup.procs");
      std::sort(b.begin(), b.end());
      std::vector<pid_t> b_expected{box.pid("b", 1), box.pid("b.child", 1)};
      std::sort(b_expected.begin(), b_expected.end());
      CHECK(b == b_expected);
      CHECK(cgroup_of(box.pid("c.escaped", 1)) == cgroup_of(box.pid("c", 1)));
      second.signal(SIGTERM);
      REQUIRE_MESSAGE(second.wait_exit() == 0, second.transcript());
    }
    CHECK(strays().empty());
  }

  TEST_CASE("what a child started with setsid ends with it, and with otpctl shutdown") {
    SKIP_WITHOUT_CGROUPS();
    Sandbox box;
    // The first run leaves 300 sessions of its own behind and exits; the
    // second leaves 300 more and stays. Each sleeper writes its own pid.
    Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: spawner
      shell: |
        n=1
        if [ -e @DIR@/first ]; then n=2; fi
        touch @DIR@/first @DIR@/escaped.$n
        i=0
        while [ $i -lt 300 ]; do
          setsid sh -c 'echo $$ >> @DIR@/escaped.'$n'; exec sleep 1000' &
          i=$((i+1))
        done
        wait_for=0
        while [ $(wc -l < @DIR@/escaped.$n) -lt 300 ] && [ $wait_for -lt 600 ]; do
          sleep 0.05; wait_for=$((wait_for+1))
        done
        if [ $n = 1 ]; then exit 0; fi
        exec sleep 1000
)");
    REQUIRE_MESSAGE(wait_lines(box.path("escaped.1"), 300), otpd.transcript());
    REQUIRE_MESSAGE(otpd.wait_event("spawner", "started", 2, Ms(30000)), otpd.transcript());
    // The first run's sessions were ended before the second run started.
    const std::vector<pid_t> first = pids_in_file(box.path("escaped.1"));
    CHECK(first.size() == 300);
    CHECK_MESSAGE(still_running(first).empty(), "left running after the restart");

    REQUIRE(wait_lines(box.path("escaped.2"), 300));
    const std::vector<pid_t> second = pids_in_file(box.path("escaped.2"));
    const auto shutdown = otpctl(box, {"shutdown"});
    CHECK_MESSAGE(shutdown.code == 0, shutdown.shown());
    REQUIRE_MESSAGE(otpd.wait_exit(Ms(20000)) == 0, otpd.transcript());
    CHECK_MESSAGE(still_running(second).empty(), "left running after otpctl shutdown");
    CHECK(still_running({otpd.pid_of("spawner")}).empty());
  }
}

TEST_SUITE("containment: delegation") {
  TEST_CASE("under a delegation otpd moves into a leaf of its cgroup, beside the tree's") {
    SKIP_WITHOUT_CGROUPS();
    // A cgroup marked as systemd marks one it delegates (Delegate=yes).
    const std::string delegated =
        cgroup_of(getpid()) + "/otpd-test-delegated-" + std::to_string(getpid());
    REQUIRE(mkdir(delegated.c_str(), 0755) == 0);
    if (setxattr(delegated.c_str(), "trusted.delegate", "1", 1, 0) != 0) {
      rmdir(delegated.c_str());
      MESSAGE("skipped: cannot mark a cgroup delegated (" << std::strerror(errno) << ")");
      return;
    }
    Sandbox box;
    const std::string tree = delegated + "/" + cgroupfs::instance_name(box.path("otpd.sock"));
    {
      // otpd starts alone in that cgroup, as systemd starts a unit.
      Otpd otpd = Otpd::run(
          box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
)",
          {.wrapper = {"/bin/sh", "-c",
                       "echo $$ > " + delegated + "/cgroup.procs && exec \"$0\" \"$@\""}});
      REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "a"), otpd.transcript());
      CHECK(cgroup_of(otpd.pid()) == delegated + "/supervisor");
      CHECK(otpd.logged("otpd itself in " + delegated + "/supervisor"));
      CHECK(cgroup_of(box.pid("a")) == tree + "/a");
      // No process of its own: the delegated cgroup may hand controllers down.
      CHECK(pids_in_file(delegated + "/cgroup.procs").empty());
      otpd.signal(SIGTERM);
      REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
      CHECK(!std::filesystem::exists(tree));
    }
    rmdir((delegated + "/supervisor").c_str());
    CHECK(rmdir(delegated.c_str()) == 0);
  }
}

TEST_SUITE("containment: without cgroups") {
  TEST_CASE("--no-cgroups: a child dies with a killed otpd (PR_SET_PDEATHSIG)") {
    Sandbox box;
    Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a, --report-pdeathsig]
)",
                          {.args = {"--no-cgroups"}});
    REQUIRE_MESSAGE(otpd.wait_recorded(box, "pdeathsig", "a"), otpd.transcript());
    CHECK(box.recorded_value("pdeathsig", "a") == std::to_string(SIGKILL));
    CHECK(otpd.logged("children are not in cgroups (--no-cgroups was given)"));
    const pid_t a = box.pid("a");
    CHECK(wait_child_record(box, a));
    otpd.signal(SIGKILL);
    REQUIRE(otpd.wait_exit() == 128 + SIGKILL);
    CHECK(still_running({a}).empty());
  }

  TEST_CASE("--no-cgroups: the next otpd ends a recorded child that outlived a killed one") {
    Sandbox box;
    // A child that clears its parent-death signal, as one that changes its
    // own user does, outlives otpd; its record is what ends it.
    const std::string yaml = R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a, --clear-pdeathsig]
)";
    pid_t old_a = 0;
    {
      Otpd first = Otpd::run(box, yaml, {.args = {"--no-cgroups"}});
      REQUIRE_MESSAGE(first.wait_recorded(box, "start", "a"), first.transcript());
      old_a = box.pid("a");
      REQUIRE(wait_child_record(box, old_a));
      first.signal(SIGKILL);
      REQUIRE(first.wait_exit() == 128 + SIGKILL);
      CHECK(running(old_a));

      Otpd second = Otpd::run(box, yaml, {.args = {"--no-cgroups"}});
      REQUIRE_MESSAGE(second.wait_message("tree started"), second.transcript());
      CHECK_MESSAGE(second.logged("ended 1 process that a previous otpd on this socket started "
                                  "(recorded in " +
                                  box.path("otpd.sock.children") + ")"),
                    second.transcript());
      CHECK(still_running({old_a}).empty());
      REQUIRE(second.wait_recorded(box, "start", "a", 2));
      CHECK(box.count_recorded("start", "a") == 2);
      CHECK(running(box.pid("a", 1)));
      second.signal(SIGTERM);
      REQUIRE_MESSAGE(second.wait_exit() == 0, second.transcript());
      // Nothing left to record after an orderly stop.
      CHECK(!std::filesystem::exists(box.path("otpd.sock.children")));
    }
    CHECK(strays().empty());
  }

  TEST_CASE("--no-cgroups: a recorded pid that another process now holds is left alone") {
    Sandbox box;
    // Two processes of this test's own: one recorded as it is, one whose
    // pid is recorded with another start time, as if it had been reused.
    auto start = [] {
      const pid_t pid = fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        setpgid(0, 0);
        for (;;) pause();
      }
      return pid;
    };
    const pid_t leftover = start();
    const pid_t stranger = start();
    auto start_time = [](pid_t pid) {
      const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
      std::string rest = stat.substr(stat.rfind(')') + 2);
      std::istringstream fields(rest);
      std::string field;
      for (int i = 3; i <= 22; ++i) fields >> field;
      return std::stoull(field);
    };
    std::ofstream(box.path("otpd.sock.children"))
        << "otpd-children 1\nboot " << read_text("/proc/sys/kernel/random/boot_id") << "\n+ "
        << leftover << " " << start_time(leftover) << "\n+ " << stranger << " "
        << start_time(stranger) + 100 << "\n";

    Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
)",
                          {.args = {"--no-cgroups"}});
    REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
    CHECK(otpd.logged("ended 1 process that a previous otpd on this socket started"));
    CHECK(otpd.logged("left 1 recorded pid alone: other processes hold them now"));
    int status = 0;
    CHECK(waitpid(leftover, &status, 0) == leftover);
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    CHECK(waitpid(stranger, &status, WNOHANG) == 0);
    CHECK(running(stranger));
    kill(stranger, SIGKILL);
    waitpid(stranger, &status, 0);
  }
}

TEST_SUITE("containment: limits") {
  TEST_CASE("a limit that cannot be enforced stops the child's start with what to do") {
    Sandbox box;
    Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      memory_max: 64M
      command: [@CHILD@, --name, a]
)",
                          {.args = {"--no-cgroups"}});
    REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
    const Line* failed = otpd.event("a", "start_failed");
    REQUIRE_MESSAGE(failed != nullptr, otpd.transcript());
    CHECK(failed->str("reason") ==
          "memory_max needs the cgroup memory controller, but otpd does not use cgroups here "
          "(--no-cgroups was given); remove memory_max or run otpd where it can create cgroups");
    CHECK(box.count_recorded("start", "a") == 0);
  }

  TEST_CASE("memory_max, cpu_max and pids_max are written where the child runs") {
    SKIP_WITHOUT_CGROUPS();
    Sandbox box;
    Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      memory_max: 64M
      cpu_max: 50%
      pids_max: 7
      command: [@CHILD@, --name, a]
)");
    REQUIRE_MESSAGE(otpd.wait_for([&] {
      return box.count_recorded("start", "a") > 0 || otpd.count("a", "start_failed") > 0;
    }),
                    otpd.transcript());
    if (const Line* failed = otpd.event("a", "start_failed")) {
      // This cgroup v2 has no such controllers and there is no cgroup v1
      // hierarchy for them: the clear error is what otpd must give.
      REQUIRE(failed->str("reason").find("needs the cgroup") != std::string::npos);
      MESSAGE("skipped: " << failed->str("reason"));
      return;
    }
    const pid_t a = box.pid("a");
    const std::string v2 = cgroup_of(a);
    // Each in cgroup v2 when it has the controller, else in cgroup v1.
    if (std::filesystem::exists(v2 + "/memory.max")) {
      CHECK(read_text(v2 + "/memory.max") == "67108864");
    } else {
      CHECK(read_text(v1_cgroup_of(a, "memory") + "/memory.limit_in_bytes") == "67108864");
    }
    if (std::filesystem::exists(v2 + "/cpu.max")) {
      CHECK(read_text(v2 + "/cpu.max") == "50000 100000");
    } else {
      CHECK(read_text(v1_cgroup_of(a, "cpu") + "/cpu.cfs_quota_us") == "50000");
      CHECK(read_text(v1_cgroup_of(a, "cpu") + "/cpu.cfs_period_us") == "100000");
    }
    if (std::filesystem::exists(v2 + "/pids.max")) {
      CHECK(read_text(v2 + "/pids.max") == "7");
    } else {
      CHECK(read_text(v1_cgroup_of(a, "pids") + "/pids.max") == "7");
    }
  }

  TEST_CASE("a child the OOM killer ends says so, in its events and in otpctl status") {
    SKIP_WITHOUT_CGROUPS();
    Sandbox box;
    Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: hog
      memory_max: 32M
      backoff: {initial: 1h, max: 1h}
      command: [@CHILD@, --name, hog, --allocate, 256]
)");
    REQUIRE_MESSAGE(otpd.wait_for([&] {
      return otpd.count("hog", "exited") > 0 || otpd.count("hog", "start_failed") > 0;
    }),
                    otpd.transcript());
    if (const Line* failed = otpd.event("hog", "start_failed")) {
      REQUIRE(failed->str("reason").find("needs the cgroup memory controller") !=
              std::string::npos);
      MESSAGE("skipped: " << failed->str("reason"));
      return;
    }
    const Line* exited = otpd.event("hog", "exited");
    CHECK(exited->str("signal") == "SIGKILL");
    CHECK(exited->str("oom_limit") == "memory_max 32M");
    CHECK(exited->str("reason") == "killed by the kernel's OOM killer: memory_max 32M");
    CHECK(box.count_recorded("allocated", "hog") == 0);

    const auto status = otpctl(box, {"status"});
    const bool shown =
        status.out.find("last exit at ") != std::string::npos &&
        status.out.find(": killed by the kernel's OOM killer: memory_max 32M") != std::string::npos;
    CHECK_MESSAGE(shown, status.shown());
  }
}

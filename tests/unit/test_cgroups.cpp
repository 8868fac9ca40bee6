// The cgroup side of spawning without a real cgroupfs: the kernel's texts
// parsed, names made, and limits written into a temporary directory laid
// out like cgroupfs (the files a cgroup has exist before they are written,
// as they do there). The record of children kept without cgroups, against
// real processes. The real cgroups are tested in tests/integration.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "process/cgroup_fs.hpp"
#include "process/cgroups.hpp"
#include "process/child_records.hpp"
#include "temp_dir.hpp"

namespace cgroupfs = otpd::process::cgroupfs;
using otpd::config::CgroupLimits;
using otpd::process::Cgroups;
using otpd::process::ChildRecords;
using otpd::test::TempDir;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Whether the leaf is empty, or becomes so within `bound`. The kernel
// rewrites cgroup.events ("populated 0") when the last process of the
// cgroup has gone, which inotify reports as a modification; the file is
// read again at each one.
bool emptied_within(const Cgroups& cgroups, const Cgroups::Leaf& leaf,
                    std::chrono::milliseconds bound) {
  const int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) return false;
  const bool watched =
      inotify_add_watch(fd, (leaf.dir() + "/cgroup.events").c_str(), IN_MODIFY) >= 0;
  const auto until = std::chrono::steady_clock::now() + bound;
  bool empty = cgroups.empty(leaf);
  while (!empty && watched) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd changed{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&changed, 1, static_cast<int>(left.count())) <= 0) break;
    char events[4096];
    while (::read(fd, events, sizeof events) > 0) {
    }
    empty = cgroups.empty(leaf);
  }
  close(fd);
  return empty;
}

// A directory that looks like a cgroup: the files written to exist.
void make_cgroup(const std::string& dir, std::initializer_list<std::string> files,
                 const std::string& controllers = "") {
  std::filesystem::create_directories(dir);
  for (const std::string& file : files) std::ofstream(dir + "/" + file) << "";
  std::ofstream(dir + "/cgroup.controllers") << controllers << "\n";
}

constexpr const char* kHybridMountinfo =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime shared:5 - cgroup2 cgroup2 rw\n";

constexpr const char* kHybridCgroup =
    "9:name=systemd:/\n"
    "8:pids:/\n"
    "4:memory:/process_api/abc\n"
    "2:cpu,cpuacct:/\n"
    "0::/\n";

// A tree of cgroups of this test's own in the real cgroup2, named after
// `name` and this process, with one leaf "a" in it. Without it (no cgroup2,
// one this process may not write, or one otpd cannot use) the reason is
// logged and the case that asked is skipped: the kernels and containers
// CI runs on do not all allow one.
struct ScratchCgroup {
  std::unique_ptr<Cgroups> cgroups;
  std::shared_ptr<Cgroups::Leaf> leaf;  // declared last: released before its tree
  explicit operator bool() const { return leaf != nullptr; }
};

ScratchCgroup scratch_cgroup(const std::string& name, bool use_kill_file = true) {
  const auto layout = cgroupfs::read_layout();
  if (!layout.v2 || layout.v2->own.empty() || access(layout.v2->own.c_str(), W_OK) != 0) {
    MESSAGE("skipped: needs a writable cgroup2");
    return {};
  }
  ScratchCgroup scratch;
  scratch.cgroups = std::make_unique<Cgroups>(
      Cgroups::Settings{.instance = "otpd-test-" + name + "-" + std::to_string(getpid()),
                        .layout = layout,
                        .self = getpid(),
                        .use_kill_file = use_kill_file});
  if (!scratch.cgroups->contains()) {
    MESSAGE("skipped: " << scratch.cgroups->unavailable());
    return {};
  }
  bool created = false;
  std::string error;
  scratch.leaf = scratch.cgroups->enter("a", {}, created, error);
  REQUIRE_MESSAGE(scratch.leaf, error);
  return scratch;
}

}  // namespace

TEST_SUITE("cgroups: the kernel's texts") {
  TEST_CASE("a hybrid host: cgroup2 under unified, controllers on cgroup v1") {
    const auto layout = cgroupfs::parse_layout(kHybridMountinfo, kHybridCgroup);
    REQUIRE(layout.v2);
    CHECK(*layout.v2 == cgroupfs::Hierarchy{"/sys/fs/cgroup/unified", "/sys/fs/cgroup/unified"});
    CHECK(layout.v1.at("memory").own == "/sys/fs/cgroup/memory/process_api/abc");
    CHECK(layout.v1.at("pids").own == "/sys/fs/cgroup/pids");
    CHECK(layout.v1.at("cpu").own == "/sys/fs/cgroup/cpu");  // the first mount of it
    CHECK(layout.v1.count("name=systemd") == 0);
  }

  TEST_CASE("a unified host under systemd") {
    const auto layout = cgroupfs::parse_layout(
        "25 20 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
        "0::/system.slice/otpd.service\n");
    REQUIRE(layout.v2);
    CHECK(layout.v2->own == "/sys/fs/cgroup/system.slice/otpd.service");
    CHECK(layout.v1.empty());
  }

  TEST_CASE("a mount that shows a subtree, an escaped mount point, a deleted cgroup") {
    auto layout = cgroupfs::parse_layout(
        "25 20 0:22 /docker/abc /sys/fs/cgroup\\040x rw - cgroup2 cgroup2 rw\n",
        "0::/docker/abc/app\n");
    CHECK(layout.v2->own == "/sys/fs/cgroup x/app");
    layout = cgroupfs::parse_layout("25 20 0:22 /docker/abc /sys/fs/cgroup rw - cgroup2 none rw\n",
                                    "0::/docker/abcdef\n");
    CHECK(layout.v2->own.empty());
    layout = cgroupfs::parse_layout("25 20 0:22 / /sys/fs/cgroup rw - cgroup2 none rw\n",
                                    "0::/gone (deleted)\n");
    CHECK(layout.v2->own.empty());
    layout = cgroupfs::parse_layout("25 20 0:22 / / rw - ext4 /dev/sda1 rw\n", "0::/\n");
    CHECK(!layout.v2);
  }

  TEST_CASE("keyed files") {
    CHECK(cgroupfs::keyed_value("populated 1\nfrozen 0\n", "populated") == 1u);
    CHECK(cgroupfs::keyed_value("oom 2\noom_kill 3\n", "oom_kill") == 3u);
    CHECK(cgroupfs::keyed_value("oom_kill_disable 0\nunder_oom 0\noom_kill 7\n", "oom_kill") == 7u);
    CHECK(!cgroupfs::keyed_value("populated 1\n", "frozen"));
  }
}

TEST_SUITE("cgroups: names") {
  TEST_CASE("a child's directory never looks like a file of the kernel's") {
    CHECK(cgroupfs::dir_name("api") == "api");
    CHECK(cgroupfs::dir_name("memory.max") == "_memory.max");
    CHECK(cgroupfs::dir_name("web.1") == "_web.1");
    CHECK(cgroupfs::dir_name("tasks") == "_tasks");
    CHECK(cgroupfs::relative_dir("app/cgroup.procs/x") == "app/_cgroup.procs/x");
  }

  TEST_CASE("the tree's cgroup is named after the control socket") {
    CHECK(cgroupfs::instance_name("/run/otpd/otpd.sock") == "otpd-run-otpd-otpd.sock");
    CHECK(cgroupfs::instance_name("/tmp/my-app/s") == "otpd-tmp-my\\x2dapp-s");
    const std::string long_path = "/" + std::string(300, 'a') + ".sock";
    const std::string hashed = cgroupfs::instance_name(long_path);
    CHECK(hashed.size() == 21);
    CHECK(hashed.rfind("otpd-", 0) == 0);
    CHECK(hashed == cgroupfs::instance_name(long_path));
    CHECK(hashed != cgroupfs::instance_name(long_path + "x"));
  }
}

TEST_SUITE("cgroups: limits in a directory laid out like cgroupfs") {
  TEST_CASE("cgroup v2 files") {
    TempDir tmp;
    make_cgroup(tmp.dir(), {"memory.max", "cpu.max", "pids.max"});
    CgroupLimits limits;
    limits.memory_max = 64 * 1024 * 1024;
    limits.cpu_max = CgroupLimits::Cpu{50000, 100000};
    limits.pids_max = CgroupLimits::unlimited;
    std::string file;
    for (auto controller : cgroupfs::kControllers) {
      CHECK(cgroupfs::write_limit(tmp.dir(), false, limits, controller, file) == 0);
    }
    CHECK(read(tmp.path("memory.max")) == "67108864");
    CHECK(read(tmp.path("cpu.max")) == "50000 100000");
    CHECK(read(tmp.path("pids.max")) == "max");
  }

  TEST_CASE("cgroup v1 files") {
    TempDir tmp;
    make_cgroup(tmp.dir(),
                {"memory.limit_in_bytes", "cpu.cfs_period_us", "cpu.cfs_quota_us", "pids.max"});
    CgroupLimits limits;
    limits.memory_max = CgroupLimits::unlimited;
    limits.cpu_max = CgroupLimits::Cpu{25000, 50000};
    limits.pids_max = 12;
    std::string file;
    for (auto controller : cgroupfs::kControllers) {
      CHECK(cgroupfs::write_limit(tmp.dir(), true, limits, controller, file) == 0);
    }
    CHECK(read(tmp.path("memory.limit_in_bytes")) == "-1");
    CHECK(read(tmp.path("cpu.cfs_period_us")) == "50000");
    CHECK(read(tmp.path("cpu.cfs_quota_us")) == "25000");
    CHECK(read(tmp.path("pids.max")) == "12");
  }

  TEST_CASE("a missing file is an error naming it") {
    TempDir tmp;
    CgroupLimits limits;
    limits.pids_max = 3;
    std::string file;
    CHECK(cgroupfs::write_limit(tmp.dir(), false, limits, cgroupfs::Controller::pids, file) ==
          ENOENT);
    CHECK(file == tmp.path("pids.max"));
  }

  TEST_CASE("controllers handed down: enabled on the way to the leaf, limits in the leaf") {
    TempDir tmp;
    // otpd's cgroup holds otpd and another process: no delegation.
    const std::string own = tmp.path("own");
    make_cgroup(own, {"cgroup.type", "cgroup.subtree_control"}, "memory cpu pids");
    std::ofstream(own + "/cgroup.procs") << "1\n" << getpid() << "\n";
    const std::string tree = own + "/otpd-x";
    make_cgroup(tree, {"cgroup.subtree_control", "cgroup.procs"}, "memory pids");
    make_cgroup(tree + "/app", {"cgroup.subtree_control"}, "memory pids");
    make_cgroup(tree + "/app/api", {"memory.max", "memory.events", "pids.max", "cgroup.procs"},
                "memory pids");
    std::ofstream(tree + "/app/api/memory.events") << "oom 0\noom_kill 2\n";

    Cgroups cgroups({.instance = "otpd-x",
                     .layout = {.v2 = cgroupfs::Hierarchy{tmp.dir(), own}, .v1 = {}},
                     .self = getpid()});
    REQUIRE(cgroups.contains());
    CHECK(cgroups.tree_dir() == tree);
    CHECK(cgroups.own_leaf().empty());

    CgroupLimits limits;
    limits.memory_max = 32 * 1024 * 1024;
    limits.pids_max = 5;
    bool created = false;
    std::string error;
    auto leaf = cgroups.enter("app/api", limits, created, error);
    REQUIRE_MESSAGE(leaf, error);
    CHECK(created);
    CHECK(leaf->dir() == tree + "/app/api");
    CHECK(leaf->v1_dirs().empty());
    CHECK(read(tree + "/cgroup.subtree_control") == "+pids");  // the last written
    CHECK(read(tree + "/app/cgroup.subtree_control") == "+pids");
    CHECK(read(tree + "/app/api/memory.max") == "33554432");
    CHECK(read(tree + "/app/api/pids.max") == "5");
    // The OOM killer's count from here on is what counts.
    CHECK(leaf->limited->oom_base == 2);
    CHECK(cgroups.oom_killed(*leaf).empty());
    std::ofstream(tree + "/app/api/memory.events") << "oom 1\noom_kill 3\n";
    CHECK(cgroups.oom_killed(*leaf) == "memory_max 32M");

    // A second process of the same path joins the leaf.
    auto again = cgroups.enter("app/api", limits, created, error);
    CHECK(again == leaf);
    CHECK(!created);

    // cpu is not handed to the tree: a clear error that says what to do.
    limits.cpu_max = CgroupLimits::Cpu{};
    CHECK(!cgroups.enter("app/web", limits, created, error));
    CHECK(error ==
          "cpu_max needs the cgroup cpu controller, which otpd cannot use here: otpd's "
          "cgroup " +
              own +
              " cannot hand it down while otpd runs in it; run otpd "
              "under systemd with Delegate=yes, or as the only process of a cgroup "
              "delegated to it; or remove cpu_max");
  }

  TEST_CASE("cgroup v1 hierarchies hold the limits cgroup v2 does not have") {
    TempDir tmp;
    const std::string v2 = tmp.path("unified");
    make_cgroup(v2, {"cgroup.procs"});  // the root: no cgroup.type
    const std::string memory = tmp.path("memory/session");
    make_cgroup(memory, {"cgroup.procs"});
    // What the kernel would create with the leaf.
    make_cgroup(memory + "/otpd-x/api", {"memory.limit_in_bytes", "memory.oom_control"});

    Cgroups cgroups({.instance = "otpd-x",
                     .layout = {.v2 = cgroupfs::Hierarchy{v2, v2},
                                .v1 = {{"memory", {tmp.path("memory"), memory}}}},
                     .self = getpid()});
    REQUIRE(cgroups.contains());
    CgroupLimits limits;
    limits.memory_max = 64 * 1024 * 1024;
    bool created = false;
    std::string error;
    auto leaf = cgroups.enter("api", limits, created, error);
    REQUIRE_MESSAGE(leaf, error);
    CHECK(leaf->dir() == v2 + "/otpd-x/api");
    CHECK(leaf->v1_dirs() == std::vector<std::string>{memory + "/otpd-x/api"});
    CHECK(read(memory + "/otpd-x/api/memory.limit_in_bytes") == "67108864");
    CHECK(leaf->limited->oom_file == memory + "/otpd-x/api/memory.oom_control");

    // pids has neither: the error says why.
    limits = {};
    limits.pids_max = 4;
    CHECK(!cgroups.enter("other", limits, created, error));
    CHECK(error ==
          "pids_max needs the cgroup pids controller, which otpd cannot use here: the "
          "root cgroup does not hand it down (enable pids in " +
              v2 + "/cgroup.subtree_control); or remove pids_max");
  }

  TEST_CASE("no cgroup2, or one otpd may not write: unavailable, with the reason") {
    Cgroups none({.instance = "otpd-x", .layout = {}, .self = getpid()});
    CHECK(!none.contains());
    CHECK(none.unavailable() == "no cgroup2 file system is mounted");
    CgroupLimits limits;
    limits.memory_max = 64 * 1024 * 1024;
    bool created = false;
    std::string error;
    CHECK(!none.enter("a", limits, created, error));
    CHECK(error ==
          "memory_max needs the cgroup memory controller, which otpd cannot use here: "
          "otpd does not use cgroups here (no cgroup2 file system is mounted); or "
          "remove memory_max");
    CHECK(Cgroups::no_cgroups_message(limits, "--no-cgroups was given") ==
          "memory_max needs the cgroup memory controller, but otpd does not use cgroups here "
          "(--no-cgroups was given); remove memory_max or run otpd where it can create cgroups");

    // A cgroup that cannot be made (here: its parent is no directory).
    TempDir tmp;
    const std::string own = tmp.path("own");
    std::ofstream(own) << "";
    Cgroups refused({.instance = "otpd-x",
                     .layout = {.v2 = cgroupfs::Hierarchy{tmp.dir(), own}, .v1 = {}},
                     .self = getpid()});
    CHECK(!refused.contains());
    CHECK(refused.unavailable() == "cannot create " + own + "/otpd-x: Not a directory");
  }
}

TEST_SUITE("cgroups: a real cgroup2") {
  TEST_CASE("without cgroup.kill each member is killed, what left its group too") {
    const auto scratch = scratch_cgroup("kill", /*use_kill_file=*/false);
    if (!scratch) return;
    Cgroups& cgroups = *scratch.cgroups;
    const auto& leaf = scratch.leaf;
    // A process in the leaf that starts another in a session of its own;
    // that one comes back to this process, which reaps it.
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    int ready[2];
    REQUIRE(pipe(ready) == 0);
    const pid_t leader = fork();
    REQUIRE(leader >= 0);
    if (leader == 0) {
      std::ofstream(leaf->dir() + "/cgroup.procs") << "0" << std::flush;
      if (fork() == 0) {
        setsid();
        const pid_t self = getpid();
        if (write(ready[1], &self, sizeof self) != sizeof self) _exit(1);
        for (;;) pause();
      }
      for (;;) pause();
    }
    pid_t escaped = 0;
    REQUIRE(read(ready[0], &escaped, sizeof escaped) == sizeof escaped);
    close(ready[0]);
    close(ready[1]);
    CHECK(cgroupfs::read_pids(leaf->dir() + "/cgroup.procs").size() == 2);
    CHECK(!cgroups.empty(*leaf));

    cgroups.kill(*leaf);
    int status = 0;
    CHECK(waitpid(leader, &status, 0) == leader);
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    CHECK(waitpid(escaped, &status, 0) == escaped);
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    CHECK(emptied_within(cgroups, *leaf, std::chrono::seconds(5)));
    CHECK(cgroups.close(std::chrono::seconds(2)));
    CHECK(!std::filesystem::exists(cgroups.tree_dir()));
  }
}

TEST_SUITE("cgroups: waiting for a real cgroup2 to empty") {
  TEST_CASE("the wait wakes when the kernel says the cgroup has emptied, not at its patience") {
    const auto scratch = scratch_cgroup("wait");
    if (!scratch) return;
    Cgroups& cgroups = *scratch.cgroups;
    const auto& leaf = scratch.leaf;
    // The member leaves once the wait has read the tree's cgroup.events for
    // the first time (its close), so the cgroup empties while the wait
    // waits: only the kernel's word can end it before its patience.
    const std::string events = cgroups.tree_dir() + "/cgroup.events";
    int ready[2];
    REQUIRE(pipe(ready) == 0);
    const pid_t member = fork();
    REQUIRE(member >= 0);
    if (member == 0) {
      std::ofstream(leaf->dir() + "/cgroup.procs") << "0" << std::flush;
      const int looked = inotify_init1(IN_CLOEXEC);
      if (looked < 0 || inotify_add_watch(looked, events.c_str(), IN_CLOSE_NOWRITE) < 0) _exit(2);
      const char joined = 'j';
      if (write(ready[1], &joined, 1) != 1) _exit(1);
      char event[4096];
      _exit(read(looked, event, sizeof event) > 0 ? 0 : 3);
    }
    char joined = 0;
    REQUIRE(read(ready[0], &joined, 1) == 1);
    close(ready[0]);
    close(ready[1]);
    const auto patience = std::chrono::seconds(20);
    const auto began = std::chrono::steady_clock::now();
    CHECK(cgroupfs::wait_empty(cgroups.tree_dir(), patience));
    CHECK(std::chrono::steady_clock::now() - began < patience / 2);
    int status = 0;
    CHECK(waitpid(member, &status, 0) == member);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    CHECK(cgroups.close(std::chrono::seconds(2)));
  }
}

TEST_SUITE("child records") {
  TEST_CASE("what a file says still runs") {
    const std::string text =
        "otpd-children 1\nboot B\n+ 100 5\n+ 200 6\n- 100 5\n+ 300 7\n- 300 8\n+ 400 9\n+ 50";
    const auto running = ChildRecords::running_in(text, "B");
    // 100 was reaped; "- 300 8" is another process than the one started;
    // the last line was cut short by a crash.
    CHECK(running == std::vector<ChildRecords::Record>{{200, 6}, {300, 7}, {400, 9}});
    CHECK(ChildRecords::running_in(text, "another boot").empty());
    CHECK(ChildRecords::running_in("something else\nboot B\n+ 1 2\n", "B").empty());
  }

  TEST_CASE("started and reaped processes are appended, and the file goes at the end") {
    TempDir tmp;
    ChildRecords records(tmp.path("otpd.sock.children"));
    std::string error;
    REQUIRE_MESSAGE(records.open(error), error);
    const auto self = ChildRecords::start_time(getpid());
    REQUIRE(self);
    records.started(getpid());
    records.started(999999999);  // no such process: nothing to record
    records.reaped(getpid());
    CHECK(read(tmp.path("otpd.sock.children")) ==
          "otpd-children 1\nboot " + ChildRecords::boot_id() + "\n+ " + std::to_string(getpid()) +
              " " + std::to_string(*self) + "\n- " + std::to_string(getpid()) + " " +
              std::to_string(*self) + "\n");
    records.close_and_remove();
    CHECK(!std::filesystem::exists(tmp.path("otpd.sock.children")));
  }

  TEST_CASE("leftovers: the recorded process is ended, a pid now held by another is not") {
    TempDir tmp;
    // Two processes of this test's own, in groups of their own.
    auto start = [] {
      const pid_t pid = fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        setpgid(0, 0);
        for (;;) pause();
      }
      setpgid(pid, pid);
      return pid;
    };
    const pid_t recorded = start();
    const pid_t stranger = start();
    const auto recorded_start = ChildRecords::start_time(recorded);
    const auto stranger_start = ChildRecords::start_time(stranger);
    REQUIRE(recorded_start);
    REQUIRE(stranger_start);
    // The stranger's pid with another start time: as if the recorded
    // process had ended and its pid been given to the stranger.
    std::ofstream(tmp.path("s.children"))
        << "otpd-children 1\nboot " << ChildRecords::boot_id() << "\n+ " << recorded << " "
        << *recorded_start << "\n+ " << stranger << " " << *stranger_start + 1 << "\n";

    ChildRecords records(tmp.path("s.children"));
    const auto ended = records.end_leftovers(std::chrono::seconds(5));
    CHECK(ended.ended == 1);
    CHECK(ended.skipped == 1);
    CHECK(ended.remaining == 0);
    int status = 0;
    CHECK(waitpid(recorded, &status, 0) == recorded);
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    CHECK(waitpid(stranger, &status, WNOHANG) == 0);  // still running
    CHECK(!std::filesystem::exists(tmp.path("s.children")));
    kill(stranger, SIGKILL);
    waitpid(stranger, &status, 0);
  }
}

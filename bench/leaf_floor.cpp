#include "leaf_floor.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bench_util.hpp"
#include "process/cgroup_fs.hpp"

extern char** environ;

namespace otpd::bench {

namespace cgroupfs = otpd::process::cgroupfs;

LeafFloor run_leaf_floor(long long n, const std::vector<std::string>& args) {
  LeafFloor floor;
  // This process's cgroup v2 directory, found as otpd finds its own.
  const auto layout = cgroupfs::read_layout();
  if (!layout.v2 || layout.v2->own.empty()) {
    floor.skipped = "no cgroup v2 hierarchy that shows this process's cgroup";
    return floor;
  }
  const std::string base = layout.v2->own + "/otpd-bench-leaf-floor-" + std::to_string(getpid());
  if (mkdir(base.c_str(), 0755) != 0) {
    floor.skipped = "cannot make " + base + ": " + std::strerror(errno);
    return floor;
  }
  std::vector<std::string> argv_text = args;
  std::vector<char*> argv;
  for (auto& arg : argv_text) argv.push_back(arg.data());
  argv.push_back(nullptr);
  auto leaf = [&](long long i) { return base + "/c" + std::to_string(i); };

  std::vector<pid_t> pids;
  pids.reserve(static_cast<std::size_t>(n));
  const std::int64_t t0 = monotonic_ns();
  for (long long i = 0; i < n && !interrupted(); ++i) {
    if (mkdir(leaf(i).c_str(), 0755) != 0) {
      floor.skipped = "cannot make " + leaf(i) + ": " + std::strerror(errno);
      break;
    }
    pid_t pid = 0;
    if (const int rc = posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ)) {
      floor.skipped = std::string("posix_spawn: ") + std::strerror(rc);
      break;
    }
    pids.push_back(pid);
    // From the parent, where otpd's child writes "0" itself before its exec:
    // the same move of one process in the kernel.
    if (cgroupfs::write_file(leaf(i) + "/cgroup.procs", std::to_string(pid)) != 0) {
      floor.skipped = "cannot move a child into " + leaf(i);
      break;
    }
  }
  const std::int64_t t1 = monotonic_ns();
  std::int64_t gathered = 0;
  std::int64_t in_rmdir = 0;
  for (long long i = static_cast<long long>(pids.size()) - 1; i >= 0; --i) {
    kill(pids[static_cast<std::size_t>(i)], SIGTERM);
    int status = 0;
    while (waitpid(pids[static_cast<std::size_t>(i)], &status, 0) < 0 && errno == EINTR) {
    }
    // As otpd does: the kernel frees a leaf cheaply only once the tree's
    // statistics were gathered (docs/benchmarks.md, "The kernel's statistics").
    if (const std::int64_t now = monotonic_ns(); now - gathered > 100'000'000) {
      gathered = now;
      cgroupfs::gather_statistics(base);
    }
    // Its rmdir is what tells a supervisor the leaf is empty (the kernel
    // refuses to remove a cgroup with members), as in otpd's shutdown.
    const std::int64_t before_rmdir = monotonic_ns();
    rmdir(leaf(i).c_str());
    in_rmdir += monotonic_ns() - before_rmdir;
  }
  const std::int64_t t2 = monotonic_ns();
  // A leaf made for a child that could not be spawned.
  rmdir(leaf(static_cast<long long>(pids.size())).c_str());
  rmdir(base.c_str());
  floor.spawned = pids.size();
  floor.start_s = static_cast<double>(t1 - t0) / 1e9;
  floor.stop_s = static_cast<double>(t2 - t1) / 1e9;
  floor.stop_rmdir_s = static_cast<double>(in_rmdir) / 1e9;
  return floor;
}

}  // namespace otpd::bench

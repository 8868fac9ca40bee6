#include "leaf_floor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "bench_util.hpp"

extern char** environ;

namespace otpd::bench {
namespace {

// This process's cgroup v2 directory, when the unified hierarchy is mounted
// at its root (the usual case, and otpd's on this machine).
std::optional<std::string> own_v2_dir() {
  std::ifstream cgroup("/proc/self/cgroup");
  std::string line, own;
  while (std::getline(cgroup, line)) {
    if (line.rfind("0::", 0) == 0) own = line.substr(3);
  }
  if (own.empty()) return std::nullopt;
  std::ifstream mountinfo("/proc/self/mountinfo");
  while (std::getline(mountinfo, line)) {
    std::istringstream fields(line);
    std::string id, parent, devices, root, mount_point, field;
    fields >> id >> parent >> devices >> root >> mount_point;
    while (fields >> field && field != "-") {
    }
    std::string fstype;
    fields >> fstype;
    if (fstype == "cgroup2" && root == "/") return mount_point + (own == "/" ? "" : own);
  }
  return std::nullopt;
}

bool write_text(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

// One read, as otpd reads a leaf's cgroup.events or the tree's cpu.stat.
void read_once(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buffer[4096];
  static_cast<void>(read(fd, buffer, sizeof buffer));
  close(fd);
}

}  // namespace

LeafFloor run_leaf_floor(long long n, const std::vector<std::string>& args) {
  LeafFloor floor;
  const auto own = own_v2_dir();
  if (!own) {
    floor.skipped = "no cgroup v2 hierarchy mounted at its root";
    return floor;
  }
  const std::string base = *own + "/otpd-bench-leaf-floor-" + std::to_string(getpid());
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
    if (!write_text(leaf(i) + "/cgroup.procs", std::to_string(pid))) {
      floor.skipped = "cannot move a child into " + leaf(i);
      break;
    }
  }
  const std::int64_t t1 = monotonic_ns();
  std::int64_t gathered = 0;
  for (long long i = static_cast<long long>(pids.size()) - 1; i >= 0; --i) {
    kill(pids[static_cast<std::size_t>(i)], SIGTERM);
    int status = 0;
    while (waitpid(pids[static_cast<std::size_t>(i)], &status, 0) < 0 && errno == EINTR) {
    }
    read_once(leaf(i) + "/cgroup.events");
    // As otpd does: the kernel frees a leaf cheaply only once the tree's
    // statistics were gathered (docs/benchmarks.md, "The kernel's statistics").
    if (const std::int64_t now = monotonic_ns(); now - gathered > 100'000'000) {
      gathered = now;
      read_once(base + "/cpu.stat");
    }
    rmdir(leaf(i).c_str());
  }
  const std::int64_t t2 = monotonic_ns();
  // A leaf made for a child that could not be spawned.
  rmdir(leaf(static_cast<long long>(pids.size())).c_str());
  rmdir(base.c_str());
  floor.spawned = pids.size();
  floor.start_s = static_cast<double>(t1 - t0) / 1e9;
  floor.stop_s = static_cast<double>(t2 - t1) / 1e9;
  return floor;
}

}  // namespace otpd::bench

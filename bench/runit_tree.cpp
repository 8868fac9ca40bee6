#include "runit_tree.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "bench_util.hpp"

extern char** environ;

namespace otpd::bench {
namespace {

// Every process re-parented to this subreaper (runsvdir's runsv once it is
// gone, then their children once runsv is gone) is SIGKILLed and reaped,
// until none is left or 10 s have passed.
void end_all_ours() {
  const std::int64_t deadline = monotonic_ns() + 10'000'000'000;
  while (monotonic_ns() < deadline) {
    int found = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
      const std::string name = entry.path().filename();
      if (name.empty() || name[0] < '0' || name[0] > '9') continue;
      const pid_t pid = std::stoi(name);
      const auto stat = read_proc_stat(pid);
      if (!stat || stat->ppid != getpid()) continue;
      ++found;
      if (stat->state != 'Z') kill(pid, SIGKILL);
    }
    reap_orphans();
    if (found == 0) return;
    sleep_ms(10);
  }
}

// Reads bytes from `fd` until `want` have come, the pipe ends, or the
// deadline passes; returns how many came.
std::size_t read_bytes(int fd, std::size_t want, std::int64_t deadline_ns, bool* ended) {
  std::size_t got = 0;
  char buffer[4096];
  while (got < want && !interrupted()) {
    const std::int64_t left_ms = (deadline_ns - monotonic_ns()) / 1'000'000;
    if (left_ms <= 0) break;
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(std::min<std::int64_t>(left_ms, 200))) <= 0) continue;
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *ended = true;
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  return got;
}

}  // namespace

RunitFigures run_runit(long long children, const std::string& runsvdir,
                       const std::string& idle_child, const std::string& scratch, int timeout_s) {
  RunitFigures figures;
  const std::string services = scratch + "/runit";
  std::filesystem::create_directories(services);
  for (long long i = 0; i < children; ++i) {
    const std::string dir = services + "/c" + std::to_string(i);
    std::filesystem::create_directory(dir);
    std::filesystem::create_symlink(idle_child, dir + "/run");
  }

  // The pipe's write end reaches every child through runsvdir and runsv,
  // which keep inherited descriptors open: a byte per child says it
  // started, and the end of the pipe says the last holder has exited.
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const int child_end = 100;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, ready[1], child_end);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) env_text.emplace_back(*e);
  env_text.push_back("OTPD_BENCH_READY_FD=" + std::to_string(child_end));
  std::vector<char*> env;
  for (auto& entry : env_text) env.push_back(entry.data());
  env.push_back(nullptr);
  std::vector<std::string> args = {runsvdir, services};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const std::int64_t t0 = monotonic_ns();
  pid_t pid = -1;
  const int error = posix_spawn(&pid, runsvdir.c_str(), &actions, &attr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(ready[1]);
  if (error != 0) {
    close(ready[0]);
    figures.failure = "cannot start " + runsvdir + ": " + std::strerror(error);
    return figures;
  }

  bool ended = false;
  figures.started = read_bytes(ready[0], static_cast<std::size_t>(children),
                               monotonic_ns() + std::int64_t{timeout_s} * 1'000'000'000, &ended);
  const std::int64_t t1 = monotonic_ns();
  if (figures.started < static_cast<std::size_t>(children)) {
    figures.failure = std::to_string(figures.started) + " of " + std::to_string(children) +
                      " children started under runsvdir within " + std::to_string(timeout_s) + " s";
  }
  figures.start_s = static_cast<double>(t1 - t0) / 1e9;

  kill(pid, SIGHUP);
  const std::int64_t t2 = monotonic_ns();
  std::size_t extra = 0;
  ended = false;
  const std::int64_t stop_deadline = t2 + std::int64_t{timeout_s} * 1'000'000'000;
  while (!ended && monotonic_ns() < stop_deadline && !interrupted()) {
    extra += read_bytes(ready[0], SIZE_MAX, stop_deadline, &ended);
  }
  figures.stop_s = static_cast<double>(monotonic_ns() - t2) / 1e9;
  close(ready[0]);
  if (!ended && figures.failure.empty()) {
    figures.failure =
        "runsvdir's children still running " + std::to_string(timeout_s) + " s after SIGHUP";
  }
  // Whatever is left (nothing, on a clean run) is ended here.
  kill(pid, SIGKILL);
  end_all_ours();
  return figures;
}

}  // namespace otpd::bench

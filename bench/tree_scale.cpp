// otpd-bench-scale: what a big tree costs otpd.
//
// Generates a tree of N long-running children (flat, or spread over K nested
// supervisors), starts otpd on it and measures, from outside and without
// touching otpd: the time from otpd's exec to its "tree started" message,
// its memory once the tree is up, the CPU it burns while nothing happens,
// the time an orderly SIGTERM shutdown takes, and whether any child outlives
// otpd.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.hpp"

extern char** environ;

namespace {

using otpd::bench::monotonic_ns;
using Json = nlohmann::ordered_json;

const char* const usage =
    "Usage: otpd-bench-scale [--children N] [--nested K] [--child idle|sleep]\n"
    "                        [--shutdown brutal_kill|DURATION] [--idle-seconds S]\n"
    "                        [--output log|file|inherit|discard]\n"
    "                        [--timeout SECONDS] [--no-floor] [--force] [--json]\n"
    "                        [--keep-temp]\n"
    "\n"
    "Starts otpd on a tree of N (default 1000) long-running children, flat under\n"
    "the root or spread over K nested supervisors, and reports: time from otpd's\n"
    "exec to \"tree started\", otpd's VmRSS/VmHWM, otpd's CPU time over S idle\n"
    "seconds (default 10), the time of an orderly SIGTERM shutdown, and any child\n"
    "left running afterwards.\n"
    "\n"
    "  --child idle     a static program that pause()s (default)\n"
    "  --child sleep    /bin/sleep infinity\n"
    "  --shutdown P     each child's shutdown policy (default 5s: SIGTERM first)\n"
    "  --output MODE    the children's output (default log: two pipes each, so\n"
    "                   otpd needs 3 descriptors per child)\n"
    "  --timeout S      bound on the start and on the shutdown, each (default 120)\n"
    "  --no-floor       skip the floor: the same children started by a bare\n"
    "                   posix_spawn loop and stopped by SIGTERM+waitpid each\n"
    "  --force          run even when a system limit says N cannot fit\n"
    "  --json           one JSON object on stdout; the summary goes to stderr\n";

struct Child {
  pid_t pid = 0;
  std::uint64_t start_time = 0;
};

std::string yaml_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

std::string tree_yaml(long long children, long long nested, const std::string& command,
                      const std::string& shutdown, const std::string& output) {
  std::ostringstream y;
  y << "logs:\n  output: " << output << "\n";
  // Nothing should crash here; a low intensity turns a surprise into a
  // visible failure instead of a silent restart loop.
  y << "tree:\n  strategy: one_for_one\n  intensity: 3\n  period: 5s\n  children:\n";
  auto child = [&](long long i, const std::string& indent) {
    y << indent << "- name: c" << i << "\n"
      << indent << "  command: " << command << "\n"
      << indent << "  restart: permanent\n"
      << indent << "  shutdown: " << shutdown << "\n";
  };
  if (nested == 0) {
    for (long long i = 0; i < children; ++i) child(i, "    ");
    return y.str();
  }
  long long next = 0;
  for (long long s = 0; s < nested; ++s) {
    // Spread evenly; the first supervisors take the remainder.
    const long long here = children / nested + (s < children % nested ? 1 : 0);
    y << "    - name: s" << s << "\n"
      << "      strategy: one_for_one\n"
      << "      intensity: 3\n"
      << "      period: 5s\n"
      << "      children:\n";
    for (long long i = 0; i < here; ++i) child(next++, "        ");
  }
  return y.str();
}

struct Floor {
  double start_s = 0;
  double stop_s = 0;
  std::size_t spawned = 0;
};

// The same N children started and stopped by the least any supervisor could
// do: posix_spawn (clone(CLONE_VM|CLONE_VFORK) + execve, as otpd) in a loop,
// then SIGTERM and waitpid for each, newest first. What otpd's figures add
// above these is otpd's; the rest is the kernel and the children.
Floor run_floor(long long n, std::vector<std::string> args) {
  Floor floor;
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<pid_t> pids;
  pids.reserve(static_cast<std::size_t>(n));
  const std::int64_t t0 = monotonic_ns();
  std::string error;
  for (long long i = 0; i < n && !otpd::bench::interrupted(); ++i) {
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
    if (rc != 0) {
      error = std::string("posix_spawn: ") + std::strerror(rc);
      break;
    }
    pids.push_back(pid);
  }
  const std::int64_t t1 = monotonic_ns();
  // Always ends every child it started, whatever happened above.
  for (auto it = pids.rbegin(); it != pids.rend(); ++it) {
    kill(*it, SIGTERM);
    int status = 0;
    while (waitpid(*it, &status, 0) < 0 && errno == EINTR) {
    }
  }
  const std::int64_t t2 = monotonic_ns();
  if (!error.empty()) throw std::runtime_error("floor: " + error);
  if (otpd::bench::interrupted()) throw std::runtime_error("interrupted");
  floor.spawned = pids.size();
  floor.start_s = static_cast<double>(t1 - t0) / 1e9;
  floor.stop_s = static_cast<double>(t2 - t1) / 1e9;
  return floor;
}

std::size_t count_fds(pid_t pid) {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

std::uint64_t context_switches(pid_t pid) {
  return otpd::bench::read_status_field(pid, "voluntary_ctxt_switches").value_or(0) +
         otpd::bench::read_status_field(pid, "nonvoluntary_ctxt_switches").value_or(0);
}

std::string fmt(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

int run(otpd::bench::Args& args) {
  const long long n = args.number("--children", 1000, 1, 1'000'000);
  const long long nested = args.number("--nested", 0, 0, 100'000);
  const std::string child_kind = args.value("--child").value_or("idle");
  const std::string shutdown = args.value("--shutdown").value_or("5s");
  const std::string output = args.value("--output").value_or("log");
  const long long idle_s = args.number("--idle-seconds", 10, 0, 3600);
  const long long timeout_s = args.number("--timeout", 120, 1, 3600);
  const bool force = args.flag("--force");
  const bool json = args.flag("--json");
  const bool keep = args.flag("--keep-temp");
  const bool with_floor = !args.flag("--no-floor");
  if (const auto rest = args.rest(); !rest.empty()) {
    throw std::invalid_argument("unknown argument '" + rest.front() + "'");
  }
  if (child_kind != "idle" && child_kind != "sleep") {
    throw std::invalid_argument("--child must be idle or sleep");
  }
  if (nested > n) throw std::invalid_argument("--nested cannot exceed --children");
  const std::string command =
      child_kind == "idle" ? "[" + yaml_quote(OTPD_BENCH_IDLE) + "]" : "[/bin/sleep, infinity]";
  const std::string child_desc =
      child_kind == "idle"
          ? std::string(OTPD_BENCH_IDLE) + (OTPD_BENCH_STATIC_CHILDREN ? " (static)" : " (dynamic)")
          : "/bin/sleep infinity (dynamic)";

  const auto machine = otpd::bench::describe_machine();
  const auto limits = otpd::bench::read_limits();
  const std::string limit_problem =
      otpd::bench::limits_problem(limits, static_cast<std::uint64_t>(n + nested + 1));
  std::ostringstream human;
  human << "otpd tree scale: " << n << " children"
        << (nested ? " under " + std::to_string(nested) + " nested supervisors" : " flat")
        << ", child " << child_desc << ", shutdown " << shutdown << ", output " << output << "\n";
  human << "  machine: " << machine.nproc << " x " << machine.cpu_model << ", " << machine.kernel
        << ", load " << fmt("%.2f", machine.load1) << " at start\n";
  human << "  limits:  pid_max " << limits.pid_max << ", threads-max " << limits.threads_max
        << ", cgroup pids.max "
        << (limits.cgroup_pids_max ? std::to_string(*limits.cgroup_pids_max) : "max")
        << ", RLIMIT_NPROC "
        << (limits.nproc_soft == UINT64_MAX ? "unlimited" : std::to_string(limits.nproc_soft))
        << (limits.root ? " (not enforced for root)" : "") << ", RLIMIT_NOFILE "
        << limits.nofile_soft << "/" << limits.nofile_hard << ", tasks now " << limits.tasks_now
        << "\n";
  if (!limit_problem.empty()) {
    human << "  limit:   " << limit_problem << ": " << n << " children cannot all run\n";
    if (!force) {
      std::cerr << human.str() << "otpd-bench-scale: not running (--force to try anyway)\n";
      return 1;
    }
  }

  otpd::bench::install_interrupt_handlers();
  otpd::bench::become_subreaper();
  alarm(static_cast<unsigned>(2 * timeout_s + idle_s + 60));

  otpd::bench::TempDir dir;
  if (keep) dir.keep();
  const std::string log_path = dir.path() + "/otpd.log";
  const std::string config_path = dir.path() + "/tree.yaml";
  otpd::bench::write_file(config_path, tree_yaml(n, nested, command, shutdown, output));

  otpd::bench::Otpd otpd(OTPD_BENCH_OTPD, config_path, log_path, dir.path());
  otpd::bench::LogTail log(log_path);
  std::string failure;
  auto fail = [&](const std::string& why) {
    log.read_new();
    const int killed = otpd.kill_all(log.all());
    std::cerr << human.str() << "otpd-bench-scale: " << why << "; killed otpd and " << killed
              << " child(ren). Log: " << log_path << "\n";
    dir.keep();
    return 1;
  };

  // Phase 1: the start. Polled every 5 ms: fine enough against seconds,
  // cheap enough not to compete with otpd for the two cores.
  const std::int64_t start_deadline = otpd.started_ns() + timeout_s * 1'000'000'000;
  std::int64_t tree_started_ns = 0;
  std::size_t started_events = 0;
  while (tree_started_ns == 0) {
    for (const auto& line : log.read_new()) {
      if (otpd::bench::is_event(line, "started")) ++started_events;
      if (otpd::bench::is_message(line, "tree started")) tree_started_ns = monotonic_ns();
      if (line.value("level", "") == "error") failure = "otpd: " + line.value("message", "");
    }
    if (tree_started_ns != 0) break;
    if (!failure.empty()) return fail(failure);
    if (otpd.wait_exit(0)) {
      return fail("otpd exited during the start (" +
                  otpd::bench::describe_wait_status(*otpd.wait_status()) + ")");
    }
    if (otpd::bench::interrupted()) return fail("interrupted");
    if (monotonic_ns() > start_deadline) {
      return fail("no \"tree started\" within " + std::to_string(timeout_s) + " s (" +
                  std::to_string(started_events) + " children started)");
    }
    otpd::bench::sleep_ms(5);
  }
  const double start_s = static_cast<double>(tree_started_ns - otpd.started_ns()) / 1e9;
  const auto start_stat = otpd::bench::read_proc_stat(otpd.pid());
  const double start_cpu_ms = otpd::bench::ticks_to_ms(start_stat ? start_stat->cpu_ticks : 0);

  // Phase 2: the tree as it stands. Every child must be a live child of otpd.
  const std::uint64_t rss_kb = otpd::bench::read_status_field(otpd.pid(), "VmRSS").value_or(0);
  const std::uint64_t hwm_kb = otpd::bench::read_status_field(otpd.pid(), "VmHWM").value_or(0);
  const std::uint64_t threads = otpd::bench::read_status_field(otpd.pid(), "Threads").value_or(0);
  const std::size_t fds = count_fds(otpd.pid());
  std::vector<Child> children;
  std::size_t not_running = 0;
  for (const pid_t pid : otpd::bench::started_pids(log.all())) {
    const auto stat = otpd::bench::read_proc_stat(pid);
    if (!stat || stat->ppid != otpd.pid() || stat->state == 'Z') {
      ++not_running;
      continue;
    }
    children.push_back({pid, stat->start_time});
  }
  std::string child_sigblk = "?";
  if (!children.empty()) {
    child_sigblk = otpd::bench::read_status_text(children.front().pid, "SigBlk").value_or("?");
  }
  if (children.size() != static_cast<std::size_t>(n)) {
    return fail(std::to_string(children.size()) + " of " + std::to_string(n) +
                " children running after \"tree started\" (" + std::to_string(not_running) +
                " logged pids not running)");
  }

  // Phase 3: idle. Nothing happens, so otpd should neither run nor wake.
  const auto idle_before = otpd::bench::read_proc_stat(otpd.pid());
  const std::uint64_t switches_before = context_switches(otpd.pid());
  const std::size_t lines_before = log.all().size();
  const std::int64_t idle_end = monotonic_ns() + idle_s * 1'000'000'000;
  while (monotonic_ns() < idle_end && !otpd::bench::interrupted()) otpd::bench::sleep_ms(100);
  if (otpd::bench::interrupted()) return fail("interrupted");
  const auto idle_after = otpd::bench::read_proc_stat(otpd.pid());
  const std::uint64_t switches_after = context_switches(otpd.pid());
  log.read_new();
  const std::size_t idle_lines = log.all().size() - lines_before;
  if (!idle_before || !idle_after) return fail("otpd vanished while idle");
  const std::uint64_t idle_ticks = idle_after->cpu_ticks - idle_before->cpu_ticks;
  const std::uint64_t idle_switches = switches_after - switches_before;

  // Phase 4: orderly shutdown, timed from SIGTERM to otpd's exit.
  const std::int64_t term_ns = monotonic_ns();
  if (!otpd.stop(static_cast<int>(timeout_s * 1000))) {
    return fail("otpd did not exit within " + std::to_string(timeout_s) + " s of SIGTERM");
  }
  const double shutdown_s = static_cast<double>(monotonic_ns() - term_ns) / 1e9;
  log.read_new();
  const int exit_status = WIFEXITED(*otpd.wait_status()) ? WEXITSTATUS(*otpd.wait_status()) : -1;
  bool stopped_message = false;
  std::size_t stopped_events = 0;
  for (const auto& line : log.all()) {
    if (otpd::bench::is_message(line, "stopped")) stopped_message = true;
    // Supervisors report "stopped" too, without a pid.
    if (otpd::bench::is_event(line, "stopped") && line.contains("pid")) ++stopped_events;
  }

  // Phase 5: nothing may survive. A pid that exists with the same start
  // time is the same process; a zombie re-parented to us counts too.
  std::size_t leftovers = 0;
  for (const Child& c : children) {
    const auto stat = otpd::bench::read_proc_stat(c.pid);
    if (stat && stat->start_time == c.start_time) ++leftovers;
  }
  const int orphans = otpd::bench::reap_orphans();
  if (leftovers > 0) otpd.kill_all(log.all());

  const double rss_mib = static_cast<double>(rss_kb) / 1024.0;
  const double hwm_mib = static_cast<double>(hwm_kb) / 1024.0;
  const bool start_target = n < 10000 || start_s < 5.0;
  const bool rss_target = rss_mib < 100.0 && hwm_mib < 100.0;
  const bool idle_target = idle_ticks == 0;

  std::optional<Floor> floor;
  if (with_floor) {
    floor = run_floor(n, child_kind == "idle" ? std::vector<std::string>{OTPD_BENCH_IDLE}
                                              : std::vector<std::string>{"/bin/sleep", "infinity"});
  }

  const double load_end = otpd::bench::describe_machine().load1;
  human << "  load:     " << fmt("%.2f", load_end) << " at end\n";
  human << "  start:    " << fmt("%.3f", start_s) << " s from exec to \"tree started\" ("
        << fmt("%.1f", start_s * 1e6 / static_cast<double>(n)) << " us per child; otpd cpu "
        << fmt("%.0f", start_cpu_ms) << " ms)\n";
  human << "  memory:   VmRSS " << fmt("%.1f", rss_mib) << " MiB, VmHWM " << fmt("%.1f", hwm_mib)
        << " MiB (" << fmt("%.0f", static_cast<double>(hwm_kb) * 1024 / static_cast<double>(n))
        << " bytes per child); " << threads << " threads, " << fds << " fds\n";
  human << "  idle:     " << idle_ticks << " ticks ("
        << fmt("%.0f", otpd::bench::ticks_to_ms(idle_ticks)) << " ms) of cpu, " << idle_switches
        << " context switches, " << idle_lines << " log lines in " << idle_s << " s\n";
  human << "  shutdown: " << fmt("%.3f", shutdown_s) << " s from SIGTERM to exit; exit status "
        << exit_status << ", " << stopped_events << " stopped events"
        << (stopped_message ? ", said \"stopped\"" : ", never said \"stopped\"") << "\n";
  if (floor) {
    human << "  floor:    a posix_spawn loop starts the same " << floor->spawned << " children in "
          << fmt("%.3f", floor->start_s) << " s; SIGTERM+waitpid each, newest first, takes "
          << fmt("%.3f", floor->stop_s) << " s\n";
  }
  human << "  after:    " << leftovers << " of " << children.size() << " children left running, "
        << orphans << " orphans reaped by the benchmark; a child's SigBlk " << child_sigblk << "\n";
  human << "  targets:  10000 started in < 5 s: "
        << (n < 10000      ? "n/a (N < 10000)"
            : start_target ? "met"
                           : "MISSED")
        << "; RSS and peak < 100 MiB: " << (rss_target ? "met" : "MISSED")
        << "; idle cpu 0: " << (idle_target ? "met" : "MISSED") << "\n";

  const bool clean = exit_status == 0 && stopped_message && leftovers == 0 && orphans == 0 &&
                     stopped_events == static_cast<std::size_t>(n);
  if (json) {
    std::cerr << human.str();
    Json j{{"benchmark", "tree_scale"},
           {"machine",
            {{"nproc", machine.nproc},
             {"cpu", machine.cpu_model},
             {"kernel", machine.kernel},
             {"load1_start", machine.load1},
             {"load1_end", load_end}}},
           {"children", n},
           {"nested", nested},
           {"child", child_desc},
           {"shutdown_policy", shutdown},
           {"start_s", start_s},
           {"start_cpu_ms", start_cpu_ms},
           {"vm_rss_kib", rss_kb},
           {"vm_hwm_kib", hwm_kb},
           {"threads", threads},
           {"fds", fds},
           {"idle_seconds", idle_s},
           {"idle_cpu_ticks", idle_ticks},
           {"idle_cpu_ms", otpd::bench::ticks_to_ms(idle_ticks)},
           {"idle_context_switches", idle_switches},
           {"idle_log_lines", idle_lines},
           {"shutdown_s", shutdown_s},
           {"otpd_exit_status", exit_status},
           {"stopped_events", stopped_events},
           {"stopped_message", stopped_message},
           {"floor_start_s", floor ? Json(floor->start_s) : Json(nullptr)},
           {"floor_stop_s", floor ? Json(floor->stop_s) : Json(nullptr)},
           {"leftover_children", leftovers},
           {"orphans_reaped", orphans},
           {"targets",
            {{"start_under_5s_for_10000", n < 10000 ? Json(nullptr) : Json(start_target)},
             {"rss_under_100mib", rss_target},
             {"idle_cpu_zero", idle_target}}}};
    std::cout << j.dump() << "\n";
  } else {
    std::cout << human.str();
  }
  return clean ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return otpd::bench::run_main(argc, argv, "otpd-bench-scale", usage, run);
}

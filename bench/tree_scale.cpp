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
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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
#include "leaf_floor.hpp"
#include "runit_tree.hpp"

extern char** environ;

namespace {

using otpd::bench::monotonic_ns;
using Json = nlohmann::ordered_json;

const char* const usage =
    "Usage: otpd-bench-scale [--children N] [--nested K] [--child idle|sleep]\n"
    "                        [--shutdown brutal_kill|DURATION] [--idle-seconds S]\n"
    "                        [--output log|file|inherit|discard]\n"
    "                        [--otpd PATH] [--baseline PATH] [--runit]\n"
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
    "  --output MODE    the children's output (default log: captured into otpd's\n"
    "                   log, stdout and stderr through one pipe per child)\n"
    "  --otpd PATH      the otpd to measure (default: the one of this build)\n"
    "  --baseline PATH  measure this otpd too, first, in the same run (\"before\")\n"
    "  --runit          also start and stop the same children under runsvdir\n"
    "                   (at most 1000: runsvdir's own limit); --runsvdir PATH\n"
    "  --timeout S      bound on the start and on the shutdown, each (default 120)\n"
    "  --no-floor       skip the floors: the same children started by a bare\n"
    "                   posix_spawn loop and stopped by SIGTERM+waitpid each;\n"
    "                   then the same with a cgroup v2 leaf per child, its\n"
    "                   leaf removed at the stop\n"
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
  double start_cpu_ms = 0;  // the loop's own CPU time (its side of clone and exec)
  std::size_t spawned = 0;
};

double own_cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3;
  };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

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
  const double cpu0 = own_cpu_ms();
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
  floor.start_cpu_ms = own_cpu_ms() - cpu0;
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

// One otpd's figures for the tree, or why it failed.
struct OtpdFigures {
  std::string label;
  std::string exe;
  std::string failure;  // empty on a clean run
  double start_s = 0;
  double start_cpu_ms = 0;
  std::uint64_t rss_kb = 0, hwm_kb = 0, idle_hwm_kb = 0, threads = 0;
  std::size_t fds = 0;
  std::uint64_t idle_ticks = 0, idle_switches = 0;
  std::size_t idle_lines = 0;
  double shutdown_s = 0;
  double shutdown_cpu_ms = 0;
  int exit_status = -1;
  std::size_t stopped_events = 0;
  bool stopped_message = false;
  std::size_t leftovers = 0;
  int orphans = 0;
  std::string child_sigblk = "?";
};

struct Plan {
  long long n = 0;
  long long idle_s = 0;
  long long timeout_s = 0;
  std::string config_path;
};

// Starts `exe` on the tree, then measures the start, the tree as it stands,
// the idle seconds, the shutdown and what is left; on a failure it ends otpd
// and every child by pid and says why.
OtpdFigures measure_otpd(const std::string& label, const std::string& exe, const Plan& plan,
                         otpd::bench::TempDir& dir) {
  OtpdFigures f;
  f.label = label;
  f.exe = exe;
  const std::string log_path = dir.path() + "/otpd-" + label + ".log";
  otpd::bench::Otpd otpd(exe, plan.config_path, log_path, dir.path());
  otpd::bench::LogTail log(log_path);
  auto fail = [&](const std::string& why) {
    log.read_new();
    const int killed = otpd.kill_all(log.all());
    f.failure =
        why + "; killed otpd and " + std::to_string(killed) + " child(ren). Log: " + log_path;
    dir.keep();
    return f;
  };

  // Phase 1: the start. Polled every 5 ms: fine enough against seconds,
  // cheap enough not to compete with otpd for the two cores.
  const std::int64_t start_deadline = otpd.started_ns() + plan.timeout_s * 1'000'000'000;
  std::int64_t tree_started_ns = 0;
  std::size_t started_events = 0;
  std::string error;
  while (tree_started_ns == 0) {
    for (const auto& line : log.read_new()) {
      if (otpd::bench::is_event(line, "started")) ++started_events;
      if (otpd::bench::is_message(line, "tree started")) tree_started_ns = monotonic_ns();
      if (line.value("level", "") == "error") error = "otpd: " + line.value("message", "");
    }
    if (tree_started_ns != 0) break;
    if (!error.empty()) return fail(error);
    if (otpd.wait_exit(0)) {
      return fail("otpd exited during the start (" +
                  otpd::bench::describe_wait_status(*otpd.wait_status()) + ")");
    }
    if (otpd::bench::interrupted()) return fail("interrupted");
    if (monotonic_ns() > start_deadline) {
      return fail("no \"tree started\" within " + std::to_string(plan.timeout_s) + " s (" +
                  std::to_string(started_events) + " children started)");
    }
    otpd::bench::sleep_ms(5);
  }
  f.start_s = static_cast<double>(tree_started_ns - otpd.started_ns()) / 1e9;
  const auto start_stat = otpd::bench::read_proc_stat(otpd.pid());
  f.start_cpu_ms = otpd::bench::ticks_to_ms(start_stat ? start_stat->cpu_ticks : 0);

  // Phase 2: the tree as it stands. Every child must be a live child of otpd.
  f.rss_kb = otpd::bench::read_status_field(otpd.pid(), "VmRSS").value_or(0);
  f.hwm_kb = otpd::bench::read_status_field(otpd.pid(), "VmHWM").value_or(0);
  f.threads = otpd::bench::read_status_field(otpd.pid(), "Threads").value_or(0);
  f.fds = count_fds(otpd.pid());
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
  if (!children.empty()) {
    f.child_sigblk = otpd::bench::read_status_text(children.front().pid, "SigBlk").value_or("?");
  }
  if (children.size() != static_cast<std::size_t>(plan.n)) {
    return fail(std::to_string(children.size()) + " of " + std::to_string(plan.n) +
                " children running after \"tree started\" (" + std::to_string(not_running) +
                " logged pids not running)");
  }

  // Phase 3: idle. Nothing happens, so otpd should neither run nor wake.
  const auto idle_before = otpd::bench::read_proc_stat(otpd.pid());
  const std::uint64_t switches_before = context_switches(otpd.pid());
  const std::size_t lines_before = log.all().size();
  const std::int64_t idle_end = monotonic_ns() + plan.idle_s * 1'000'000'000;
  while (monotonic_ns() < idle_end && !otpd::bench::interrupted()) otpd::bench::sleep_ms(100);
  if (otpd::bench::interrupted()) return fail("interrupted");
  const auto idle_after = otpd::bench::read_proc_stat(otpd.pid());
  const std::uint64_t switches_after = context_switches(otpd.pid());
  f.idle_hwm_kb = otpd::bench::read_status_field(otpd.pid(), "VmHWM").value_or(0);
  log.read_new();
  f.idle_lines = log.all().size() - lines_before;
  if (!idle_before || !idle_after) return fail("otpd vanished while idle");
  f.idle_ticks = idle_after->cpu_ticks - idle_before->cpu_ticks;
  f.idle_switches = switches_after - switches_before;

  // Phase 4: orderly shutdown, timed from SIGTERM to otpd's exit.
  const std::int64_t term_ns = monotonic_ns();
  if (!otpd.stop(static_cast<int>(plan.timeout_s * 1000))) {
    return fail("otpd did not exit within " + std::to_string(plan.timeout_s) + " s of SIGTERM");
  }
  f.shutdown_s = static_cast<double>(monotonic_ns() - term_ns) / 1e9;
  f.shutdown_cpu_ms = otpd::bench::ticks_to_ms(
      otpd.last_cpu_ticks() - std::min(otpd.last_cpu_ticks(), idle_after->cpu_ticks));
  log.read_new();
  f.exit_status = WIFEXITED(*otpd.wait_status()) ? WEXITSTATUS(*otpd.wait_status()) : -1;
  for (const auto& line : log.all()) {
    if (otpd::bench::is_message(line, "stopped")) f.stopped_message = true;
    // Supervisors report "stopped" too, without a pid.
    if (otpd::bench::is_event(line, "stopped") && line.contains("pid")) ++f.stopped_events;
  }

  // Phase 5: nothing may survive. A pid that exists with the same start
  // time is the same process; a zombie re-parented to us counts too.
  for (const Child& c : children) {
    const auto stat = otpd::bench::read_proc_stat(c.pid);
    if (stat && stat->start_time == c.start_time) ++f.leftovers;
  }
  f.orphans = otpd::bench::reap_orphans();
  if (f.leftovers > 0) otpd.kill_all(log.all());
  if (f.exit_status != 0 || !f.stopped_message || f.leftovers != 0 || f.orphans != 0 ||
      f.stopped_events != static_cast<std::size_t>(plan.n)) {
    f.failure = "unclean run: exit status " + std::to_string(f.exit_status) + ", " +
                std::to_string(f.stopped_events) + " stopped events, " +
                std::to_string(f.leftovers) + " left running, " + std::to_string(f.orphans) +
                " orphans. Log: " + log_path;
    dir.keep();
  }
  return f;
}

std::string describe(const OtpdFigures& f, long long n, long long idle_s) {
  const double per = static_cast<double>(n);
  std::ostringstream out;
  out << "  otpd " << f.label << ": " << f.exe << "\n";
  if (!f.failure.empty()) out << "    FAILED:   " << f.failure << "\n";
  out << "    start:    " << fmt("%.3f", f.start_s) << " s from exec to \"tree started\" ("
      << fmt("%.1f", f.start_s * 1e6 / per) << " us per child; otpd cpu "
      << fmt("%.0f", f.start_cpu_ms) << " ms)\n";
  out << "    memory:   VmRSS " << fmt("%.1f", static_cast<double>(f.rss_kb) / 1024.0)
      << " MiB after start (" << fmt("%.0f", static_cast<double>(f.rss_kb) * 1024 / per)
      << " bytes per child), VmHWM " << fmt("%.1f", static_cast<double>(f.hwm_kb) / 1024.0)
      << " MiB then, " << fmt("%.1f", static_cast<double>(f.idle_hwm_kb) / 1024.0)
      << " MiB after the idle seconds; " << f.threads << " threads\n";
  out << "    fds:      " << f.fds << " (" << fmt("%.2f", static_cast<double>(f.fds) / per)
      << " per child)\n";
  out << "    idle:     " << f.idle_ticks << " ticks ("
      << fmt("%.0f", otpd::bench::ticks_to_ms(f.idle_ticks)) << " ms) of cpu, " << f.idle_switches
      << " context switches, " << f.idle_lines << " log lines in " << idle_s << " s\n";
  out << "    shutdown: " << fmt("%.3f", f.shutdown_s) << " s from SIGTERM to exit (otpd cpu "
      << fmt("%.0f", f.shutdown_cpu_ms) << " ms); exit status " << f.exit_status << ", "
      << f.stopped_events << " stopped events"
      << (f.stopped_message ? ", said \"stopped\"" : ", never said \"stopped\"") << "\n";
  out << "    after:    " << f.leftovers << " children left running, " << f.orphans
      << " orphans reaped by the benchmark; a child's SigBlk " << f.child_sigblk << "\n";
  return out.str();
}

Json to_json(const OtpdFigures& f) {
  return Json{{"label", f.label},
              {"otpd", f.exe},
              {"failure", f.failure.empty() ? Json(nullptr) : Json(f.failure)},
              {"start_s", f.start_s},
              {"start_cpu_ms", f.start_cpu_ms},
              {"vm_rss_kib", f.rss_kb},
              {"vm_hwm_kib", f.hwm_kb},
              {"vm_hwm_after_idle_kib", f.idle_hwm_kb},
              {"threads", f.threads},
              {"fds", f.fds},
              {"idle_cpu_ticks", f.idle_ticks},
              {"idle_cpu_ms", otpd::bench::ticks_to_ms(f.idle_ticks)},
              {"idle_context_switches", f.idle_switches},
              {"idle_log_lines", f.idle_lines},
              {"shutdown_s", f.shutdown_s},
              {"shutdown_cpu_ms", f.shutdown_cpu_ms},
              {"otpd_exit_status", f.exit_status},
              {"stopped_events", f.stopped_events},
              {"stopped_message", f.stopped_message},
              {"leftover_children", f.leftovers},
              {"orphans_reaped", f.orphans}};
}

std::string verdict(bool met) {
  return met ? "met" : "MISSED";
}

int run(otpd::bench::Args& args) {
  const long long n = args.number("--children", 1000, 1, 1'000'000);
  const long long nested = args.number("--nested", 0, 0, 100'000);
  const std::string child_kind = args.value("--child").value_or("idle");
  const std::string shutdown = args.value("--shutdown").value_or("5s");
  const std::string output = args.value("--output").value_or("log");
  const long long idle_s = args.number("--idle-seconds", 10, 0, 3600);
  const long long timeout_s = args.number("--timeout", 120, 1, 3600);
  const std::string otpd_exe = args.value("--otpd").value_or(OTPD_BENCH_OTPD);
  const std::optional<std::string> baseline = args.value("--baseline");
  const bool with_runit = args.flag("--runit");
  const std::string runsvdir = args.value("--runsvdir").value_or("/usr/bin/runsvdir");
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
  if (with_runit && child_kind != "idle") {
    throw std::invalid_argument("--runit needs --child idle (it says when it has started)");
  }
  if (with_runit && n > otpd::bench::kRunsvdirMaxServices) {
    throw std::invalid_argument("--runit: runsvdir supervises at most " +
                                std::to_string(otpd::bench::kRunsvdirMaxServices) + " services");
  }
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
  const int runs = 1 + (baseline ? 1 : 0);
  // Each settle() waits at most 60 s.
  alarm(static_cast<unsigned>(runs * (2 * timeout_s + idle_s) + 6 * timeout_s + 5 * 60 + 60));

  otpd::bench::TempDir dir;
  if (keep) dir.keep();
  Plan plan{n, idle_s, timeout_s, dir.path() + "/tree.yaml"};
  otpd::bench::write_file(plan.config_path, tree_yaml(n, nested, command, shutdown, output));

  // The baseline goes first, so that "after" is never the one measured on
  // a machine still warm from the other.
  // Each measurement starts once the kernel has finished ending the last
  // one's children and cgroups.
  std::vector<double> settled;
  std::vector<OtpdFigures> measured;
  if (baseline) {
    settled.push_back(otpd::bench::settle());
    measured.push_back(measure_otpd("before", *baseline, plan, dir));
  }
  settled.push_back(otpd::bench::settle());
  measured.push_back(measure_otpd(baseline ? "after" : "this", otpd_exe, plan, dir));

  std::optional<Floor> floor;
  if (with_floor && !otpd::bench::interrupted()) {
    settled.push_back(otpd::bench::settle());
    floor = run_floor(n, child_kind == "idle" ? std::vector<std::string>{OTPD_BENCH_IDLE}
                                              : std::vector<std::string>{"/bin/sleep", "infinity"});
  }
  std::optional<otpd::bench::LeafFloor> leaf_floor;
  if (with_floor && !otpd::bench::interrupted()) {
    settled.push_back(otpd::bench::settle());
    leaf_floor = otpd::bench::run_leaf_floor(
        n, child_kind == "idle" ? std::vector<std::string>{OTPD_BENCH_IDLE}
                                : std::vector<std::string>{"/bin/sleep", "infinity"});
    if (!leaf_floor->skipped.empty() && leaf_floor->spawned == 0) {
      human << "  leaf floor: not measured: " << leaf_floor->skipped << "\n";
      leaf_floor.reset();
    }
  }
  std::optional<otpd::bench::RunitFigures> runit;
  if (with_runit && !otpd::bench::interrupted()) {
    settled.push_back(otpd::bench::settle());
    runit = otpd::bench::run_runit(n, runsvdir, OTPD_BENCH_IDLE, dir.path(),
                                   static_cast<int>(timeout_s));
    if (!runit->failure.empty()) dir.keep();
  }

  const double load_end = otpd::bench::describe_machine().load1;
  human << "  load:    " << fmt("%.2f", load_end) << " at end; waited";
  for (double seconds : settled) human << " " << fmt("%.0f", seconds);
  human << " s for the CPUs to be 90% idle before each measurement\n";
  for (const auto& f : measured) human << describe(f, n, idle_s);
  if (floor) {
    human << "  floor:   a posix_spawn loop starts the same " << floor->spawned << " children in "
          << fmt("%.3f", floor->start_s) << " s (its cpu " << fmt("%.0f", floor->start_cpu_ms)
          << " ms); SIGTERM+waitpid each, newest first, takes " << fmt("%.3f", floor->stop_s)
          << " s\n";
  }
  if (leaf_floor) {
    human << "  leaf floor: the same loop with a cgroup v2 leaf per child starts "
          << leaf_floor->spawned << " children in " << fmt("%.3f", leaf_floor->start_s)
          << " s; SIGTERM+waitpid and rmdir each, newest first, takes "
          << fmt("%.3f", leaf_floor->stop_s) << " s, " << fmt("%.3f", leaf_floor->stop_rmdir_s)
          << " s of it in rmdir"
          << (leaf_floor->skipped.empty() ? "" : "; FAILED: " + leaf_floor->skipped) << "\n";
  }
  if (runit) {
    human << "  runit:   runsvdir starts the same " << runit->started << " children in "
          << fmt("%.3f", runit->start_s) << " s (until each reached main); SIGHUP to all gone "
          << fmt("%.3f", runit->stop_s) << " s"
          << (runit->failure.empty() ? "" : "; FAILED: " + runit->failure) << "\n";
  }
  // The targets of docs/benchmarks.md, against the references of this run.
  const OtpdFigures& ours = measured.back();
  Json targets = Json::object();
  std::ostringstream said;
  auto target = [&](const std::string& name, bool met) {
    targets[name] = met;
    said << (said.tellp() > 0 ? "; " : "") << name << ": " << verdict(met);
  };
  if (n >= 10000) {
    target("rss_after_start_le_24mib", ours.rss_kb <= 24 * 1024);
    target("peak_le_32mib", std::max(ours.hwm_kb, ours.idle_hwm_kb) <= 32 * 1024);
  }
  if (floor && n >= 10000) {
    target("start_le_1.3x_floor", ours.start_s <= 1.3 * floor->start_s);
    target("stop_le_1.5x_floor", ours.shutdown_s <= 1.5 * floor->stop_s);
  }
  if (runit && runit->failure.empty()) target("start_le_runit", ours.start_s <= runit->start_s);
  target("idle_cpu_0", ours.idle_ticks == 0);
  human << "  targets: " << said.str() << "\n";
  if (floor) {
    human << "  ratios:  start " << fmt("%.2f", ours.start_s / floor->start_s)
          << "x the floor, stop " << fmt("%.2f", ours.shutdown_s / floor->stop_s) << "x the floor";
    if (runit) human << ", start " << fmt("%.2f", ours.start_s / runit->start_s) << "x runit's";
    human << "\n";
  }
  if (leaf_floor && leaf_floor->skipped.empty()) {
    human << "           start " << fmt("%.2f", ours.start_s / leaf_floor->start_s)
          << "x the leaf floor, stop " << fmt("%.2f", ours.shutdown_s / leaf_floor->stop_s)
          << "x the leaf floor\n";
  }

  bool clean = !runit || runit->failure.empty();
  for (const auto& f : measured) clean = clean && f.failure.empty();
  if (json) {
    std::cerr << human.str();
    Json runs_json = Json::array();
    for (const auto& f : measured) runs_json.push_back(to_json(f));
    Json j{{"benchmark", "tree_scale"},
           {"machine",
            {{"nproc", machine.nproc},
             {"cpu", machine.cpu_model},
             {"kernel", machine.kernel},
             {"load1_start", machine.load1},
             {"load1_end", load_end},
             {"settled_s", settled}}},
           {"children", n},
           {"nested", nested},
           {"child", child_desc},
           {"shutdown_policy", shutdown},
           {"output", output},
           {"idle_seconds", idle_s},
           {"runs", runs_json},
           {"floor_start_s", floor ? Json(floor->start_s) : Json(nullptr)},
           {"floor_stop_s", floor ? Json(floor->stop_s) : Json(nullptr)},
           {"floor_start_cpu_ms", floor ? Json(floor->start_cpu_ms) : Json(nullptr)},
           {"leaf_floor_start_s", leaf_floor ? Json(leaf_floor->start_s) : Json(nullptr)},
           {"leaf_floor_stop_s", leaf_floor ? Json(leaf_floor->stop_s) : Json(nullptr)},
           {"leaf_floor_stop_rmdir_s", leaf_floor ? Json(leaf_floor->stop_rmdir_s) : Json(nullptr)},
           {"runit_start_s", runit ? Json(runit->start_s) : Json(nullptr)},
           {"runit_stop_s", runit ? Json(runit->stop_s) : Json(nullptr)},
           {"targets", targets}};
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

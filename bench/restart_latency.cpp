// otpd-bench-restart: how long a permanent child stays dead.
//
// One crasher child under one_for_one exits as soon as it runs; otpd restarts
// it again and again. The child stamps CLOCK_MONOTONIC as its first act and
// again just before _exit, so start[k+1] - exit[k] is the full death-to-exec
// gap (kernel exit, SIGCHLD, reaping, otpd's bookkeeping and logging, the
// spawn and the exec) measured without the benchmark in the path.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
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
    "Usage: otpd-bench-restart [--restarts N] [--siblings M] [--timeout SECONDS] [--no-floor]\n"
    "                          [--json] [--keep-temp]\n"
    "\n"
    "Runs otpd with one permanent child that exits at once, until N restarts\n"
    "(default 2000) have happened, and reports the death-to-exec latency the\n"
    "child measured itself: min, median, p90, p99, max in microseconds, and\n"
    "the restart rate. Then, unless --no-floor, the same child restarted by a\n"
    "bare posix_spawn+waitpid loop gives the floor for this machine, and what\n"
    "otpd adds above it. --siblings M starts M idle children first, to show\n"
    "what a big tree costs each restart. --timeout bounds the run and the stop\n"
    "(default 120 s each). --json prints one JSON object on stdout (the summary\n"
    "then goes to stderr). --keep-temp keeps the scratch directory.\n";

struct Stamp {
  bool start = false;
  std::int64_t ns = 0;
};

// Counts the "start" lines appended since the last call without re-reading
// the file: the benchmark polls it while otpd runs.
class StartCounter {
 public:
  explicit StartCounter(std::string path) : path_(std::move(path)) {}
  std::size_t poll() {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return starts_;
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Only whole lines count; a line being written is left for next time.
    const auto last_newline = chunk.rfind('\n');
    if (last_newline == std::string::npos) return starts_;
    chunk.resize(last_newline + 1);
    offset_ += chunk.size();
    for (std::size_t at = 0; (at = chunk.find("start ", at)) != std::string::npos; at += 6) {
      ++starts_;
    }
    return starts_;
  }

 private:
  std::string path_;
  std::uint64_t offset_ = 0;
  std::size_t starts_ = 0;
};

std::vector<Stamp> read_stamps(const std::string& path) {
  std::vector<Stamp> stamps;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string tag;
    long long ns = 0;
    // A line cut short by the final brutal kill is ignored, not misread.
    if (!(fields >> tag >> ns) || (tag != "start" && tag != "exit")) continue;
    stamps.push_back({tag == "start", ns});
  }
  return stamps;
}

std::string fmt_load(double load) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", load);
  return text;
}

std::string yaml_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

struct Analysis {
  otpd::bench::Summary latency;   // exit[k] -> start[k+1], us
  otpd::bench::Summary lifetime;  // start[k] -> exit[k], us: the child's own share
  std::size_t starts = 0;
  std::size_t out_of_order = 0;
  double span_s = 0;
  double rate = 0;  // restarts per second
};

Analysis analyse(const std::vector<Stamp>& stamps) {
  Analysis a;
  std::vector<double> latency_us, lifetime_us;
  std::int64_t first_start = -1, last_start = -1;
  for (std::size_t i = 0; i < stamps.size(); ++i) {
    if (stamps[i].start) {
      ++a.starts;
      if (first_start < 0) first_start = stamps[i].ns;
      last_start = stamps[i].ns;
      if (i + 1 < stamps.size() && !stamps[i + 1].start) {
        lifetime_us.push_back(static_cast<double>(stamps[i + 1].ns - stamps[i].ns) / 1e3);
      }
      continue;
    }
    if (i + 1 >= stamps.size()) break;
    // Two incarnations at once, or a lost line: the pair says nothing
    // about one restart, so it is counted, not measured.
    if (!stamps[i + 1].start || stamps[i + 1].ns < stamps[i].ns) {
      ++a.out_of_order;
      continue;
    }
    latency_us.push_back(static_cast<double>(stamps[i + 1].ns - stamps[i].ns) / 1e3);
  }
  a.latency = otpd::bench::summarize(latency_us);
  a.lifetime = otpd::bench::summarize(lifetime_us);
  a.span_s = static_cast<double>(last_start - first_start) / 1e9;
  a.rate = a.span_s > 0 && a.starts > 1 ? static_cast<double>(a.starts - 1) / a.span_s : 0;
  return a;
}

// posix_spawn is glibc's clone(CLONE_VM|CLONE_VFORK) + execve, the same
// primitive otpd uses, and a blocking waitpid is the cheapest reaping there
// is: no event loop, no log, no bookkeeping.
void run_floor(std::size_t starts, const std::string& stamps_path) {
  std::string program = OTPD_BENCH_CRASHER;
  std::string stamps = stamps_path;
  char* argv[] = {program.data(), stamps.data(), nullptr};
  for (std::size_t i = 0; i < starts && !otpd::bench::interrupted(); ++i) {
    pid_t pid = 0;
    const int error = posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ);
    if (error != 0) throw std::runtime_error("posix_spawn: " + std::string(std::strerror(error)));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

Json summary_json(const otpd::bench::Summary& s) {
  return Json{{"count", s.count}, {"min", s.min}, {"median", s.median}, {"p90", s.p90},
              {"p99", s.p99},     {"max", s.max}, {"mean", s.mean}};
}

int run(otpd::bench::Args& args) {
  const long long restarts = args.number("--restarts", 2000, 1, 10'000'000);
  const long long timeout_s = args.number("--timeout", 120, 1, 3600);
  const bool json = args.flag("--json");
  const bool keep = args.flag("--keep-temp");
  const bool with_floor = !args.flag("--no-floor");
  const long long siblings = args.number("--siblings", 0, 0, 1'000'000);
  if (const auto rest = args.rest(); !rest.empty()) {
    throw std::invalid_argument("unknown argument '" + rest.front() + "'");
  }

  otpd::bench::install_interrupt_handlers();
  otpd::bench::become_subreaper();
  // A backstop for a wait that somehow does not end: SIGALRM only sets the
  // interrupt flag, so the clean-up still runs.
  alarm(static_cast<unsigned>(2 * timeout_s + 30));

  const auto machine = otpd::bench::describe_machine();
  otpd::bench::TempDir dir;
  if (keep) dir.keep();
  const std::string stamps_path = dir.path() + "/stamps";
  const std::string log_path = dir.path() + "/otpd.log";
  const std::string config_path = dir.path() + "/tree.yaml";
  // The intensity only has to stay out of the way: the benchmark measures
  // the restart path, not the give-up path.
  std::string yaml =
      "tree:\n"
      "  strategy: one_for_one\n"
      "  intensity: 1000000\n"
      "  period: 1s\n"
      "  children:\n";
  // Idle siblings started first make the crasher the newest of otpd's
  // children: anything otpd does per restart that grows with the tree shows.
  for (long long i = 0; i < siblings; ++i) {
    yaml += "    - name: idle" + std::to_string(i) + "\n      command: [" +
            yaml_quote(OTPD_BENCH_IDLE) + "]\n      shutdown: brutal_kill\n";
  }
  yaml += "    - name: crasher\n      command: [" + yaml_quote(OTPD_BENCH_CRASHER) + ", " +
          yaml_quote(stamps_path) + "]\n      restart: permanent\n      shutdown: brutal_kill\n";
  otpd::bench::write_file(config_path, yaml);

  otpd::bench::Otpd otpd(OTPD_BENCH_OTPD, config_path, log_path, dir.path());
  otpd::bench::LogTail log(log_path);
  StartCounter counter(stamps_path);
  const std::int64_t deadline = otpd.started_ns() + timeout_s * 1'000'000'000;
  std::string failure;
  std::uint64_t otpd_cpu_ticks = 0;
  for (;;) {
    if (counter.poll() >= static_cast<std::size_t>(restarts) + 1) break;
    if (otpd.wait_exit(0)) {
      failure =
          "otpd exited early (" + otpd::bench::describe_wait_status(*otpd.wait_status()) + ")";
      break;
    }
    if (otpd::bench::interrupted()) {
      failure = "interrupted";
      break;
    }
    if (monotonic_ns() > deadline) {
      failure = "timed out after " + std::to_string(timeout_s) + " s with " +
                std::to_string(counter.poll()) + " starts";
      break;
    }
    // Coarse on purpose: the figure comes from the child's stamps, and a
    // busy benchmark would steal one of the two cores from otpd.
    otpd::bench::sleep_ms(20);
  }
  if (failure.empty()) {
    if (const auto stat = otpd::bench::read_proc_stat(otpd.pid())) otpd_cpu_ticks = stat->cpu_ticks;
    if (!otpd.stop(static_cast<int>(timeout_s * 1000))) {
      failure = "otpd did not stop within " + std::to_string(timeout_s) + " s of SIGTERM";
    }
  }
  log.read_new();
  if (!failure.empty()) {
    const int killed = otpd.kill_all(log.all());
    std::cerr << "otpd-bench-restart: " << failure << "; killed otpd and " << killed
              << " child(ren). Log: " << log_path << "\n";
    dir.keep();
    return 1;
  }

  bool stopped_message = false;
  std::size_t restarting_events = 0;
  for (const auto& line : log.all()) {
    if (otpd::bench::is_message(line, "stopped")) stopped_message = true;
    if (otpd::bench::is_event(line, "restarting")) ++restarting_events;
  }
  const int orphans = otpd::bench::reap_orphans();

  const double load_end = otpd::bench::describe_machine().load1;
  const Analysis otpd_run = analyse(read_stamps(stamps_path));
  const auto& latency = otpd_run.latency;
  const auto& lifetime = otpd_run.lifetime;
  const std::size_t starts = otpd_run.starts;
  const std::size_t out_of_order = otpd_run.out_of_order;
  const double span_s = otpd_run.span_s;
  const double rate = otpd_run.rate;

  // The floor: the same child, restarted by the least any supervisor could
  // do. What otpd adds is the difference; the rest is kernel and libc.
  std::optional<Analysis> floor;
  if (with_floor) {
    const std::string floor_path = dir.path() + "/floor-stamps";
    run_floor(static_cast<std::size_t>(restarts) + 1, floor_path);
    if (otpd::bench::interrupted()) throw std::runtime_error("interrupted");
    floor = analyse(read_stamps(floor_path));
  }
  const double otpd_cpu_ms = otpd::bench::ticks_to_ms(otpd_cpu_ticks);
  const bool target_met = latency.count >= 1000 && latency.median < 1000.0;
  const int exit_status = WIFEXITED(*otpd.wait_status()) ? WEXITSTATUS(*otpd.wait_status()) : -1;

  std::ostringstream human;
  char line[256];
  human
      << "otpd restart latency: child death -> next exec, stamped by the child (CLOCK_MONOTONIC)\n";
  human << "  machine: " << machine.nproc << " x " << machine.cpu_model << ", " << machine.kernel
        << ", load " << fmt_load(machine.load1) << " at start, " << fmt_load(load_end)
        << " at end\n";
  human << "  child:   " << OTPD_BENCH_CRASHER << " ("
        << (OTPD_BENCH_STATIC_CHILDREN ? "static" : "dynamic") << "), " << siblings
        << " idle siblings\n";
  std::snprintf(line, sizeof line,
                "  latency (us) over %zu restarts: min %.1f  median %.1f  p90 %.1f  p99 %.1f  "
                "max %.1f  mean %.1f\n",
                latency.count, latency.min, latency.median, latency.p90, latency.p99, latency.max,
                latency.mean);
  human << line;
  std::snprintf(line, sizeof line, "  child lifetime (us): median %.1f  p99 %.1f\n",
                lifetime.median, lifetime.p99);
  human << line;
  std::snprintf(line, sizeof line, "  rate: %.0f restarts/s over %.2f s\n", rate, span_s);
  human << line;
  std::snprintf(line, sizeof line, "  otpd cpu: %.0f ms in total, %.1f us per restart\n",
                otpd_cpu_ms,
                starts > 1 ? otpd_cpu_ms * 1e3 / static_cast<double>(starts - 1) : 0.0);
  human << line;
  if (floor) {
    std::snprintf(line, sizeof line,
                  "  floor (posix_spawn+waitpid loop, same child) over %zu restarts: min %.1f  "
                  "median %.1f  p90 %.1f  p99 %.1f  max %.1f; %.0f restarts/s\n",
                  floor->latency.count, floor->latency.min, floor->latency.median,
                  floor->latency.p90, floor->latency.p99, floor->latency.max, floor->rate);
    human << line;
    std::snprintf(line, sizeof line, "  otpd above the floor: median %+.1f us, p99 %+.1f us\n",
                  latency.median - floor->latency.median, latency.p99 - floor->latency.p99);
    human << line;
  }
  human << "  otpd: " << restarting_events << " restarting events, exit status " << exit_status
        << (stopped_message ? ", said \"stopped\"" : ", never said \"stopped\"") << "; "
        << out_of_order << " out-of-order stamps; " << orphans << " orphans reaped\n";
  human << "  target: median < 1000 us over >= 1000 restarts: "
        << (latency.count < 1000 ? "not judged (fewer than 1000 restarts)"
            : target_met         ? "met"
                                 : "MISSED")
        << "\n";

  const bool clean = exit_status == 0 && stopped_message && out_of_order == 0 && orphans == 0 &&
                     (!floor || floor->out_of_order == 0);
  if (json) {
    std::cerr << human.str();
    Json j{{"benchmark", "restart_latency"},
           {"machine",
            {{"nproc", machine.nproc},
             {"cpu", machine.cpu_model},
             {"kernel", machine.kernel},
             {"load1_start", machine.load1},
             {"load1_end", load_end}}},
           {"child", OTPD_BENCH_CRASHER},
           {"child_static", static_cast<bool>(OTPD_BENCH_STATIC_CHILDREN)},
           {"restarts_requested", restarts},
           {"siblings", siblings},
           {"latency_us", summary_json(latency)},
           {"child_lifetime_us", summary_json(lifetime)},
           {"restarts_per_s", rate},
           {"otpd_cpu_ms", otpd_cpu_ms},
           {"otpd_exit_status", exit_status},
           {"stopped_message", stopped_message},
           {"out_of_order", out_of_order},
           {"orphans_reaped", orphans},
           {"floor_latency_us", floor ? summary_json(floor->latency) : Json(nullptr)},
           {"floor_restarts_per_s", floor ? Json(floor->rate) : Json(nullptr)},
           {"target_median_under_1ms", latency.count < 1000 ? Json(nullptr) : Json(target_met)}};
    std::cout << j.dump() << "\n";
  } else {
    std::cout << human.str();
  }
  return clean ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return otpd::bench::run_main(argc, argv, "otpd-bench-restart", usage, run);
}

// What both benchmarks need around a real otpd: a scratch directory, the
// daemon started with its JSON log in a file, bounded waits, /proc readings,
// and a clean-up that leaves no process behind even when otpd is killed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace otpd::bench {

std::int64_t monotonic_ns();
void sleep_ms(int ms);

// Set by SIGINT/SIGTERM/SIGALRM to the benchmark: every wait gives up and
// the clean-up runs, instead of the benchmark dying with otpd still up.
bool interrupted();
void install_interrupt_handlers();

// Makes the benchmark the reaper of everything otpd leaves behind, so that
// a killed otpd's children come to us and can be ended and reaped here.
void become_subreaper();

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

void write_file(const std::string& path, const std::string& text);

// Reads the JSON lines otpd appends to its log file, a complete line at a
// time. Polling a regular file keeps the benchmark off otpd's critical path:
// otpd never blocks on a full pipe and is never woken by the reader.
class LogTail {
 public:
  explicit LogTail(std::string path) : path_(std::move(path)) {}
  // Lines appended since the last call; a line that is not JSON becomes
  // {"raw": line} so that nothing otpd says is lost.
  std::vector<nlohmann::json> read_new();
  // Every line read so far.
  const std::vector<nlohmann::json>& all() const { return all_; }

 private:
  std::string path_;
  std::uint64_t offset_ = 0;
  std::string partial_;
  std::vector<nlohmann::json> all_;
};

bool is_message(const nlohmann::json& line, const std::string& message);
bool is_event(const nlohmann::json& line, const std::string& event);

struct ProcStat {
  std::uint64_t cpu_ticks = 0;   // utime + stime
  std::uint64_t start_time = 0;  // ticks after boot: tells a reused pid apart
  int ppid = 0;
  char state = '?';
};
std::optional<ProcStat> read_proc_stat(pid_t pid);
// A "Key:" field of /proc/PID/status as a number (kB for Vm*), if present.
std::optional<std::uint64_t> read_status_field(pid_t pid, const std::string& key);
std::optional<std::string> read_status_text(pid_t pid, const std::string& key);
double ticks_to_ms(std::uint64_t ticks);

class Otpd {
 public:
  // Starts otpd --config CONFIG --log-format json with stderr into LOG.
  // `started_ns` is taken just before the spawn, the reference for "time
  // from otpd's exec".
  Otpd(const std::string& exe, const std::string& config, const std::string& log,
       const std::string& dir);
  ~Otpd();
  Otpd(const Otpd&) = delete;
  Otpd& operator=(const Otpd&) = delete;

  pid_t pid() const { return pid_; }
  std::int64_t started_ns() const { return started_ns_; }
  bool running() const { return pid_ > 0 && !status_; }
  std::optional<int> wait_status() const { return status_; }
  // otpd's own CPU time (utime + stime) as last read while wait_exit waited,
  // every 20 ms: its CPU until its exit, less at most the last 20 ms. (The
  // exit status's rusage would count the children it reaped too.)
  std::uint64_t last_cpu_ticks() const { return last_cpu_ticks_; }

  // Waits for otpd to exit, at most timeout_ms; false on timeout.
  bool wait_exit(int timeout_ms);
  // SIGTERM, then wait_exit. The orderly path.
  bool stop(int timeout_ms);
  // The failure path: SIGKILL otpd, then SIGKILL every child the log names
  // that is still ours (re-parented to this subreaper), then reap them.
  // Returns how many children had to be killed.
  int kill_all(const std::vector<nlohmann::json>& log_lines);

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::int64_t started_ns_ = 0;
  std::optional<int> status_;
  std::uint64_t last_cpu_ticks_ = 0;
};

// Pids of every "started" event, in log order.
std::vector<pid_t> started_pids(const std::vector<nlohmann::json>& log_lines);

// Reaps whatever has been re-parented to us and has exited; returns how many.
int reap_orphans();

std::string describe_wait_status(int status);

struct Summary {
  std::size_t count = 0;
  double min = 0, median = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};
// Nearest-rank percentiles: each figure is one that was really measured.
Summary summarize(std::vector<double> values);

struct Machine {
  int nproc = 0;
  std::string cpu_model;
  std::string kernel;
  double load1 = 0;
};
Machine describe_machine();
// Waits until the CPUs were at least `idle_share` idle over a second, at
// most `limit_s` seconds, and says how long it waited. Ending thousands of
// processes and their cgroups leaves the kernel's workers busy for seconds
// after the last one is reaped: the next measurement must not pay for them.
double settle(double idle_share = 0.9, int limit_s = 60);

struct Limits {
  std::uint64_t pid_max = 0;
  std::uint64_t threads_max = 0;
  std::optional<std::uint64_t> cgroup_pids_max;  // nullopt: "max" or no pids cgroup
  std::uint64_t nproc_soft = 0;                  // RLIM_INFINITY as UINT64_MAX
  std::uint64_t nofile_soft = 0, nofile_hard = 0;
  std::uint64_t tasks_now = 0;  // threads on the system now
  bool root = false;
};
Limits read_limits();
// Why `extra` more processes cannot run, or empty when they can.
std::string limits_problem(const Limits& limits, std::uint64_t extra);

// A small flag parser shared by both programs: --name VALUE, --name=VALUE
// and boolean --name.
class Args {
 public:
  Args(int argc, char** argv);
  bool flag(const std::string& name);
  std::optional<std::string> value(const std::string& name);
  long long number(const std::string& name, long long fallback, long long min, long long max);
  // Unused arguments left after all lookups: a typo is an error, not a default.
  std::vector<std::string> rest() const;

 private:
  std::vector<std::string> args_;
  std::vector<bool> used_;
};

// A benchmark's main: --help prints `usage`; an exception escaping `run`
// (a bad argument, a machine that cannot hold the run) is reported as
// "NAME: what" and exits 2.
int run_main(int argc, char** argv, const char* name, const char* usage, int (*run)(Args&));

}  // namespace otpd::bench

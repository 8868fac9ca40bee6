#include "bench_util.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace otpd::bench {
namespace {

volatile sig_atomic_t interrupt_flag = 0;

void on_interrupt(int) {
  interrupt_flag = 1;
}

std::runtime_error system_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::uint64_t> read_number_file(const std::string& path) {
  const auto text = read_small_file(path);
  if (!text) return std::nullopt;
  try {
    return std::stoull(*text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

bool interrupted() {
  return interrupt_flag != 0;
}

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  for (int signo : {SIGINT, SIGTERM, SIGHUP, SIGALRM}) sigaction(signo, &sa, nullptr);
}

void become_subreaper() {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) throw system_error("PR_SET_CHILD_SUBREAPER");
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/otpd-bench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw system_error("mkdtemp " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  if (keep_) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

std::vector<nlohmann::json> LogTail::read_new() {
  std::vector<nlohmann::json> lines;
  const int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return lines;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = pread(fd, buffer, sizeof buffer, static_cast<off_t>(offset_));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    offset_ += static_cast<std::uint64_t>(n);
    partial_.append(buffer, static_cast<std::size_t>(n));
  }
  close(fd);
  std::size_t begin = 0;
  for (std::size_t end; (end = partial_.find('\n', begin)) != std::string::npos; begin = end + 1) {
    const std::string_view text(partial_.data() + begin, end - begin);
    auto line = nlohmann::json::parse(text, nullptr, false);
    if (line.is_discarded() || !line.is_object()) line = nlohmann::json{{"raw", text}};
    lines.push_back(line);
    all_.push_back(std::move(line));
  }
  partial_.erase(0, begin);
  return lines;
}

bool is_message(const nlohmann::json& line, const std::string& message) {
  const auto it = line.find("message");
  return it != line.end() && it->is_string() && *it == message;
}

bool is_event(const nlohmann::json& line, const std::string& event) {
  const auto it = line.find("event");
  return it != line.end() && it->is_string() && *it == event;
}

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  const auto text = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  // The command name may hold spaces and parentheses: fields resume after
  // the last ')'.
  const auto close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(text->substr(close + 2));
  ProcStat stat;
  std::vector<std::string> fields;
  for (std::string field; in >> field;) fields.push_back(field);
  // fields[0] is field 3 of proc(5): state.
  if (fields.size() < 20) return std::nullopt;
  stat.state = fields[0].empty() ? '?' : fields[0][0];
  stat.ppid = std::stoi(fields[1]);
  stat.cpu_ticks = std::stoull(fields[11]) + std::stoull(fields[12]);
  stat.start_time = std::stoull(fields[19]);
  return stat;
}

std::optional<std::string> read_status_text(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  const std::string prefix = key + ":";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    const auto first = line.find_first_not_of(" \t", prefix.size());
    return first == std::string::npos ? std::string() : line.substr(first);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> read_status_field(pid_t pid, const std::string& key) {
  const auto text = read_status_text(pid, key);
  if (!text) return std::nullopt;
  try {
    return std::stoull(*text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

double ticks_to_ms(std::uint64_t ticks) {
  return 1000.0 * static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

Otpd::Otpd(const std::string& exe, const std::string& config, const std::string& log,
           const std::string& dir) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  // otpd's stdout is passed to its children: a file keeps anything they say
  // out of the benchmark's output.
  const std::string out = dir + "/otpd.stdout";
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  // Our own handlers must not leak into otpd as blocked or caught signals.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> args = {exe, "--config", config, "--log-format", "json"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  started_ns_ = monotonic_ns();
  const int error = posix_spawn(&pid_, exe.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (error != 0) {
    pid_ = -1;
    throw std::runtime_error("cannot start " + exe + ": " + std::strerror(error));
  }
  // A pidfd turns "wait for exit with a timeout" into one poll(2), so the
  // shutdown time is not rounded up to a polling interval.
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
}

Otpd::~Otpd() {
  if (running()) kill_all({});
  if (pidfd_ >= 0) close(pidfd_);
}

bool Otpd::wait_exit(int timeout_ms) {
  if (status_) return true;
  const std::int64_t deadline = monotonic_ns() + std::int64_t{timeout_ms} * 1'000'000;
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      status_ = status;
      return true;
    }
    if (done < 0 && errno != EINTR) throw system_error("waitpid otpd");
    const std::int64_t left_ms = (deadline - monotonic_ns()) / 1'000'000;
    if (left_ms <= 0 || interrupted()) return false;
    if (pidfd_ >= 0) {
      pollfd pfd{pidfd_, POLLIN, 0};
      poll(&pfd, 1, static_cast<int>(std::min<std::int64_t>(left_ms, 20)));
      if (const auto stat = read_proc_stat(pid_); stat && stat->state != 'Z') {
        last_cpu_ticks_ = stat->cpu_ticks;
      }
    } else {
      sleep_ms(1);
    }
  }
}

bool Otpd::stop(int timeout_ms) {
  if (!running()) return true;
  kill(pid_, SIGTERM);
  return wait_exit(timeout_ms);
}

int Otpd::kill_all(const std::vector<nlohmann::json>& log_lines) {
  if (running()) {
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    status_ = status;
  }
  // Once otpd is gone its children are re-parented to us (the subreaper):
  // a logged pid whose parent is us is certainly one we started, never an
  // unrelated process that reused the number. Anything else re-parented to
  // us descends from otpd too (a child's own children, a pid the log had
  // not shown yet).
  std::set<pid_t> candidates;
  for (const pid_t child : started_pids(log_lines)) candidates.insert(child);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename();
    if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) {
      candidates.insert(std::stoi(name));
    }
  }
  int killed = 0;
  for (const pid_t child : candidates) {
    const auto stat = read_proc_stat(child);
    if (stat && stat->ppid == getpid() && stat->state != 'Z' && kill(child, SIGKILL) == 0) {
      ++killed;
    }
  }
  const std::int64_t deadline = monotonic_ns() + 5'000'000'000;
  while (monotonic_ns() < deadline) {
    int status = 0;
    const pid_t done = waitpid(-1, &status, WNOHANG);
    if (done < 0 && errno == ECHILD) break;
    if (done <= 0) sleep_ms(2);
  }
  return killed;
}

std::vector<pid_t> started_pids(const std::vector<nlohmann::json>& log_lines) {
  std::vector<pid_t> pids;
  for (const auto& line : log_lines) {
    if (!is_event(line, "started")) continue;
    const auto pid = line.find("pid");
    if (pid != line.end() && pid->is_number_integer()) pids.push_back(pid->get<pid_t>());
  }
  return pids;
}

int reap_orphans() {
  int reaped = 0;
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(-1, &status, WNOHANG);
    if (done <= 0) return reaped;
    ++reaped;
  }
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

Summary summarize(std::vector<double> values) {
  Summary s;
  s.count = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  auto rank = [&](double p) {
    const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(k, 1, values.size()) - 1];
  };
  s.min = values.front();
  s.max = values.back();
  s.median = rank(0.5);
  s.p90 = rank(0.9);
  s.p99 = rank(0.99);
  double total = 0;
  for (double v : values) total += v;
  s.mean = total / static_cast<double>(values.size());
  return s;
}

Machine describe_machine() {
  Machine m;
  m.nproc = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos)
        m.cpu_model = line.substr(line.find_first_not_of(' ', colon + 1));
      break;
    }
  }
  utsname u{};
  if (uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release;
  double loads[1] = {0};
  if (getloadavg(loads, 1) == 1) m.load1 = loads[0];
  return m;
}

namespace {
struct CpuTimes {
  std::uint64_t idle = 0;
  std::uint64_t total = 0;
};
// The "cpu" line of /proc/stat: user nice system idle iowait irq softirq steal.
CpuTimes read_cpu_times() {
  std::ifstream stat("/proc/stat");
  std::string label;
  stat >> label;
  CpuTimes times;
  for (int field = 0; field < 8; ++field) {
    std::uint64_t value = 0;
    if (!(stat >> value)) break;
    times.total += value;
    if (field == 3 || field == 4) times.idle += value;
  }
  return times;
}
}  // namespace

double settle(double idle_share, int limit_s) {
  const auto start = std::chrono::steady_clock::now();
  for (int second = 0; second < limit_s; ++second) {
    const CpuTimes before = read_cpu_times();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const CpuTimes after = read_cpu_times();
    const auto total = after.total - before.total;
    if (total > 0 &&
        static_cast<double>(after.idle - before.idle) >= idle_share * static_cast<double>(total)) {
      break;
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Limits read_limits() {
  Limits l;
  l.pid_max = read_number_file("/proc/sys/kernel/pid_max").value_or(0);
  l.threads_max = read_number_file("/proc/sys/kernel/threads-max").value_or(0);
  // cgroup v2 first, then the v1 pids controller; the benchmark's own group
  // is where otpd and its children will be counted.
  for (const char* path : {"/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/pids/pids.max"}) {
    if (const auto text = read_small_file(path)) {
      if (text->rfind("max", 0) != 0) l.cgroup_pids_max = read_number_file(path);
      break;
    }
  }
  rlimit r{};
  getrlimit(RLIMIT_NPROC, &r);
  l.nproc_soft = r.rlim_cur == RLIM_INFINITY ? UINT64_MAX : r.rlim_cur;
  getrlimit(RLIMIT_NOFILE, &r);
  l.nofile_soft = r.rlim_cur;
  l.nofile_hard = r.rlim_max;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    l.tasks_now += read_status_field(std::stoi(name), "Threads").value_or(1);
  }
  l.root = geteuid() == 0;
  return l;
}

std::string limits_problem(const Limits& l, std::uint64_t extra) {
  // Leave room for otpd itself and for whatever else the machine starts
  // meanwhile (the builds of other engineers).
  const std::uint64_t needed = l.tasks_now + extra + 64;
  if (l.pid_max != 0 && needed > l.pid_max) {
    return "kernel.pid_max is " + std::to_string(l.pid_max) + " but " + std::to_string(needed) +
           " pids are needed";
  }
  if (l.threads_max != 0 && needed > l.threads_max) {
    return "kernel.threads-max is " + std::to_string(l.threads_max) + " but " +
           std::to_string(needed) + " tasks are needed";
  }
  if (l.cgroup_pids_max && needed > *l.cgroup_pids_max) {
    return "the cgroup's pids.max is " + std::to_string(*l.cgroup_pids_max);
  }
  // The kernel does not enforce RLIMIT_NPROC for root (CAP_SYS_RESOURCE).
  if (!l.root && l.nproc_soft != UINT64_MAX && needed > l.nproc_soft) {
    return "RLIMIT_NPROC (ulimit -u) is " + std::to_string(l.nproc_soft);
  }
  return {};
}

Args::Args(int argc, char** argv) : args_(argv + 1, argv + argc), used_(args_.size(), false) {}

bool Args::flag(const std::string& name) {
  for (std::size_t i = 0; i < args_.size(); ++i) {
    if (!used_[i] && args_[i] == name) {
      used_[i] = true;
      return true;
    }
  }
  return false;
}

std::optional<std::string> Args::value(const std::string& name) {
  for (std::size_t i = 0; i < args_.size(); ++i) {
    if (used_[i]) continue;
    if (args_[i].rfind(name + "=", 0) == 0) {
      used_[i] = true;
      return args_[i].substr(name.size() + 1);
    }
    if (args_[i] == name) {
      if (i + 1 >= args_.size()) throw std::invalid_argument(name + " needs a value");
      used_[i] = used_[i + 1] = true;
      return args_[i + 1];
    }
  }
  return std::nullopt;
}

long long Args::number(const std::string& name, long long fallback, long long min, long long max) {
  const auto text = value(name);
  if (!text) return fallback;
  std::size_t end = 0;
  long long n = 0;
  try {
    n = std::stoll(*text, &end);
  } catch (const std::exception&) {
    end = 0;
  }
  if (end == 0 || end != text->size() || n < min || n > max) {
    throw std::invalid_argument(name + " must be a whole number from " + std::to_string(min) +
                                " to " + std::to_string(max) + ", not '" + *text + "'");
  }
  return n;
}

std::vector<std::string> Args::rest() const {
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args_.size(); ++i) {
    if (!used_[i]) rest.push_back(args_[i]);
  }
  return rest;
}

int run_main(int argc, char** argv, const char* name, const char* usage, int (*run)(Args&)) {
  Args args(argc, argv);
  if (args.flag("--help") || args.flag("-h")) {
    std::cout << usage;
    return 0;
  }
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 2;
  }
}

}  // namespace otpd::bench

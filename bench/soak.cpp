// otpd-bench-soak: otpd under sustained abuse, for as long as asked.
//
// A tree of 60 processes in three levels under every strategy, its children
// killed at random as fast as one thread can (a pidfd each, so a reused pid
// is never hit), the config reloaded back and forth, and hostile clients on
// the control socket, all at once. Every few seconds otpd's memory,
// descriptors and zombies are sampled. At the end the killing stops and the
// benchmark checks what a supervisor promises: otpd alive, every permanent
// child running again, no zombie, descriptors and memory where they began,
// and after a shutdown no process of the tree left.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "bench_util.hpp"

extern char** environ;

namespace {

using otpd::bench::monotonic_ns;
using otpd::bench::sleep_ms;
using Json = nlohmann::json;

const char* const usage =
    "Usage: otpd-bench-soak [--seconds N] [--sample S] [--reload-every S] [--json]\n"
    "                       [--keep-temp]\n"
    "\n"
    "Runs otpd on 60 processes in three levels (a root over one supervisor per\n"
    "strategy, each over four supervisors of five processes) and, for N seconds\n"
    "(default 600):\n"
    "  kills    a random child of the tree with SIGKILL, one after another, as\n"
    "           fast as one thread can\n"
    "  reloads  the config every S seconds (default 5), alternating between two\n"
    "           files that add, remove and change children\n"
    "  hostile  clients that send nesting 100,000 deep, 2 MiB lines, bytes that\n"
    "           are not JSON, half lines, start_child bombs and hang-ups, and\n"
    "           event followers that never read\n"
    "Samples otpd's RSS, descriptors and zombies every S seconds (default 10).\n"
    "Then stops the abuse and checks: otpd alive, every permanent child running,\n"
    "no zombie, descriptors and RSS back near their first sample, and no process\n"
    "of the tree left after a shutdown. Exits 1 when a check fails.\n";

constexpr int kMiddles = 3;
constexpr int kLeaves = 4;     // supervisors under each middle one
constexpr int kProcesses = 5;  // processes under each leaf supervisor

std::runtime_error system_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

// The tree. `variant` 1 changes an env value (a restart of that child),
// adds a child to one leaf and leaves one out of another, so that a reload
// to it and back exercises every kind of change.
std::string tree_yaml(const std::string& idle, int variant) {
  const char* strategies[kMiddles] = {"one_for_one", "one_for_all", "rest_for_one"};
  std::ostringstream y;
  y << "tree:\n"
    << "  strategy: one_for_one\n"
    << "  intensity: 1000000\n"
    << "  period: 1s\n"
    << "  children:\n"
    << "    - name: jobs\n"
    << "      worker: {kind: dynamic_supervisor, max_children: 4}\n";
  for (int m = 0; m < kMiddles; ++m) {
    y << "    - name: " << strategies[m] << "\n"
      << "      strategy: " << strategies[m] << "\n"
      << "      intensity: 1000000\n"
      << "      period: 1s\n"
      << "      children:\n";
    for (int l = 0; l < kLeaves; ++l) {
      // The last leaf of each middle gives up under the kills and is
      // restarted by its middle: escalation is part of the run.
      const bool gives_up = l == kLeaves - 1;
      y << "        - name: leaf" << l << "\n"
        << "          strategy: " << strategies[(m + l) % kMiddles] << "\n"
        << "          intensity: " << (gives_up ? 5 : 1000000) << "\n"
        << "          period: 1s\n"
        << "          children:\n";
      for (int p = 0; p < kProcesses; ++p) {
        if (variant == 1 && m == 0 && l == 0 && p == kProcesses - 1) continue;
        y << "            - name: p" << p << "\n"
          << "              command: [" << idle << "]\n"
          << "              restart: " << (p == kProcesses - 1 ? "transient" : "permanent") << "\n"
          << "              shutdown: 1s\n"
          << "              output: discard\n";
        if (m == 1 && l == 0 && p == 0) {
          y << "              env: {SOAK_VARIANT: \"" << variant << "\"}\n";
        }
      }
      if (variant == 1 && m == 2 && l == 0) {
        y << "            - name: added\n"
          << "              command: [" << idle << "]\n"
          << "              output: discard\n";
      }
    }
  }
  return y.str();
}

// --- /proc --------------------------------------------------------------------

std::vector<pid_t> children_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<pid_t> pids;
  for (pid_t child; in >> child;) pids.push_back(child);
  return pids;
}

std::size_t count_fds(pid_t pid) {
  std::error_code error;
  std::size_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++n;
  }
  return n;
}

int count_zombies(pid_t parent) {
  int zombies = 0;
  for (pid_t child : children_of(parent)) {
    const auto stat = otpd::bench::read_proc_stat(child);
    if (stat && stat->state == 'Z') ++zombies;
  }
  return zombies;
}

// --- the control socket ---------------------------------------------------------

int connect_to(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), std::min(path.size(), sizeof address.sun_path - 1));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// One line, waiting at most `timeout_ms`; nothing on timeout or hang-up.
std::optional<std::string> read_line(int fd, int timeout_ms) {
  std::string line;
  const std::int64_t deadline = monotonic_ns() + std::int64_t{timeout_ms} * 1'000'000;
  char c;
  for (;;) {
    const std::int64_t left_ms = (deadline - monotonic_ns()) / 1'000'000;
    if (left_ms <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left_ms)) <= 0) return std::nullopt;
    const ssize_t n = ::recv(fd, &c, 1, 0);
    if (n <= 0) return std::nullopt;
    if (c == '\n') return line;
    line += c;
  }
}

// A request on a connection of its own; the reply, or null.
Json ask(const std::string& socket, const Json& request, int timeout_ms = 30'000) {
  const int fd = connect_to(socket);
  if (fd < 0) return nullptr;
  Json reply = nullptr;
  if (send_all(fd, request.dump() + "\n")) {
    if (const auto line = read_line(fd, timeout_ms)) {
      reply = Json::parse(*line, nullptr, false);
      if (reply.is_discarded()) reply = nullptr;
    }
  }
  ::close(fd);
  return reply;
}

// --- what runs beside otpd ------------------------------------------------------------

struct Counters {
  std::atomic<std::uint64_t> kills{0};
  std::atomic<std::uint64_t> reloads{0};
  std::atomic<std::uint64_t> reloads_failed{0};
  std::atomic<std::uint64_t> hostile{0};           // hostile requests and connections
  std::atomic<std::uint64_t> hostile_answered{0};  // answered with an error, as they must be
  std::atomic<std::uint64_t> pings_unanswered{0};
  // From otpd's log.
  std::atomic<std::uint64_t> started{0};
  std::atomic<std::uint64_t> exited{0};
  std::atomic<std::uint64_t> intensity_exceeded{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> log_bytes{0};
  // Milliseconds from sending to the reply, for pings and hostile requests.
  std::mutex latency_lock;
  std::vector<double> ping_ms;
  std::vector<double> hostile_ms;
};

void record(Counters& counters, std::vector<double> Counters::*which, std::int64_t since_ns) {
  std::lock_guard guard(counters.latency_lock);
  (counters.*which).push_back(static_cast<double>(monotonic_ns() - since_ns) / 1e6);
}

// Counts otpd's log lines as they come, keeping none but the last errors.
void read_log(int fd, Counters& counters, std::vector<std::string>& last_errors, std::mutex& lock) {
  std::string buffer;
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    counters.log_bytes += static_cast<std::uint64_t>(n);
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t end; (end = buffer.find('\n', start)) != std::string::npos; start = end + 1) {
      const std::string_view line(buffer.data() + start, end - start);
      if (line.find("\"event\":\"started\"") != std::string_view::npos) {
        ++counters.started;
      } else if (line.find("\"event\":\"exited\"") != std::string_view::npos) {
        ++counters.exited;
      } else if (line.find("\"event\":\"intensity_exceeded\"") != std::string_view::npos) {
        ++counters.intensity_exceeded;
      } else if (line.find("\"level\":\"error\"") != std::string_view::npos) {
        ++counters.errors;
        std::lock_guard guard(lock);
        last_errors.emplace_back(line);
        if (last_errors.size() > 10) last_errors.erase(last_errors.begin());
      }
    }
    buffer.erase(0, start);
  }
}

// Kills a random child of otpd's, as fast as it can. A pidfd is taken first
// and the parent checked after, so a pid reused meanwhile is never signalled.
void kill_children(pid_t otpd, const std::atomic<bool>& stop, Counters& counters) {
  std::mt19937 random(12345);
  std::vector<pid_t> pids;
  // Killed and still otpd's child (dying, or a zombie not yet reaped): not
  // killed again, so that each kill is a death otpd has to handle.
  std::unordered_set<pid_t> killed;
  std::int64_t refreshed = 0;
  while (!stop && !otpd::bench::interrupted()) {
    if (pids.empty() || monotonic_ns() - refreshed > 20'000'000) {
      std::unordered_set<pid_t> still_dying;
      pids.clear();
      for (pid_t pid : children_of(otpd)) {
        if (killed.contains(pid)) {
          still_dying.insert(pid);
        } else {
          pids.push_back(pid);
        }
      }
      killed.swap(still_dying);
      refreshed = monotonic_ns();
      if (pids.empty()) {
        sleep_ms(1);
        continue;
      }
    }
    const std::size_t at = random() % pids.size();
    const pid_t pid = pids[at];
    pids[at] = pids.back();
    pids.pop_back();
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) continue;
    const auto stat = otpd::bench::read_proc_stat(pid);
    if (stat && stat->ppid == otpd && stat->state != 'Z' &&
        ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0) == 0) {
      ++counters.kills;
      killed.insert(pid);
    }
    ::close(pidfd);
  }
}

void reload_now_and_then(const std::string& socket, const std::string& config,
                         const std::string (&variants)[2], int every_s,
                         const std::atomic<bool>& stop, Counters& counters) {
  int next = 1;
  while (!stop && !otpd::bench::interrupted()) {
    for (int waited = 0; waited < every_s * 10 && !stop; ++waited) sleep_ms(100);
    if (stop) return;
    otpd::bench::write_file(config, variants[next]);
    next = 1 - next;
    const Json reply = ask(socket, {{"id", "reload"}, {"cmd", "reload"}}, 60'000);
    ++counters.reloads;
    if (reply.is_null() || reply.contains("error")) ++counters.reloads_failed;
  }
}

// Nine levels of ten aliases each: 10^9 values once expanded.
std::string alias_bomb() {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level < 9; ++level) {
    const std::string below = "*a" + std::to_string(level - 1);
    text += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [";
    for (int i = 0; i < 10; ++i) text += (i ? ", " : "") + below;
    text += "]\n";
  }
  return text + "name: *a8\n";
}

// One round of everything a hostile client tries; each request must get an
// error reply (or, for what is not a request, nothing but a closed line).
void hostile_clients(const std::string& socket, const std::atomic<bool>& stop, Counters& counters) {
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  const std::vector<std::string> requests = {
      R"({"id":1,"cmd":"call","path":"jobs","message":)" + deep + "}",
      R"({"id":2,"cmd":"ping","pad":")" + std::string(2 << 20, 'x') + "\"}",
      "\x01\x02 not json at all \xff\xfe",
      Json({{"id", 3}, {"cmd", "start_child"}, {"path", "jobs"}, {"spec", ","}}).dump(),
      Json({{"id", 4}, {"cmd", "start_child"}, {"path", "jobs"}, {"spec", alias_bomb()}}).dump(),
      Json({{"id", 5}, {"cmd", "start_child"}, {"path", "jobs"}, {"spec", "{a: b},c"}}).dump(),
      R"({"id":6,"cmd":"stop","path":")" + std::string(10'000, '/') + "\"}",
      R"({"id":7,"cmd":"logs","path":"nowhere","lines":1000000})",
  };
  std::vector<int> followers;  // event subscribers that never read
  std::size_t round = 0;
  while (!stop && !otpd::bench::interrupted()) {
    for (const std::string& request : requests) {
      if (stop) break;
      const int fd = connect_to(socket);
      if (fd < 0) continue;
      ++counters.hostile;
      const std::int64_t sent = monotonic_ns();
      if (send_all(fd, request + "\n")) {
        const auto line = read_line(fd, 30'000);
        if (line && line->find("\"error\"") != std::string::npos) {
          ++counters.hostile_answered;
          record(counters, &Counters::hostile_ms, sent);
        }
      }
      ::close(fd);
    }
    // Half a line, then a hang-up; a connection that says nothing at all.
    for (const char* half : {R"({"id":8,"cmd":"sta)", ""}) {
      const int fd = connect_to(socket);
      if (fd < 0) continue;
      ++counters.hostile;
      send_all(fd, half);
      ::close(fd);
    }
    // A few followers of the event stream that never read: otpd must drop
    // them once they fall behind, not keep their backlog.
    if (followers.size() < 8) {
      const int fd = connect_to(socket);
      if (fd >= 0) {
        const int small = 4096;
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        send_all(fd, R"({"id":9,"cmd":"events","follow":true})"
                     "\n");
        followers.push_back(fd);
        ++counters.hostile;
      }
    } else if (++round % 16 == 0) {
      ::close(followers.front());
      followers.erase(followers.begin());
    }
  }
  for (int fd : followers) ::close(fd);
}

// --- the run ----------------------------------------------------------------------------

struct Sample {
  double at_s;
  std::uint64_t rss_kib;
  std::size_t fds;
  int zombies;
  std::size_t children;
  std::uint64_t kills;
  std::uint64_t started;
};

// Every process child of the tree, from `status`: how many are running.
struct TreeState {
  int processes = 0;
  int running = 0;
  int permanent = 0;
  int permanent_running = 0;
};

void walk(const Json& node, TreeState& state) {
  if (node.value("kind", "") == "process") {
    ++state.processes;
    const bool running = node.value("state", "") == "running";
    state.running += running ? 1 : 0;
    if (node.value("restart", "") == "permanent") {
      ++state.permanent;
      state.permanent_running += running ? 1 : 0;
    }
  }
  if (node.contains("children")) {
    for (const Json& child : node["children"]) walk(child, state);
  }
}

std::optional<TreeState> tree_state(const std::string& socket) {
  const Json reply = ask(socket, {{"id", "s"}, {"cmd", "status"}});
  if (!reply.is_object() || !reply.contains("result")) return std::nullopt;
  TreeState state;
  walk(reply["result"], state);
  return state;
}

int run(otpd::bench::Args& args) {
  const long long seconds = args.number("--seconds", 600, 1, 86'400);
  const long long sample_s = args.number("--sample", 10, 1, 3600);
  const long long reload_s = args.number("--reload-every", 5, 1, 3600);
  const bool json = args.flag("--json");
  const bool keep = args.flag("--keep-temp");
  if (!args.rest().empty()) throw std::runtime_error("unknown argument " + args.rest().front());

  otpd::bench::install_interrupt_handlers();
  otpd::bench::become_subreaper();
  otpd::bench::TempDir dir;
  if (keep) dir.keep();
  const std::string config = dir.path() + "/soak.yaml";
  const std::string socket = dir.path() + "/s.sock";
  const std::string variants[2] = {tree_yaml(OTPD_BENCH_IDLE, 0), tree_yaml(OTPD_BENCH_IDLE, 1)};
  otpd::bench::write_file(config, variants[0]);

  // otpd with its log on a pipe that a thread counts and throws away: ten
  // minutes of restarts would fill a file with gigabytes.
  int log_pipe[2];
  if (::pipe2(log_pipe, O_CLOEXEC) != 0) throw system_error("pipe2");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, log_pipe[1], 2);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "OTPD_SOCKET=", 12) != 0) env_strings.emplace_back(*e);
  }
  env_strings.push_back("OTPD_SOCKET=" + socket);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string exe = OTPD_BENCH_OTPD;
  std::string config_arg = config;
  std::string flag_config = "--config", flag_format = "--log-format", format = "json";
  char* argv[] = {exe.data(),         flag_config.data(), config_arg.data(),
                  flag_format.data(), format.data(),      nullptr};
  pid_t otpd = -1;
  if (posix_spawn(&otpd, exe.c_str(), &actions, nullptr, argv, envp.data()) != 0) {
    throw system_error("cannot start otpd");
  }
  posix_spawn_file_actions_destroy(&actions);
  ::close(log_pipe[1]);

  Counters counters;
  std::vector<std::string> last_errors;
  std::mutex errors_lock;
  std::thread log_reader(read_log, log_pipe[0], std::ref(counters), std::ref(last_errors),
                         std::ref(errors_lock));

  auto otpd_alive = [&] {
    int status = 0;
    return ::waitpid(otpd, &status, WNOHANG) == 0;
  };
  // The tree is up once every process runs.
  const std::int64_t start_deadline = monotonic_ns() + 60'000'000'000;
  std::optional<TreeState> state;
  while (monotonic_ns() < start_deadline && otpd_alive()) {
    state = tree_state(socket);
    if (state && state->processes == kMiddles * kLeaves * kProcesses &&
        state->running == state->processes) {
      break;
    }
    sleep_ms(50);
  }
  if (!state || state->running != kMiddles * kLeaves * kProcesses) {
    ::kill(otpd, SIGKILL);
    log_reader.join();
    throw std::runtime_error("the tree did not start");
  }

  std::vector<Sample> samples;
  const std::int64_t began = monotonic_ns();
  auto take_sample = [&] {
    samples.push_back({static_cast<double>(monotonic_ns() - began) / 1e9,
                       otpd::bench::read_status_field(otpd, "VmRSS").value_or(0), count_fds(otpd),
                       count_zombies(otpd), children_of(otpd).size(), counters.kills.load(),
                       counters.started.load()});
  };
  take_sample();

  std::atomic<bool> stop{false};
  std::thread killer(kill_children, otpd, std::cref(stop), std::ref(counters));
  std::thread reloader(reload_now_and_then, socket, config, std::cref(variants),
                       static_cast<int>(reload_s), std::cref(stop), std::ref(counters));
  std::thread hostile(hostile_clients, socket, std::cref(stop), std::ref(counters));

  int max_zombies = 0;
  const std::int64_t end = began + seconds * 1'000'000'000;
  std::int64_t next_sample = began + sample_s * 1'000'000'000;
  while (monotonic_ns() < end && otpd_alive() && !otpd::bench::interrupted()) {
    // A ping every second: otpd must answer while all this goes on.
    const std::int64_t sent = monotonic_ns();
    const Json pong = ask(socket, {{"id", "p"}, {"cmd", "ping"}}, 10'000);
    if (!pong.is_object() || !pong.contains("result")) {
      ++counters.pings_unanswered;
    } else {
      record(counters, &Counters::ping_ms, sent);
    }
    max_zombies = std::max(max_zombies, count_zombies(otpd));
    if (monotonic_ns() >= next_sample) {
      take_sample();
      const Sample& s = samples.back();
      std::fprintf(stderr, "%6.0fs  rss %6llu KiB  fds %4zu  zombies %d  kills %llu\n", s.at_s,
                   static_cast<unsigned long long>(s.rss_kib), s.fds, s.zombies,
                   static_cast<unsigned long long>(s.kills));
      next_sample += sample_s * 1'000'000'000;
    }
    sleep_ms(1000);
  }
  stop = true;
  killer.join();
  reloader.join();
  hostile.join();
  const double abused_s = static_cast<double>(monotonic_ns() - began) / 1e9;

  // Back to the first file, then let the tree settle.
  otpd::bench::write_file(config, variants[0]);
  const Json last_reload = ask(socket, {{"id", "reload"}, {"cmd", "reload"}}, 60'000);
  const bool alive = otpd_alive();
  std::optional<TreeState> settled;
  const std::int64_t settle_deadline = monotonic_ns() + 30'000'000'000;
  while (alive && monotonic_ns() < settle_deadline) {
    settled = tree_state(socket);
    if (settled && settled->permanent_running == settled->permanent && count_zombies(otpd) == 0) {
      break;
    }
    sleep_ms(100);
  }
  // What the idle tree holds now, against the first sample.
  sleep_ms(500);
  take_sample();
  const Sample& first = samples.front();
  const Sample& last = samples.back();
  const std::vector<pid_t> tree_pids = children_of(otpd);

  // The end: a shutdown, and no process of the tree may remain.
  const Json bye = ask(socket, {{"id", "bye"}, {"cmd", "shutdown"}});
  int status = 0;
  bool exited = false;
  for (int waited = 0; waited < 300 && !exited; ++waited) {
    exited = ::waitpid(otpd, &status, WNOHANG) == otpd;
    if (!exited) sleep_ms(100);
  }
  if (!exited) {
    ::kill(otpd, SIGKILL);
    ::waitpid(otpd, &status, 0);
  }
  log_reader.join();
  ::close(log_pipe[0]);
  int survivors = 0;
  for (pid_t pid : tree_pids) {
    const auto stat = otpd::bench::read_proc_stat(pid);
    if (stat && stat->state != 'Z') {
      ++survivors;
      ::kill(pid, SIGKILL);
    }
  }
  otpd::bench::reap_orphans();

  const bool all_permanent = settled && settled->permanent_running == settled->permanent;
  const bool fds_flat = last.fds <= first.fds + 2;
  // Allocator slack: a few MiB above the first sample is not growth.
  const bool rss_flat = last.rss_kib <= first.rss_kib + 4096;
  const bool ok = alive && all_permanent && last.zombies == 0 && fds_flat && rss_flat &&
                  survivors == 0 && exited && counters.pings_unanswered == 0;

  std::uint64_t max_rss = 0;
  std::size_t max_fds = 0;
  for (const Sample& s : samples) {
    max_rss = std::max(max_rss, s.rss_kib);
    max_fds = std::max(max_fds, s.fds);
  }
  const auto machine = otpd::bench::describe_machine();
  const otpd::bench::Summary ping = otpd::bench::summarize(counters.ping_ms);
  const otpd::bench::Summary hostile_reply = otpd::bench::summarize(counters.hostile_ms);
  auto summary_json = [](const otpd::bench::Summary& s) {
    return Json{{"count", s.count}, {"median", s.median}, {"p99", s.p99}, {"max", s.max}};
  };
  if (json) {
    Json j = {{"seconds", abused_s},
              {"machine",
               {{"nproc", machine.nproc}, {"cpu", machine.cpu_model}, {"load1", machine.load1}}},
              {"kills", counters.kills.load()},
              {"kills_per_second", static_cast<double>(counters.kills) / abused_s},
              {"starts", counters.started.load()},
              {"exits", counters.exited.load()},
              {"intensity_exceeded", counters.intensity_exceeded.load()},
              {"reloads", counters.reloads.load()},
              {"reloads_failed", counters.reloads_failed.load()},
              {"hostile", counters.hostile.load()},
              {"hostile_answered", counters.hostile_answered.load()},
              {"pings_unanswered", counters.pings_unanswered.load()},
              {"ping_ms", summary_json(ping)},
              {"hostile_reply_ms", summary_json(hostile_reply)},
              {"log_errors", counters.errors.load()},
              {"rss_kib", {{"first", first.rss_kib}, {"max", max_rss}, {"last", last.rss_kib}}},
              {"fds", {{"first", first.fds}, {"max", max_fds}, {"last", last.fds}}},
              {"zombies", {{"max_seen", max_zombies}, {"last", last.zombies}}},
              {"otpd_alive", alive},
              {"permanent_running", settled ? settled->permanent_running : 0},
              {"permanent", settled ? settled->permanent : 0},
              {"last_reload_ok", last_reload.is_object() && last_reload.contains("result")},
              {"shutdown", bye.is_object() && bye.contains("result") && exited},
              {"survivors", survivors},
              {"ok", ok}};
    std::cout << j.dump() << "\n";
  } else {
    std::printf("soak: %.0f s on %d cores (%s), load %.2f\n", abused_s, machine.nproc,
                machine.cpu_model.c_str(), machine.load1);
    std::printf(
        "  kills           %llu (%.0f/s); %llu starts, %llu exits, %llu supervisors gave up\n",
        static_cast<unsigned long long>(counters.kills.load()),
        static_cast<double>(counters.kills) / abused_s,
        static_cast<unsigned long long>(counters.started.load()),
        static_cast<unsigned long long>(counters.exited.load()),
        static_cast<unsigned long long>(counters.intensity_exceeded.load()));
    std::printf("  reloads         %llu (%llu failed)\n",
                static_cast<unsigned long long>(counters.reloads.load()),
                static_cast<unsigned long long>(counters.reloads_failed.load()));
    std::printf("  hostile         %llu connections, %llu requests answered with an error\n",
                static_cast<unsigned long long>(counters.hostile.load()),
                static_cast<unsigned long long>(counters.hostile_answered.load()));
    std::printf("  pings           %llu unanswered within 10 s; %.1f ms median, %.1f ms max\n",
                static_cast<unsigned long long>(counters.pings_unanswered.load()), ping.median,
                ping.max);
    std::printf("  hostile replies %.1f ms median, %.1f ms max\n", hostile_reply.median,
                hostile_reply.max);
    std::printf("  otpd RSS        %llu KiB first, %llu max, %llu after (%s)\n",
                static_cast<unsigned long long>(first.rss_kib),
                static_cast<unsigned long long>(max_rss),
                static_cast<unsigned long long>(last.rss_kib), rss_flat ? "flat" : "GREW");
    std::printf("  otpd fds        %zu first, %zu max, %zu after (%s)\n", first.fds, max_fds,
                last.fds, fds_flat ? "flat" : "GREW");
    std::printf("  zombies         %d most seen at a sample, %d after\n", max_zombies,
                last.zombies);
    std::printf("  otpd            %s; %d of %d permanent children running after\n",
                alive ? "alive" : "DEAD", settled ? settled->permanent_running : 0,
                settled ? settled->permanent : 0);
    std::printf("  shutdown        %s; %d processes of the tree left after it\n",
                exited ? "exited" : "HUNG", survivors);
    std::printf("  log             %llu bytes, %llu error lines\n",
                static_cast<unsigned long long>(counters.log_bytes.load()),
                static_cast<unsigned long long>(counters.errors.load()));
    std::printf("  %s\n", ok ? "ok" : "FAILED");
  }
  {
    std::lock_guard guard(errors_lock);
    for (const std::string& line : last_errors) std::fprintf(stderr, "otpd: %s\n", line.c_str());
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return otpd::bench::run_main(argc, argv, "otpd-bench-soak", usage, run);
}

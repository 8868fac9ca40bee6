// otpd-bench-control: what the control socket can take.
//
// Runs a real otpd on a socket of its own and measures, as a client would:
// ping round trips per second (one client, many clients, and pipelined), the
// latency and size of `status` on a big tree, otpd's resident memory across a
// long run of mixed requests, and a thousand clients connected at once. The
// benchmark's own CPU is reported next to otpd's, so a figure limited by the
// client side shows as such.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_util.hpp"

namespace {

using otpd::bench::monotonic_ns;
using Json = nlohmann::ordered_json;

const char* const usage =
    "Usage: otpd-bench-control [--duration S] [--clients N] [--pipeline K]\n"
    "                          [--client-threads T] [--requests N] [--connections N]\n"
    "                          [--status-children N] [--status-requests N]\n"
    "                          [--socket PATH] [--timeout SECONDS] [--force] [--json]\n"
    "                          [--keep-temp]\n"
    "\n"
    "Starts otpd with one idle child on its own socket (OTPD_SOCKET, in the\n"
    "scratch directory unless --socket) and measures:\n"
    "  ping      round trips per second for S seconds each (default 5): 1 client,\n"
    "            N clients (default 64), then both again with K requests in\n"
    "            flight per client (default 32); otpd's and the benchmark's CPU\n"
    "  memory    otpd's VmRSS before and every 10,000 of N mixed ping, status\n"
    "            and version requests (default 100000), a new connection every\n"
    "            1,000\n"
    "  fan-in    N clients (default 1000) connected at once, one request each;\n"
    "            otpd's descriptors before, during and after\n"
    "Then starts a second otpd on a flat tree of --status-children idle children\n"
    "(default 10000; 0 skips it) and times --status-requests (default 200)\n"
    "`status` requests of the whole tree, one at a time.\n"
    "\n"
    "  --client-threads T  threads driving the ping clients, each an epoll loop\n"
    "                      over its share of the connections (default 1)\n"
    "  --timeout S         bound on each otpd start and stop (default 120)\n"
    "  --force             run even when a system limit says the tree cannot fit\n"
    "  --json              one JSON object on stdout; the summary goes to stderr\n";

std::string fmt(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

std::runtime_error system_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

double self_cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto ms = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
  };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

struct Sched {
  double cpu_ms = 0;   // on a CPU
  double wait_ms = 0;  // runnable, waiting for a CPU: the machine's other load
};

Sched operator-(const Sched& a, const Sched& b) {
  return {a.cpu_ms - b.cpu_ms, a.wait_ms - b.wait_ms};
}

// schedstat counts in nanoseconds, where /proc/PID/stat counts 10 ms ticks,
// too coarse for one status request; it also tells how long a task was kept
// off the CPU by others, which decides throughput on a shared machine.
std::optional<Sched> read_schedstat(const std::string& path) {
  std::ifstream in(path);
  double cpu_ns = 0, wait_ns = 0;
  if (!(in >> cpu_ns >> wait_ns)) return std::nullopt;
  return Sched{cpu_ns / 1e6, wait_ns / 1e6};
}

// Every thread of the process, not only its first.
Sched process_sched(pid_t pid) {
  Sched total;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    if (const auto s = read_schedstat(task.path().string() + "/schedstat")) {
      total.cpu_ms += s->cpu_ms;
      total.wait_ms += s->wait_ms;
    }
  }
  return total;
}

double otpd_cpu_ms(pid_t pid) {
  return process_sched(pid).cpu_ms;
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

std::uint64_t rss_kib(pid_t pid) {
  return otpd::bench::read_status_field(pid, "VmRSS").value_or(0);
}

int connect_to(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw system_error("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  while (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == EINTR && !otpd::bench::interrupted()) continue;
    const int error = errno;
    close(fd);
    errno = error;
    throw system_error("connect " + path);
  }
  return fd;
}

void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Waits for fd to be ready for `events`, until the deadline; false on timeout.
bool wait_fd(int fd, short events, std::int64_t deadline_ns) {
  for (;;) {
    const std::int64_t left_ms = (deadline_ns - monotonic_ns()) / 1'000'000;
    if (left_ms <= 0 || otpd::bench::interrupted()) return false;
    pollfd pfd{fd, events, 0};
    const int n = poll(&pfd, 1, static_cast<int>(std::min<std::int64_t>(left_ms, 200)));
    if (n > 0) return true;
  }
}

void send_all(int fd, std::string_view data, std::int64_t deadline_ns) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) throw system_error("send");
    if (!wait_fd(fd, POLLOUT, deadline_ns)) throw std::runtime_error("send timed out");
  }
}

// One blocking-style connection for the phases that go one request at a
// time: every wait is bounded by the deadline given to each call.
class LineConn {
 public:
  explicit LineConn(const std::string& path) : fd_(connect_to(path)) { set_nonblocking(fd_); }
  ~LineConn() {
    if (fd_ >= 0) close(fd_);
  }
  LineConn(const LineConn&) = delete;
  LineConn& operator=(const LineConn&) = delete;

  void send(std::string_view data, std::int64_t deadline_ns) { send_all(fd_, data, deadline_ns); }

  // The next line, without its newline.
  std::string read_line(std::int64_t deadline_ns) {
    for (;;) {
      const auto newline = buffer_.find('\n', scanned_);
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        scanned_ = 0;
        return line;
      }
      scanned_ = buffer_.size();
      char chunk[1 << 16];
      const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) throw std::runtime_error("otpd closed the connection");
      if (errno != EAGAIN && errno != EINTR) throw system_error("recv");
      if (!wait_fd(fd_, POLLIN, deadline_ns)) throw std::runtime_error("no reply in time");
    }
  }

 private:
  int fd_;
  std::string buffer_;
  std::size_t scanned_ = 0;  // no newline before this offset
};

// {"id":N,"result":"pong"} for exactly the expected N; anything else is an
// anomaly, never a round trip.
bool is_pong(std::string_view line, std::uint64_t id) {
  constexpr std::string_view head = "{\"id\":";
  constexpr std::string_view tail = ",\"result\":\"pong\"}";
  if (line.size() <= head.size() + tail.size() || !line.starts_with(head) ||
      !line.ends_with(tail)) {
    return false;
  }
  const char* first = line.data() + head.size();
  const char* last = line.data() + line.size() - tail.size();
  std::uint64_t got = 0;
  const auto [end, ec] = std::from_chars(first, last, got);
  return ec == std::errc() && end == last && got == id;
}

// A result (not an error) for request N.
bool is_result(std::string_view line, std::uint64_t id) {
  const std::string head = "{\"id\":" + std::to_string(id) + ",\"result\":";
  return line.starts_with(head) && line.ends_with("}");
}

void append_request(std::string& out, std::uint64_t id, std::string_view cmd) {
  out += "{\"id\":";
  out += std::to_string(id);
  out += ",\"cmd\":\"";
  out += cmd;
  out += "\"}\n";
}

// ---------------------------------------------------------------- ping load

struct PingConn {
  int fd = -1;
  std::uint64_t next_id = 1;    // of the next request sent
  std::uint64_t expect_id = 1;  // of the next reply
  int outstanding = 0;
  std::int64_t batch_sent_ns = 0;
  std::string in;
  bool done = false;
};

struct WorkerResult {
  std::uint64_t replies = 0;
  std::uint64_t bad = 0;
  std::int64_t last_reply_ns = 0;
  std::vector<double> batch_us;  // from a batch's send to its last reply
  Sched sched;                   // this thread's, over the run
  std::string error;
};

// One epoll loop over its share of the connections: a connection sends its
// next batch as soon as the previous one is fully answered, until the end of
// the run. Level-triggered and one read per wake-up keep the loop fair
// between connections.
void ping_worker(std::vector<PingConn*> conns, int depth, std::int64_t end_ns,
                 std::int64_t hard_end_ns, WorkerResult& result) {
  const auto sched0 = read_schedstat("/proc/thread-self/schedstat");
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    result.error = std::string("epoll_create1: ") + std::strerror(errno);
    return;
  }
  std::string batch;
  auto send_batch = [&](PingConn& c) {
    batch.clear();
    for (int i = 0; i < depth; ++i) append_request(batch, c.next_id++, "ping");
    c.outstanding = depth;
    c.batch_sent_ns = monotonic_ns();
    send_all(c.fd, batch, hard_end_ns);
  };
  std::size_t open = conns.size();
  try {
    for (std::size_t i = 0; i < conns.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i]->fd, &ev) != 0) throw system_error("epoll_ctl");
      send_batch(*conns[i]);
    }
    epoll_event events[256];
    char chunk[1 << 16];
    while (open > 0) {
      const std::int64_t now = monotonic_ns();
      if (now > hard_end_ns || otpd::bench::interrupted()) {
        throw std::runtime_error(std::to_string(open) + " connection(s) still waiting for replies");
      }
      const int n = epoll_wait(ep, events, 256, 100);
      if (n < 0 && errno != EINTR) throw system_error("epoll_wait");
      for (int e = 0; e < n; ++e) {
        PingConn& c = *conns[events[e].data.u64];
        const ssize_t got = recv(c.fd, chunk, sizeof chunk, 0);
        if (got == 0) throw std::runtime_error("otpd closed a client connection");
        if (got < 0) {
          if (errno == EAGAIN || errno == EINTR) continue;
          throw system_error("recv");
        }
        c.in.append(chunk, static_cast<std::size_t>(got));
        std::size_t begin = 0;
        for (std::size_t nl; (nl = c.in.find('\n', begin)) != std::string::npos; begin = nl + 1) {
          if (!is_pong(std::string_view(c.in).substr(begin, nl - begin), c.expect_id)) ++result.bad;
          ++c.expect_id;
          ++result.replies;
          --c.outstanding;
        }
        c.in.erase(0, begin);
        if (c.outstanding > 0) continue;
        const std::int64_t t = monotonic_ns();
        result.last_reply_ns = std::max(result.last_reply_ns, t);
        result.batch_us.push_back(static_cast<double>(t - c.batch_sent_ns) / 1e3);
        if (t < end_ns) {
          send_batch(c);
        } else if (!c.done) {
          c.done = true;
          epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
          --open;
        }
      }
    }
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  close(ep);
  const auto sched1 = read_schedstat("/proc/thread-self/schedstat");
  if (sched0 && sched1) result.sched = *sched1 - *sched0;
}

struct PingRun {
  int clients = 0;
  int depth = 0;
  std::uint64_t replies = 0;
  std::uint64_t bad = 0;
  double wall_s = 0;
  double rate = 0;
  double otpd_cpu_ms = 0;
  double otpd_wait_ms = 0;
  double bench_cpu_ms = 0;
  double bench_wait_ms = 0;  // the client threads'
  double load1 = 0;
  otpd::bench::Summary batch_us;
};

PingRun run_pings(const std::string& socket, pid_t otpd_pid, int clients, int depth, int threads,
                  double duration_s) {
  PingRun run;
  run.clients = clients;
  run.depth = depth;
  std::vector<std::unique_ptr<PingConn>> conns;
  // Connected and answered once before the clock starts, so that neither
  // connect nor otpd's accept is in the figure.
  const std::int64_t setup_deadline = monotonic_ns() + 10'000'000'000;
  for (int i = 0; i < clients; ++i) {
    auto c = std::make_unique<PingConn>();
    c->fd = connect_to(socket);
    set_nonblocking(c->fd);
    conns.push_back(std::move(c));
  }
  for (auto& c : conns) {
    std::string request;
    append_request(request, 0, "ping");
    send_all(c->fd, request, setup_deadline);
  }
  for (auto& c : conns) {
    char chunk[256];
    std::string line;
    while (line.find('\n') == std::string::npos) {
      const ssize_t n = recv(c->fd, chunk, sizeof chunk, 0);
      if (n > 0) {
        line.append(chunk, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        throw std::runtime_error("warm-up ping failed");
      } else if (!wait_fd(c->fd, POLLIN, setup_deadline)) {
        throw std::runtime_error("no reply to the warm-up ping");
      }
    }
    if (!is_pong(line.substr(0, line.find('\n')), 0)) {
      throw std::runtime_error("unexpected reply to ping: " + line);
    }
  }

  threads = std::max(1, std::min(threads, clients));
  std::vector<std::vector<PingConn*>> shares(static_cast<std::size_t>(threads));
  for (std::size_t i = 0; i < conns.size(); ++i) {
    shares[i % shares.size()].push_back(conns[i].get());
  }
  std::vector<WorkerResult> results(shares.size());
  const Sched otpd0 = process_sched(otpd_pid);
  const double bench_cpu0 = self_cpu_ms();
  const std::int64_t t0 = monotonic_ns();
  const std::int64_t end = t0 + static_cast<std::int64_t>(duration_s * 1e9);
  const std::int64_t hard_end = end + 10'000'000'000;
  {
    std::vector<std::jthread> workers;
    for (std::size_t i = 0; i < shares.size(); ++i) {
      workers.emplace_back(ping_worker, shares[i], depth, end, hard_end, std::ref(results[i]));
    }
  }
  const Sched otpd_used = process_sched(otpd_pid) - otpd0;
  run.otpd_cpu_ms = otpd_used.cpu_ms;
  run.otpd_wait_ms = otpd_used.wait_ms;
  run.bench_cpu_ms = self_cpu_ms() - bench_cpu0;
  run.load1 = otpd::bench::describe_machine().load1;
  for (auto& c : conns) close(c->fd);

  std::int64_t last = t0;
  std::vector<double> batch_us;
  for (const auto& r : results) {
    if (!r.error.empty()) throw std::runtime_error("ping clients: " + r.error);
    run.replies += r.replies;
    run.bad += r.bad;
    run.bench_wait_ms += r.sched.wait_ms;
    last = std::max(last, r.last_reply_ns);
    batch_us.insert(batch_us.end(), r.batch_us.begin(), r.batch_us.end());
  }
  run.wall_s = static_cast<double>(last - t0) / 1e9;
  run.rate = run.wall_s > 0 ? static_cast<double>(run.replies) / run.wall_s : 0;
  run.batch_us = otpd::bench::summarize(std::move(batch_us));
  return run;
}

// ------------------------------------------------------------------ otpd

struct Daemon {
  std::unique_ptr<otpd::bench::Otpd> otpd;
  std::unique_ptr<otpd::bench::LogTail> log;
};

std::string yaml_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

std::string flat_tree(long long children) {
  std::ostringstream y;
  // Nothing should crash; a low intensity makes a surprise visible.
  y << "tree:\n  strategy: one_for_one\n  intensity: 3\n  period: 5s\n  children:\n";
  for (long long i = 0; i < children; ++i) {
    y << "    - name: c" << i << "\n"
      << "      command: [" << yaml_quote(OTPD_BENCH_IDLE) << "]\n"
      << "      restart: permanent\n"
      << "      shutdown: 5s\n";
  }
  return y.str();
}

// otpd takes its socket from the environment it inherits: the benchmark's.
void start_daemon(Daemon& d, const std::string& dir, const std::string& name,
                  const std::string& socket, long long children, long long timeout_s) {
  const std::string config = dir + "/" + name + ".yaml";
  const std::string log = dir + "/" + name + ".log";
  otpd::bench::write_file(config, flat_tree(children));
  setenv("OTPD_SOCKET", socket.c_str(), 1);
  d.log = std::make_unique<otpd::bench::LogTail>(log);
  d.otpd = std::make_unique<otpd::bench::Otpd>(OTPD_BENCH_OTPD, config, log, dir);
  const std::int64_t deadline = d.otpd->started_ns() + timeout_s * 1'000'000'000;
  for (;;) {
    for (const auto& line : d.log->read_new()) {
      if (otpd::bench::is_message(line, "tree started")) return;
      if (line.value("level", "") == "error") {
        throw std::runtime_error("otpd: " + line.value("message", ""));
      }
    }
    if (d.otpd->wait_exit(0)) {
      throw std::runtime_error("otpd exited during the start (" +
                               otpd::bench::describe_wait_status(*d.otpd->wait_status()) + ")");
    }
    if (otpd::bench::interrupted()) throw std::runtime_error("interrupted");
    if (monotonic_ns() > deadline) {
      throw std::runtime_error("no \"tree started\" within " + std::to_string(timeout_s) + " s");
    }
    otpd::bench::sleep_ms(5);
  }
}

struct Ending {
  int exit_status = -1;
  bool said_stopped = false;
  std::size_t leftovers = 0;
  double shutdown_s = 0;
};

// The orderly end: SIGTERM, then every child otpd started must be gone.
Ending stop_daemon(Daemon& d, long long timeout_s) {
  Ending e;
  const std::int64_t t0 = monotonic_ns();
  if (!d.otpd->stop(static_cast<int>(timeout_s * 1000))) {
    throw std::runtime_error("otpd did not exit within " + std::to_string(timeout_s) +
                             " s of SIGTERM");
  }
  e.shutdown_s = static_cast<double>(monotonic_ns() - t0) / 1e9;
  d.log->read_new();
  const int status = *d.otpd->wait_status();
  e.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  for (const auto& line : d.log->all()) {
    if (otpd::bench::is_message(line, "stopped")) e.said_stopped = true;
  }
  // A child still alive after otpd has been re-parented to us, the subreaper.
  for (const pid_t pid : otpd::bench::started_pids(d.log->all())) {
    const auto stat = otpd::bench::read_proc_stat(pid);
    if (stat && stat->ppid == getpid() && stat->state != 'Z') ++e.leftovers;
  }
  if (e.leftovers > 0) d.otpd->kill_all(d.log->all());
  otpd::bench::reap_orphans();
  return e;
}

// -------------------------------------------------------------- the phases

struct MemoryRun {
  std::uint64_t before_kib = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> samples;  // requests, VmRSS KiB
  std::uint64_t bad = 0;
  double wall_s = 0;
  double otpd_cpu_ms = 0;
};

MemoryRun run_memory(const std::string& socket, pid_t pid, long long requests, long long every) {
  constexpr long long kPerConnection = 1000;
  constexpr long long kInFlight = 50;
  constexpr std::string_view kCmds[] = {"ping", "status", "version"};
  MemoryRun run;
  run.before_kib = rss_kib(pid);
  const double cpu0 = otpd_cpu_ms(pid);
  const std::int64_t t0 = monotonic_ns();
  long long done = 0;
  std::uint64_t id = 0;
  while (done < requests) {
    LineConn conn(socket);
    const long long here = std::min(kPerConnection, requests - done);
    for (long long sent = 0; sent < here;) {
      const long long batch = std::min(kInFlight, here - sent);
      std::string out;
      const std::uint64_t first = id;
      for (long long i = 0; i < batch; ++i, ++id) {
        append_request(out, id, kCmds[id % std::size(kCmds)]);
      }
      const std::int64_t deadline = monotonic_ns() + 10'000'000'000;
      conn.send(out, deadline);
      for (long long i = 0; i < batch; ++i) {
        if (!is_result(conn.read_line(deadline), first + static_cast<std::uint64_t>(i))) {
          ++run.bad;
        }
      }
      sent += batch;
      done += batch;
      if (done % every == 0) run.samples.emplace_back(done, rss_kib(pid));
      if (otpd::bench::interrupted()) throw std::runtime_error("interrupted");
    }
  }
  run.wall_s = static_cast<double>(monotonic_ns() - t0) / 1e9;
  run.otpd_cpu_ms = otpd_cpu_ms(pid) - cpu0;
  return run;
}

// otpd closes a session when it reads the hangup; until then the descriptor
// is legitimately still open. Waits for the count to come back.
std::optional<double> wait_fds(pid_t pid, std::size_t target, int timeout_ms) {
  const std::int64_t t0 = monotonic_ns();
  const std::int64_t deadline = t0 + std::int64_t{timeout_ms} * 1'000'000;
  for (;;) {
    if (count_fds(pid) <= target) return static_cast<double>(monotonic_ns() - t0) / 1e6;
    if (monotonic_ns() > deadline || otpd::bench::interrupted()) return std::nullopt;
    otpd::bench::sleep_ms(1);
  }
}

struct FanIn {
  int clients = 0;
  std::size_t fds_before = 0;
  std::size_t fds_connected = 0;
  std::size_t fds_after = 0;
  int answered = 0;
  int bad = 0;
  double connect_ms = 0;
  double answer_ms = 0;
  std::optional<double> release_ms;
  std::string otpd_nofile;
};

FanIn run_fan_in(const std::string& socket, pid_t pid, int clients, std::size_t baseline) {
  FanIn f;
  f.clients = clients;
  f.fds_before = count_fds(pid);
  std::ifstream limits("/proc/" + std::to_string(pid) + "/limits");
  for (std::string line; std::getline(limits, line);) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream fields(line.substr(14));
      std::string soft, hard;
      fields >> soft >> hard;
      f.otpd_nofile = soft + "/" + hard;
    }
  }
  std::vector<int> fds;
  struct Closer {
    std::vector<int>& fds;
    ~Closer() {
      for (int fd : fds) close(fd);
    }
  } closer{fds};
  const std::int64_t t0 = monotonic_ns();
  for (int i = 0; i < clients; ++i) {
    fds.push_back(connect_to(socket));
    set_nonblocking(fds.back());
  }
  const std::int64_t t1 = monotonic_ns();
  f.connect_ms = static_cast<double>(t1 - t0) / 1e6;
  const std::int64_t deadline = t1 + 30'000'000'000;
  for (int i = 0; i < clients; ++i) {
    std::string request;
    append_request(request, static_cast<std::uint64_t>(i), "ping");
    send_all(fds[static_cast<std::size_t>(i)], request, deadline);
  }
  std::vector<std::string> replies(fds.size());
  std::vector<pollfd> waiting;
  for (int fd : fds) waiting.push_back({fd, POLLIN, 0});
  std::vector<std::size_t> index(fds.size());
  for (std::size_t i = 0; i < index.size(); ++i) index[i] = i;
  while (!waiting.empty()) {
    if (monotonic_ns() > deadline || otpd::bench::interrupted()) break;
    const int n = poll(waiting.data(), waiting.size(), 200);
    if (n <= 0) continue;
    for (std::size_t w = waiting.size(); w-- > 0;) {
      if (waiting[w].revents == 0) continue;
      const std::size_t i = index[w];
      char chunk[256];
      const ssize_t got = recv(fds[i], chunk, sizeof chunk, 0);
      bool finished = got <= 0 && !(got < 0 && (errno == EAGAIN || errno == EINTR));
      if (got > 0) {
        replies[i].append(chunk, static_cast<std::size_t>(got));
        const auto nl = replies[i].find('\n');
        if (nl != std::string::npos) {
          finished = true;
          if (is_pong(std::string_view(replies[i]).substr(0, nl), i)) {
            ++f.answered;
          } else {
            ++f.bad;
          }
        }
      }
      if (finished) {
        waiting[w] = waiting.back();
        waiting.pop_back();
        index[w] = index.back();
        index.pop_back();
      }
    }
  }
  f.answer_ms = static_cast<double>(monotonic_ns() - t1) / 1e6;
  f.fds_connected = count_fds(pid);
  for (int fd : fds) close(fd);
  fds.clear();
  f.release_ms = wait_fds(pid, baseline, 10'000);
  f.fds_after = count_fds(pid);
  return f;
}

struct StatusRun {
  long long children = 0;
  std::size_t running = 0;
  std::size_t reply_bytes = 0;
  double first_ms = 0;
  otpd::bench::Summary ms;
  double otpd_cpu_ms = 0;
  double start_s = 0;
  Ending ending;
};

StatusRun run_status(const std::string& socket, pid_t pid, long long children, int requests) {
  StatusRun s;
  s.children = children;
  LineConn conn(socket);
  auto one = [&](std::uint64_t id) {
    std::string request;
    append_request(request, id, "status");
    const std::int64_t t0 = monotonic_ns();
    const std::int64_t deadline = t0 + 30'000'000'000;
    conn.send(request, deadline);
    std::string line = conn.read_line(deadline);
    const double ms = static_cast<double>(monotonic_ns() - t0) / 1e6;
    if (!is_result(line, id)) throw std::runtime_error("status failed: " + line.substr(0, 200));
    s.reply_bytes = line.size() + 1;
    return std::make_pair(ms, std::move(line));
  };
  // The first is apart: it is the one that finds buffers cold.
  auto [first_ms, first_line] = one(0);
  s.first_ms = first_ms;
  const auto reply = nlohmann::json::parse(first_line, nullptr, false);
  if (reply.is_discarded()) throw std::runtime_error("status reply is not JSON");
  const auto& kids = reply["result"]["children"];
  if (!kids.is_array() || kids.size() != static_cast<std::size_t>(children)) {
    throw std::runtime_error("status reply does not list " + std::to_string(children) +
                             " children");
  }
  for (const auto& kid : kids) {
    if (kid.value("state", "") == "running") ++s.running;
  }
  std::vector<double> ms;
  const double cpu0 = otpd_cpu_ms(pid);
  for (int i = 1; i <= requests; ++i) {
    if (otpd::bench::interrupted()) throw std::runtime_error("interrupted");
    ms.push_back(one(static_cast<std::uint64_t>(i)).first);
  }
  s.otpd_cpu_ms = otpd_cpu_ms(pid) - cpu0;
  s.ms = otpd::bench::summarize(std::move(ms));
  return s;
}

Json summary_json(const otpd::bench::Summary& s) {
  return {{"count", s.count}, {"min", s.min}, {"median", s.median}, {"p90", s.p90},
          {"p99", s.p99},     {"max", s.max}, {"mean", s.mean}};
}

// ---------------------------------------------------------------- driver

int run(otpd::bench::Args& args) {
  const double duration_s = static_cast<double>(args.number("--duration", 5, 1, 600));
  const int clients = static_cast<int>(args.number("--clients", 64, 1, 4096));
  const int depth = static_cast<int>(args.number("--pipeline", 32, 1, 1000));
  const int threads = static_cast<int>(args.number("--client-threads", 1, 1, 64));
  const long long requests = args.number("--requests", 100'000, 10'000, 100'000'000);
  const int fan_in = static_cast<int>(args.number("--connections", 1000, 1, 100'000));
  const long long big = args.number("--status-children", 10'000, 0, 1'000'000);
  const int status_requests = static_cast<int>(args.number("--status-requests", 200, 1, 100'000));
  const long long timeout_s = args.number("--timeout", 120, 1, 3600);
  const auto socket_arg = args.value("--socket");
  const bool force = args.flag("--force");
  const bool json = args.flag("--json");
  const bool keep = args.flag("--keep-temp");
  if (const auto rest = args.rest(); !rest.empty()) {
    throw std::invalid_argument("unknown argument '" + rest.front() + "'");
  }
  constexpr long long kSampleEvery = 10'000;
  if (requests % kSampleEvery != 0) {
    throw std::invalid_argument("--requests must be a multiple of 10000");
  }

  const auto machine = otpd::bench::describe_machine();
  const auto limits = otpd::bench::read_limits();
  std::ostringstream human;
  human << "otpd control socket: " << clients << " clients, pipeline " << depth << ", " << threads
        << " client thread(s), " << fmt("%.0f", duration_s) << " s per ping run\n";
  human << "  machine:  " << machine.nproc << " x " << machine.cpu_model << ", " << machine.kernel
        << ", load " << fmt("%.2f", machine.load1) << " at start\n";

  // Every client descriptor is the benchmark's: a thousand of them need a
  // soft limit above the usual 1024. otpd inherits the raised limit.
  const auto needed = static_cast<rlim_t>(std::max(fan_in, clients) + 64);
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  if (nofile.rlim_cur < needed) {
    if (nofile.rlim_max < needed) {
      throw std::invalid_argument("RLIMIT_NOFILE hard limit " + std::to_string(nofile.rlim_max) +
                                  " is below the " + std::to_string(needed) +
                                  " descriptors needed");
    }
    nofile.rlim_cur = needed;
    if (setrlimit(RLIMIT_NOFILE, &nofile) != 0) throw system_error("setrlimit RLIMIT_NOFILE");
  }
  human << "  limits:   RLIMIT_NOFILE " << nofile.rlim_cur << "/" << nofile.rlim_max << "\n";
  if (big > 0) {
    const std::string problem =
        otpd::bench::limits_problem(limits, static_cast<std::uint64_t>(big + 1));
    if (!problem.empty()) {
      human << "  limit:    " << problem << ": " << big << " children cannot all run\n";
      if (!force) {
        std::cerr << human.str() << "otpd-bench-control: not running (--force to try anyway)\n";
        return 1;
      }
    }
  }

  otpd::bench::install_interrupt_handlers();
  otpd::bench::become_subreaper();
  alarm(static_cast<unsigned>(4 * timeout_s + 6 * duration_s + 300));

  otpd::bench::TempDir dir;
  if (keep) dir.keep();
  const std::string socket = socket_arg.value_or(dir.path() + "/s.sock");
  if (socket.size() >= sizeof(sockaddr_un{}.sun_path)) {
    throw std::invalid_argument("socket path longer than 107 bytes: " + socket);
  }
  human << "  socket:   " << socket << "\n";

  Daemon small, large;
  auto fail = [&](const std::string& why) {
    for (Daemon* d : {&small, &large}) {
      if (d->otpd && d->otpd->running()) {
        d->log->read_new();
        d->otpd->kill_all(d->log->all());
      }
    }
    std::cerr << human.str() << "otpd-bench-control: " << why
              << "; killed otpd. Scratch: " << dir.path() << "\n";
    dir.keep();
    return 1;
  };

  std::vector<PingRun> pings;
  MemoryRun memory;
  FanIn fan;
  Ending small_end;
  std::size_t fds_idle = 0;
  std::optional<StatusRun> status;
  try {
    start_daemon(small, dir.path(), "small", socket, 1, timeout_s);
    const pid_t pid = small.otpd->pid();
    fds_idle = count_fds(pid);
    const std::uint64_t rss_start = rss_kib(pid);
    human << "  otpd:     pid " << pid << ", 1 idle child, " << fds_idle << " fds, VmRSS "
          << rss_start << " KiB at start\n";

    for (const auto& [n, k] :
         {std::pair{1, 1}, std::pair{clients, 1}, std::pair{1, depth}, std::pair{clients, depth}}) {
      pings.push_back(run_pings(socket, pid, n, k, threads, duration_s));
    }
    for (const PingRun& p : pings) {
      const double wall_ms = p.wall_s * 1e3;
      human << "  ping:     " << p.clients << " client(s) x " << p.depth
            << " in flight: " << fmt("%.0f", p.rate) << " /s (" << p.replies << " in "
            << fmt("%.2f", p.wall_s) << " s); " << (p.depth == 1 ? "round trip" : "batch")
            << " us median " << fmt("%.0f", p.batch_us.median) << ", p99 "
            << fmt("%.0f", p.batch_us.p99) << "; cpu otpd "
            << fmt("%.0f", 100 * p.otpd_cpu_ms / wall_ms) << "%, bench "
            << fmt("%.0f", 100 * p.bench_cpu_ms / wall_ms)
            << "% of a core; kept waiting for a cpu: otpd "
            << fmt("%.0f", 100 * p.otpd_wait_ms / wall_ms) << "%, client threads "
            << fmt("%.0f", 100 * p.bench_wait_ms / wall_ms) << "% ("
            << fmt("%.2f", p.replies ? 1e3 * p.otpd_cpu_ms / static_cast<double>(p.replies) : 0)
            << " us otpd cpu per ping, "
            << fmt("%.0f",
                   p.otpd_cpu_ms > 0 ? static_cast<double>(p.replies) / (p.otpd_cpu_ms / 1e3) : 0)
            << " pings per otpd cpu-second); load " << fmt("%.2f", p.load1)
            << (p.bad ? "; " + std::to_string(p.bad) + " BAD REPLIES" : "") << "\n";
    }

    if (!wait_fds(pid, fds_idle, 5000)) throw std::runtime_error("ping clients' fds not released");
    memory = run_memory(socket, pid, requests, kSampleEvery);
    human << "  memory:   VmRSS " << memory.before_kib << " KiB before " << requests
          << " mixed requests, then every " << kSampleEvery << ":";
    for (const auto& [n, kib] : memory.samples) human << " " << kib;
    human << " KiB (" << fmt("%.2f", memory.wall_s) << " s, otpd cpu "
          << fmt("%.0f", memory.otpd_cpu_ms) << " ms)"
          << (memory.bad ? "; " + std::to_string(memory.bad) + " BAD REPLIES" : "") << "\n";

    if (!wait_fds(pid, fds_idle, 5000)) throw std::runtime_error("memory run's fds not released");
    fan = run_fan_in(socket, pid, fan_in, fds_idle);
    human << "  fan-in:   " << fan.clients << " clients connected in "
          << fmt("%.1f", fan.connect_ms) << " ms, " << fan.answered << " answered within "
          << fmt("%.1f", fan.answer_ms) << " ms; otpd fds " << fan.fds_before << " before, "
          << fan.fds_connected << " connected, " << fan.fds_after << " after ("
          << (fan.release_ms ? "back in " + fmt("%.1f", *fan.release_ms) + " ms"
                             : std::string("NOT back to baseline"))
          << "); otpd's open-files limit " << fan.otpd_nofile << "\n";

    small_end = stop_daemon(small, timeout_s);

    if (big > 0) {
      const std::int64_t t0 = monotonic_ns();
      start_daemon(large, dir.path(), "large", socket, big, timeout_s);
      const double start_s = static_cast<double>(monotonic_ns() - t0) / 1e9;
      status = run_status(socket, large.otpd->pid(), big, status_requests);
      status->start_s = start_s;
      status->ending = stop_daemon(large, timeout_s);
      const auto& s = *status;
      human << "  status:   " << s.children << " children (" << s.running << " running, tree up in "
            << fmt("%.1f", s.start_s) << " s): " << s.reply_bytes << " bytes, first "
            << fmt("%.1f", s.first_ms) << " ms, then " << s.ms.count << " requests: median "
            << fmt("%.2f", s.ms.median) << " ms, p90 " << fmt("%.2f", s.ms.p90) << ", p99 "
            << fmt("%.2f", s.ms.p99) << ", max " << fmt("%.2f", s.ms.max) << "; otpd cpu "
            << fmt("%.2f", s.otpd_cpu_ms / static_cast<double>(s.ms.count)) << " ms per status\n";
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }

  const double load_end = otpd::bench::describe_machine().load1;
  const PingRun& many = pings[1];
  const bool ping_target = clients < 64 || many.rate >= 50'000;
  const bool status_target = !status || status->ms.median < 50;
  // Warm-up (first buffers, malloc's arenas) is allowed before the first
  // sample; after it, the run must not grow.
  const std::uint64_t rss_first = memory.samples.front().second;
  std::uint64_t rss_max = 0;
  for (const auto& sample : memory.samples) rss_max = std::max(rss_max, sample.second);
  const bool rss_flat = rss_max <= rss_first + 64;
  const bool fan_target = fan.answered == fan.clients && fan.release_ms.has_value();
  human << "  ends:     small otpd exit " << small_end.exit_status
        << (small_end.said_stopped ? " after \"stopped\"" : " WITHOUT \"stopped\"");
  if (status) {
    human << "; big otpd exit " << status->ending.exit_status
          << (status->ending.said_stopped ? " after \"stopped\"" : " WITHOUT \"stopped\"") << " in "
          << fmt("%.1f", status->ending.shutdown_s) << " s, " << status->ending.leftovers
          << " children left";
  }
  human << "\n  load:     " << fmt("%.2f", load_end) << " at end\n";
  human << "  targets:  >= 50000 pings/s with 64 clients: "
        << (clients < 64  ? "n/a (fewer clients)"
            : ping_target ? "met"
                          : "MISSED")
        << "; status of 10000 < 50 ms (median): "
        << (!status || big < 10000 ? "n/a"
            : status_target        ? "met"
                                   : "MISSED")
        << "; RSS flat (<= 64 KiB over the samples): " << (rss_flat ? "met" : "MISSED") << "; all "
        << fan.clients << " answered, fds back: " << (fan_target ? "met" : "MISSED") << "\n";

  std::uint64_t bad = memory.bad + static_cast<std::uint64_t>(fan.bad);
  for (const PingRun& p : pings) bad += p.bad;
  const bool clean = bad == 0 && small_end.exit_status == 0 && small_end.said_stopped &&
                     small_end.leftovers == 0 && fan_target &&
                     (!status || (status->ending.exit_status == 0 && status->ending.said_stopped &&
                                  status->ending.leftovers == 0));
  if (json) {
    std::cerr << human.str();
    Json ping_runs = Json::array();
    for (const PingRun& p : pings) {
      ping_runs.push_back({{"clients", p.clients},
                           {"in_flight", p.depth},
                           {"replies", p.replies},
                           {"bad_replies", p.bad},
                           {"wall_s", p.wall_s},
                           {"per_s", p.rate},
                           {"otpd_cpu_ms", p.otpd_cpu_ms},
                           {"otpd_run_queue_wait_ms", p.otpd_wait_ms},
                           {"bench_cpu_ms", p.bench_cpu_ms},
                           {"bench_run_queue_wait_ms", p.bench_wait_ms},
                           {"batch_us", summary_json(p.batch_us)},
                           {"load1", p.load1}});
    }
    Json samples = Json::array();
    for (const auto& [n, kib] : memory.samples)
      samples.push_back({{"requests", n}, {"vm_rss_kib", kib}});
    Json j{
        {"benchmark", "control_throughput"},
        {"machine",
         {{"nproc", machine.nproc},
          {"cpu", machine.cpu_model},
          {"kernel", machine.kernel},
          {"load1_start", machine.load1},
          {"load1_end", load_end}}},
        {"client_threads", threads},
        {"ping", ping_runs},
        {"memory",
         {{"requests", requests},
          {"vm_rss_kib_before", memory.before_kib},
          {"samples", samples},
          {"bad_replies", memory.bad},
          {"wall_s", memory.wall_s},
          {"otpd_cpu_ms", memory.otpd_cpu_ms}}},
        {"fan_in",
         {{"clients", fan.clients},
          {"answered", fan.answered},
          {"bad_replies", fan.bad},
          {"connect_ms", fan.connect_ms},
          {"answer_ms", fan.answer_ms},
          {"fds_idle", fds_idle},
          {"fds_before", fan.fds_before},
          {"fds_connected", fan.fds_connected},
          {"fds_after", fan.fds_after},
          {"release_ms", fan.release_ms ? Json(*fan.release_ms) : Json(nullptr)}}},
        {"status", status ? Json{{"children", status->children},
                                 {"running", status->running},
                                 {"reply_bytes", status->reply_bytes},
                                 {"first_ms", status->first_ms},
                                 {"ms", summary_json(status->ms)},
                                 {"otpd_cpu_ms_per_request",
                                  status->otpd_cpu_ms / static_cast<double>(status->ms.count)},
                                 {"tree_start_s", status->start_s},
                                 {"shutdown_s", status->ending.shutdown_s}}
                          : Json(nullptr)},
        {"targets",
         {{"pings_50000_per_s_with_64_clients", clients < 64 ? Json(nullptr) : Json(ping_target)},
          {"status_10000_under_50ms", !status || big < 10000 ? Json(nullptr) : Json(status_target)},
          {"rss_flat", rss_flat},
          {"fan_in_answered_and_released", fan_target}}}};
    std::cout << j.dump() << "\n";
  } else {
    std::cout << human.str();
  }
  return clean ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return otpd::bench::run_main(argc, argv, "otpd-bench-control", usage, run);
}

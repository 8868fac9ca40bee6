// otpd-bench-http: what the HTTP side costs, measured from outside.
//
//   metrics  GET /metrics on a tree of N idle children: latency per scrape
//            (connect to last byte) and otpd's CPU per scrape.
//   latency  a page's stream (/api/events, as the status page reads it):
//            time from kill(2) of a child to the `node` message saying it
//            no longer runs.
//   pages    otpd's CPU while P pages follow the stream and a child
//            crashes R times a second on its own, against the same
//            without pages.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "http_client.hpp"

namespace {

using otpd::bench::Args;
using otpd::bench::monotonic_ns;

const char* const usage =
    "Usage: otpd-bench-http metrics|latency|pages [options]\n"
    "\n"
    "  metrics  [--children N] [--scrapes R]   GET /metrics on N idle children\n"
    "           (default 10000), R times (default 50)\n"
    "  latency  [--kills K]                    kill(2) to the stream's node message,\n"
    "           K times (default 100)\n"
    "  pages    [--pages P] [--rate R] [--seconds S]   otpd's CPU with P pages\n"
    "           open (default 20) and a child crashing R times a second (default\n"
    "           100) for S seconds (default 10), and with no page open\n";

using otpd::http_test::free_port;

// One GET, its body; throws unless otpd answered 200.
std::string get(int port, const std::string& target) {
  const auto reply = otpd::http_test::get({.port = port}, target);
  if (reply.status != 200) {
    throw std::runtime_error("GET " + target + ": " +
                             (reply.status == 0 ? reply.error : std::to_string(reply.status)));
  }
  return reply.body;
}

// A page's view of the stream: reads what arrives, without blocking.
struct Stream {
  int fd = -1;
  std::string data;

  bool open(int port) {
    fd = otpd::http_test::connect_to({.port = port});
    if (fd < 0) return false;
    const std::string ask = "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    return ::send(fd, ask.data(), ask.size(), MSG_NOSIGNAL) > 0;
  }
  // Reads for up to `ms`; false when the stream ended.
  bool read_for(int ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) != 1) return true;
    char buffer[65536];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0) return false;
    if (n > 0) data.append(buffer, static_cast<std::size_t>(n));
    return true;
  }
  ~Stream() {
    if (fd >= 0) ::close(fd);
  }
};

struct Daemon {
  otpd::bench::TempDir dir;
  int port = free_port();
  std::unique_ptr<otpd::bench::Otpd> otpd;
  std::unique_ptr<otpd::bench::LogTail> log;

  explicit Daemon(const std::string& children_yaml, const std::string& tree_extra = "") {
    const std::string config = dir.path() + "/otpd.yaml";
    otpd::bench::write_file(config, "control: {socket: " + dir.path() +
                                        "/otpd.sock}\n"
                                        "http: {listen: 127.0.0.1:" +
                                        std::to_string(port) +
                                        "}\n"
                                        "logs: {output: discard}\n"
                                        "tree:\n" +
                                        tree_extra + "  children:\n" + children_yaml);
    const std::string log_file = dir.path() + "/otpd.log";
    otpd = std::make_unique<otpd::bench::Otpd>(OTPD_BENCH_OTPD, config, log_file, dir.path());
    log = std::make_unique<otpd::bench::LogTail>(log_file);
  }
  bool wait_started(int timeout_s) {
    const auto deadline = monotonic_ns() + static_cast<std::int64_t>(timeout_s) * 1'000'000'000;
    while (monotonic_ns() < deadline && !otpd::bench::interrupted() && otpd->running()) {
      for (const auto& line : log->read_new()) {
        if (otpd::bench::is_message(line, "tree started")) return true;
      }
      otpd::bench::sleep_ms(50);
    }
    return false;
  }
  std::uint64_t cpu_ticks() const {
    const auto stat = otpd::bench::read_proc_stat(otpd->pid());
    return stat ? stat->cpu_ticks : 0;
  }
  ~Daemon() {
    if (otpd && !otpd->stop(120000)) otpd->kill_all(log->all());
  }
};

std::string idle_children(int n) {
  std::string yaml;
  for (int i = 0; i < n; ++i) {
    yaml += "    - {name: c" + std::to_string(i) + ", command: [" OTPD_BENCH_IDLE "]}\n";
  }
  return yaml;
}

// The pid of the newest "started" of `path` in the stream, or 0.
int last_pid(const std::string& stream, const std::string& path) {
  const std::string mark = "\"path\":\"" + path + "\",\"event\":\"started\",\"pid\":";
  const auto at = stream.rfind(mark);
  return at == std::string::npos ? 0 : std::atoi(stream.c_str() + at + mark.size());
}

// The pid of the running child `name` of the root, as /api/tree has it.
int pid_in_tree(int port, const std::string& name) {
  const auto tree = get(port, "/api/tree");
  const auto at = tree.find("\"name\":\"" + name + "\"");
  const auto p = tree.find("\"pid\":", at);
  if (at == std::string::npos || p == std::string::npos) throw std::runtime_error("no pid");
  return std::atoi(tree.c_str() + p + 6);
}

void print_machine() {
  const auto machine = otpd::bench::describe_machine();
  std::cout << "  machine: " << machine.nproc << " x " << machine.cpu_model << ", "
            << machine.kernel << ", load " << machine.load1 << "\n";
}

std::string ms(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f ms", value);
  return text;
}

int bench_metrics(Args& args) {
  const int n = static_cast<int>(args.number("--children", 10000, 1, 100000));
  const int scrapes = static_cast<int>(args.number("--scrapes", 50, 1, 100000));
  Daemon d(idle_children(n));
  if (!d.wait_started(600)) throw std::runtime_error("otpd did not start the tree");
  std::vector<double> times;
  std::size_t bytes = 0;
  const std::uint64_t before = d.cpu_ticks();
  for (int i = 0; i < scrapes && !otpd::bench::interrupted(); ++i) {
    const auto t0 = monotonic_ns();
    const std::string metrics = get(d.port, "/metrics");
    times.push_back(static_cast<double>(monotonic_ns() - t0) / 1e6);
    bytes = metrics.size();
  }
  const double cpu_ms = otpd::bench::ticks_to_ms(d.cpu_ticks() - before) / scrapes;
  const auto s = otpd::bench::summarize(times);
  std::cout << "otpd /metrics: " << n << " children, " << scrapes << " scrapes, " << bytes
            << " bytes of exposition each\n";
  print_machine();
  std::cout << "  latency: median " << ms(s.median) << ", p90 " << ms(s.p90) << ", max "
            << ms(s.max) << "\n  otpd cpu per scrape: " << ms(cpu_ms) << "\n";
  return 0;
}

int bench_latency(Args& args) {
  const int kills = static_cast<int>(args.number("--kills", 100, 1, 100000));
  Daemon d(idle_children(10), "  intensity: 1000000\n  period: 1s\n");
  if (!d.wait_started(60)) throw std::runtime_error("otpd did not start the tree");
  Stream stream;
  if (!stream.open(d.port)) throw std::runtime_error("no stream");
  while (stream.data.find("event: tree") == std::string::npos) stream.read_for(100);
  std::vector<double> times;
  for (int i = 0; i < kills && !otpd::bench::interrupted(); ++i) {
    const int pid = pid_in_tree(d.port, "c0");
    stream.data.clear();
    const auto t0 = monotonic_ns();
    ::kill(pid, SIGKILL);
    const std::string wanted =
        "event: node\ndata: {\"path\":\"c0\",\"name\":\"c0\",\"kind\":\"process\","
        "\"state\":\"exited\"";
    for (;;) {
      if (!stream.read_for(1000)) throw std::runtime_error("stream ended");
      const auto found = stream.data.find(wanted);
      if (found != std::string::npos && stream.data.find("\n\n", found) != std::string::npos) break;
      if (monotonic_ns() - t0 > 5'000'000'000) throw std::runtime_error("no node message");
    }
    times.push_back(static_cast<double>(monotonic_ns() - t0) / 1e6);
    // Until the child runs again, so that every kill finds a running one.
    while (last_pid(stream.data, "c0") == 0) stream.read_for(100);
  }
  const auto s = otpd::bench::summarize(times);
  std::cout << "otpd page stream: kill(2) to the child's node message, " << times.size()
            << " kills\n";
  print_machine();
  std::cout << "  latency: min " << ms(s.min) << ", median " << ms(s.median) << ", p90 "
            << ms(s.p90) << ", p99 " << ms(s.p99) << ", max " << ms(s.max) << "\n";
  return 0;
}

// A counter's value in a /metrics answer, or -1.
double metric_value(const std::string& metrics, const std::string& sample) {
  const auto at = metrics.find("\n" + sample + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(metrics.c_str() + at + sample.size() + 2, nullptr);
}

double exits_so_far(int port) {
  return metric_value(get(port, "/metrics"), "otpd_events_total{kind=\"exited\"}");
}

struct CrashRun {
  double cpu_percent = 0;  // of one core
  double crashes_per_second = 0;
  std::size_t bytes_streamed = 0;
};

// otpd's CPU over `seconds` while a child that exits on every tick of
// 1000/rate ms (otpd-bench-tick-crasher) is restarted at once, with `pages`
// streams open that read everything as the page does.
CrashRun crash_run(int pages, int rate, int seconds) {
  const int period_ms = std::max(1, 1000 / rate);
  // The state file is in otpd's scratch directory: its cwd.
  const std::string children = "    - {name: crashy, command: [" OTPD_BENCH_TICK_CRASHER ", \"" +
                               std::to_string(period_ms) + "\", ticks]}\n" + idle_children(20);
  // No backoff (the default) and an intensity no crash rate reaches.
  Daemon d(children, "  intensity: 1000000\n  period: 1s\n");
  if (!d.wait_started(60)) throw std::runtime_error("otpd did not start the tree");
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < pages; ++i) {
    streams.push_back(std::make_unique<Stream>());
    if (!streams.back()->open(d.port)) throw std::runtime_error("no stream");
  }
  std::vector<pollfd> polled;
  for (const auto& stream : streams) polled.push_back({stream->fd, POLLIN, 0});
  // A second for the streams to open and the crashes to settle.
  const auto settle = monotonic_ns() + 1'000'000'000;
  while (monotonic_ns() < settle) {
    for (auto& stream : streams) stream->read_for(0);
    otpd::bench::sleep_ms(10);
  }
  const double exits_before = exits_so_far(d.port);
  const std::uint64_t before = d.cpu_ticks();
  const auto t0 = monotonic_ns();
  while (monotonic_ns() - t0 < static_cast<std::int64_t>(seconds) * 1'000'000'000 &&
         !otpd::bench::interrupted()) {
    if (polled.empty()) {
      otpd::bench::sleep_ms(100);
      continue;
    }
    if (::poll(polled.data(), polled.size(), 100) <= 0) continue;
    for (std::size_t i = 0; i < polled.size(); ++i) {
      if (polled[i].revents == 0) continue;
      if (!streams[i]->read_for(0)) throw std::runtime_error("a stream ended");
    }
  }
  const double elapsed_ms = static_cast<double>(monotonic_ns() - t0) / 1e6;
  const double cpu_ms = otpd::bench::ticks_to_ms(d.cpu_ticks() - before);
  const double exits_after = exits_so_far(d.port);
  CrashRun run;
  run.cpu_percent = 100.0 * cpu_ms / elapsed_ms;
  run.crashes_per_second = (exits_after - exits_before) * 1000.0 / elapsed_ms;
  for (auto& stream : streams) run.bytes_streamed += stream->data.size();
  return run;
}

int bench_pages(Args& args) {
  const int pages = static_cast<int>(args.number("--pages", 20, 0, 1000));
  const int rate = static_cast<int>(args.number("--rate", 100, 1, 1000));
  const int seconds = static_cast<int>(args.number("--seconds", 10, 1, 3600));
  const CrashRun without = crash_run(0, rate, seconds);
  const CrashRun with = crash_run(pages, rate, seconds);
  std::cout << "otpd CPU with a child crashing " << rate << " times a second (asked) for "
            << seconds << " s\n";
  print_machine();
  char line[256];
  std::snprintf(line, sizeof line, "  no page open:  %.1f%% of a core, %.1f crashes a second\n",
                without.cpu_percent, without.crashes_per_second);
  std::cout << line;
  std::snprintf(line, sizeof line,
                "  %d pages open: %.1f%% of a core, %.1f crashes a second, %zu bytes streamed\n",
                pages, with.cpu_percent, with.crashes_per_second, with.bytes_streamed);
  std::cout << line;
  return 0;
}

int run(Args& args) {
  otpd::bench::install_interrupt_handlers();
  otpd::bench::become_subreaper();
  if (args.flag("metrics")) return bench_metrics(args);
  if (args.flag("latency")) return bench_latency(args);
  if (args.flag("pages")) return bench_pages(args);
  std::cerr << usage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  return otpd::bench::run_main(argc, argv, "otpd-bench-http", usage, run);
}

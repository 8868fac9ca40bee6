// otpd-bench-output: what capturing children's output costs, and whether
// the supervisor stays responsive while children write as fast as they can.
//
// Capture: N children each write BYTES of 100-byte lines as fast as their
// pipe takes them; the figure is MB/s of child output from otpd's exec
// until the last line is in place (a child's file, or otpd's own log), for
// `output: file` and `output: log` (both also fill the in-memory buffer).
// Responsiveness: with K children writing without end into files, the
// round-trip time of `ping` on the control socket, and the restart gap of
// another child that crashes in a loop (as measured by that child itself,
// see crasher.c), against the same figures without the writers.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.hpp"

namespace {

using otpd::bench::monotonic_ns;
using Json = nlohmann::ordered_json;

const char* const usage =
    "Usage: otpd-bench-output [--bytes MB] [--writers K] [--pings N]\n"
    "                         [--load-seconds S] [--timeout SECONDS] [--json]\n"
    "\n"
    "Capture: one child, then K children (default 4) sharing the same total,\n"
    "write MB megabytes (default 200) of 100-byte lines; reports MB/s of child\n"
    "output captured into files and into otpd's log. Responsiveness: with K\n"
    "children writing without end, N pings (default 2000) on the control\n"
    "socket and the restarts of a crashing child over S seconds (default 5),\n"
    "compared with the same without the writers.\n";

constexpr const char* kMarker = "spew-end";

// Counts the marker in what is appended to a file, reading only new bytes.
class MarkerCount {
 public:
  explicit MarkerCount(std::string path) : path_(std::move(path)) {}
  int scan() {
    const int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return found_;
    std::vector<char> buffer(1 << 20);
    for (;;) {
      const ssize_t n = pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(offset_));
      if (n <= 0) break;
      offset_ += static_cast<std::uint64_t>(n);
      carry_.append(buffer.data(), static_cast<std::size_t>(n));
      for (std::size_t at = carry_.find(kMarker); at != std::string::npos;
           at = carry_.find(kMarker, at + 1)) {
        ++found_;
      }
      const std::size_t keep = std::strlen(kMarker) - 1;
      if (carry_.size() > keep) carry_.erase(0, carry_.size() - keep);
    }
    close(fd);
    return found_;
  }

 private:
  std::string path_;
  std::uint64_t offset_ = 0;
  std::string carry_;
  int found_ = 0;
};

std::string config_yaml(const std::string& dir, const std::string& mode, int children,
                        long long bytes_each, bool with_crasher) {
  std::ostringstream y;
  y << "control:\n  socket: " << dir << "/otpd.sock\n"
    << "logs:\n  dir: " << dir
    << "/logs\n  max_size: " << (mode == "file" && bytes_each == 0 ? "64MiB" : "1G")
    << "\n  keep: 1\n"
    << "tree:\n  intensity: 100000\n  period: 1s\n  children:\n";
  for (int i = 0; i < children; ++i) {
    y << "    - name: w" << i << "\n      output: " << mode << "\n      command: ['"
      << OTPD_BENCH_SPEW << "', '" << bytes_each << "']\n      shutdown: brutal_kill\n";
  }
  if (with_crasher) {
    y << "    - name: crasher\n      output: discard\n      command: ['" << OTPD_BENCH_CRASHER
      << "', '" << dir << "/stamps']\n      shutdown: brutal_kill\n";
  }
  return y.str();
}

struct Capture {
  std::string mode;
  int children = 0;
  double seconds = 0;
  double mb_per_s = 0;
};

Capture run_capture(const std::string& mode, int children, long long total_bytes, int timeout_s) {
  otpd::bench::TempDir dir;
  const long long each = total_bytes / children;
  const std::string config = dir.path() + "/otpd.yaml";
  otpd::bench::write_file(config, config_yaml(dir.path(), mode, children, each, false));
  const std::string log = dir.path() + "/otpd.log";
  otpd::bench::Otpd otpd(OTPD_BENCH_OTPD, config, log, dir.path());
  std::vector<MarkerCount> counts;
  if (mode == "file") {
    for (int i = 0; i < children; ++i) {
      counts.emplace_back(dir.path() + "/logs/w" + std::to_string(i) + ".log");
    }
  } else {
    counts.emplace_back(log);
  }
  const std::int64_t deadline = otpd.started_ns() + std::int64_t{timeout_s} * 1'000'000'000;
  for (;;) {
    int done = 0;
    for (MarkerCount& c : counts) done += c.scan();
    if (done >= children) break;
    if (monotonic_ns() > deadline || otpd::bench::interrupted() || !otpd.running()) {
      throw std::runtime_error(mode + " capture with " + std::to_string(children) +
                               " children did not finish in time");
    }
    otpd::bench::sleep_ms(2);
  }
  Capture c;
  c.mode = mode;
  c.children = children;
  c.seconds = static_cast<double>(monotonic_ns() - otpd.started_ns()) / 1e9;
  c.mb_per_s = static_cast<double>(each * children) / 1e6 / c.seconds;
  otpd.stop(timeout_s * 1000);
  return c;
}

// A minimal protocol client: hello, then pings one at a time.
class Pinger {
 public:
  explicit Pinger(const std::string& socket) {
    for (int attempt = 0; attempt < 500 && fd_ < 0; ++attempt) {
      const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket.c_str());
      if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
        fd_ = fd;
      } else {
        close(fd);
        otpd::bench::sleep_ms(10);
      }
    }
    if (fd_ < 0) throw std::runtime_error("cannot connect to " + socket);
    request("{\"id\":0,\"cmd\":\"hello\",\"protocol\":1}\n");
  }
  ~Pinger() {
    if (fd_ >= 0) close(fd_);
  }
  double ping_ms() {
    const std::int64_t t0 = monotonic_ns();
    request("{\"id\":1,\"cmd\":\"ping\"}\n");
    return static_cast<double>(monotonic_ns() - t0) / 1e6;
  }

 private:
  void request(const std::string& line) {
    if (write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      throw std::runtime_error("write to otpd failed");
    }
    char c = 0;
    for (;;) {
      const ssize_t n = read(fd_, &c, 1);
      if (n <= 0) throw std::runtime_error("otpd closed the connection");
      if (c == '\n') return;
    }
  }
  int fd_ = -1;
};

struct Load {
  int writers = 0;
  otpd::bench::Summary ping_ms;
  otpd::bench::Summary restart_gap_ms;
  std::size_t restarts = 0;
  double captured_mb_per_s = 0;
};

std::vector<double> restart_gaps(const std::string& stamps) {
  std::ifstream in(stamps);
  std::vector<double> gaps;
  std::string tag;
  std::uint64_t ns = 0;
  std::uint64_t last_exit = 0;
  while (in >> tag >> ns) {
    if (tag == "exit") last_exit = ns;
    if (tag == "start" && last_exit != 0) gaps.push_back(static_cast<double>(ns - last_exit) / 1e6);
  }
  return gaps;
}

std::uint64_t bytes_in(const std::string& dir) {
  std::uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    total += entry.file_size(error);
  }
  return total;
}

Load run_load(int writers, int pings, int seconds, int timeout_s) {
  otpd::bench::TempDir dir;
  const std::string config = dir.path() + "/otpd.yaml";
  otpd::bench::write_file(config, config_yaml(dir.path(), "file", writers, 0, true));
  otpd::bench::Otpd otpd(OTPD_BENCH_OTPD, config, dir.path() + "/otpd.log", dir.path());
  Pinger pinger(dir.path() + "/otpd.sock");
  const std::int64_t t0 = monotonic_ns();
  std::vector<double> ping_ms;
  const std::int64_t until = t0 + std::int64_t{seconds} * 1'000'000'000;
  // Pings spread over the whole window, so that they meet the writers.
  const std::int64_t spacing = std::int64_t{seconds} * 1'000'000'000 / std::max(pings, 1);
  for (int i = 0; i < pings && !otpd::bench::interrupted(); ++i) {
    ping_ms.push_back(pinger.ping_ms());
    while (monotonic_ns() < t0 + spacing * (i + 1)) otpd::bench::sleep_ms(1);
  }
  while (monotonic_ns() < until && !otpd::bench::interrupted()) otpd::bench::sleep_ms(10);
  const double elapsed = static_cast<double>(monotonic_ns() - t0) / 1e9;
  Load load;
  load.writers = writers;
  load.captured_mb_per_s = static_cast<double>(bytes_in(dir.path() + "/logs")) / 1e6 / elapsed;
  otpd.stop(timeout_s * 1000);
  const auto gaps = restart_gaps(dir.path() + "/stamps");
  load.restarts = gaps.size();
  load.ping_ms = otpd::bench::summarize(ping_ms);
  load.restart_gap_ms = otpd::bench::summarize(gaps);
  return load;
}

Json summary_json(const otpd::bench::Summary& s) {
  return {{"count", s.count}, {"median", s.median}, {"p90", s.p90}, {"p99", s.p99}, {"max", s.max}};
}

int run(otpd::bench::Args& args) {
  const long long mb = args.number("--bytes", 200, 1, 100000);
  const int writers = static_cast<int>(args.number("--writers", 4, 1, 256));
  const int pings = static_cast<int>(args.number("--pings", 2000, 1, 10'000'000));
  const int load_s = static_cast<int>(args.number("--load-seconds", 5, 1, 3600));
  const int timeout_s = static_cast<int>(args.number("--timeout", 300, 1, 86400));
  const bool json = args.flag("--json");
  if (!args.rest().empty()) throw std::runtime_error("unknown argument " + args.rest().front());
  otpd::bench::install_interrupt_handlers();
  otpd::bench::become_subreaper();

  const long long bytes = mb * 1'000'000;
  std::vector<Capture> captures;
  for (const char* mode : {"file", "log"}) {
    captures.push_back(run_capture(mode, 1, bytes, timeout_s));
    captures.push_back(run_capture(mode, writers, bytes, timeout_s));
  }
  const Load quiet = run_load(0, pings, load_s, timeout_s);
  const Load busy = run_load(writers, pings, load_s, timeout_s);

  const auto machine = otpd::bench::describe_machine();
  Json out;
  out["machine"] = {{"nproc", machine.nproc},
                    {"cpu", machine.cpu_model},
                    {"kernel", machine.kernel},
                    {"load1", machine.load1}};
  for (const Capture& c : captures) {
    out["capture"].push_back({{"output", c.mode},
                              {"children", c.children},
                              {"seconds", c.seconds},
                              {"mb_per_s", c.mb_per_s}});
  }
  for (const Load* l : {&quiet, &busy}) {
    out["responsiveness"].push_back({{"writers", l->writers},
                                     {"captured_mb_per_s", l->captured_mb_per_s},
                                     {"ping_ms", summary_json(l->ping_ms)},
                                     {"restart_gap_ms", summary_json(l->restart_gap_ms)}});
  }
  if (json) std::cout << out.dump() << "\n";
  std::ostream& text = json ? std::cerr : std::cout;
  char line[256];
  text << "machine: " << machine.nproc << " cpu, " << machine.cpu_model << ", load "
       << machine.load1 << "\n";
  for (const Capture& c : captures) {
    std::snprintf(line, sizeof line,
                  "capture  output: %-4s  %3d child(ren)  %7.1f MB/s  (%lld MB in %.2f s)\n",
                  c.mode.c_str(), c.children, c.mb_per_s, mb, c.seconds);
    text << line;
  }
  for (const Load* l : {&quiet, &busy}) {
    std::snprintf(line, sizeof line,
                  "%d writer(s) (%.0f MB/s into files): ping median %.3f ms p99 %.3f ms max "
                  "%.3f ms; %zu restarts of another child, gap median %.2f ms p99 %.2f ms max "
                  "%.2f ms\n",
                  l->writers, l->captured_mb_per_s, l->ping_ms.median, l->ping_ms.p99,
                  l->ping_ms.max, l->restart_gap_ms.count, l->restart_gap_ms.median,
                  l->restart_gap_ms.p99, l->restart_gap_ms.max);
    text << line;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return otpd::bench::run_main(argc, argv, "otpd-bench-output", usage, run);
}

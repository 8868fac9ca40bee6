// otpd-bench-runtime: in-process workers side by side with Erlang/OTP.
// The same workloads run on otpd's runtime and, when Debian's erlang-base
// is installed, on the BEAM (bench/beam_workloads.erl), in one run; the
// table gives both and their ratio.
//
//   otpd-bench-runtime [--casts N] [--calls N] [--threads N] [--no-beam]
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/gen_server.hpp"

using namespace otpd::runtime;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  long casts = 10'000'000;
  int calls = 1'000'000;
  unsigned threads = 2;
  bool beam = true;
};

// A loaded machine makes a run slow, not wrong.
constexpr std::chrono::milliseconds kBenchTimeout = std::chrono::minutes(10);

struct Counter : GenServer<Counter> {
  long hits = 0;
  void hit() { ++hits; }
  long count() const { return hits; }
};

// Starts the counter from its own handler, so that both share a thread as
// two processes spawned by one another do on the BEAM's scheduler.
struct Driver : GenServer<Driver> {
  Server<Counter> counter;
  void init() { counter = start<Counter>(scheduler()); }

  Async<double> cast_seconds(long n) {
    const auto t0 = Clock::now();
    for (long i = 0; i < n; ++i) counter.cast(&Counter::hit);
    const long counted = co_await counter.call_within(kBenchTimeout, &Counter::count);
    if (counted < n) throw std::runtime_error("casts lost");
    co_return std::chrono::duration<double>(Clock::now() - t0).count();
  }

  Async<std::vector<double>> call_ns(int n) {
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      co_await counter.call(&Counter::count);
      samples.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
    }
    co_return samples;
  }
};

struct Figures {
  double casts_per_s = 0;
  double call_median_ns = 0;
  double call_p99_ns = 0;
};

double percentile(std::vector<double>& sorted, double p) {
  return sorted[static_cast<std::size_t>(static_cast<double>(sorted.size() - 1) * p)];
}

Figures run_otpd(const Options& options) {
  Scheduler scheduler(options.threads);
  auto driver = start<Driver>(scheduler);
  Figures f;
  const double seconds =
      driver.call_blocking_within(kBenchTimeout, &Driver::cast_seconds, options.casts);
  f.casts_per_s = static_cast<double>(options.casts) / seconds;
  auto samples = driver.call_blocking_within(kBenchTimeout, &Driver::call_ns, options.calls);
  std::sort(samples.begin(), samples.end());
  f.call_median_ns = percentile(samples, 0.5);
  f.call_p99_ns = percentile(samples, 0.99);
  return f;
}

// Runs the BEAM side; false when Erlang is not installed.
bool run_beam(const Options& options, Figures& f) {
  if (access(OTPD_BENCH_BEAM_DIR "/beam_workloads.beam", R_OK) != 0) return false;
  const std::string command = "erl -noshell +S " + std::to_string(options.threads) +
                              " -pa " OTPD_BENCH_BEAM_DIR " -eval 'beam_workloads:main([\"" +
                              std::to_string(options.casts) + "\",\"" +
                              std::to_string(options.calls) + "\"])'";
  FILE* out = popen(command.c_str(), "r");
  if (out == nullptr) return false;
  char line[512];
  bool any = false;
  while (std::fgets(line, sizeof line, out) != nullptr) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (j["workload"] == "cast") {
      f.casts_per_s = j["messages"].get<double>() / (j["ns"].get<double>() / 1e9);
      any = true;
    } else if (j["workload"] == "call") {
      f.call_median_ns = j["median_ns"].get<double>();
      f.call_p99_ns = j["p99_ns"].get<double>();
    }
  }
  return pclose(out) == 0 && any;
}

void row(const char* what, double otpd, double beam, bool have_beam, const char* unit,
         bool higher_is_better) {
  if (!have_beam) {
    std::printf("%-28s %14.2f %-8s\n", what, otpd, unit);
    return;
  }
  const double ratio = higher_is_better ? otpd / beam : beam / otpd;
  std::printf("%-28s %14.2f %14.2f %-8s %6.2fx\n", what, otpd, beam, unit, ratio);
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&] { return i + 1 < argc ? argv[++i] : "0"; };
    if (arg == "--casts") {
      options.casts = std::atol(value());
    } else if (arg == "--calls") {
      options.calls = std::atoi(value());
    } else if (arg == "--threads") {
      options.threads = static_cast<unsigned>(std::atoi(value()));
    } else if (arg == "--no-beam") {
      options.beam = false;
    } else {
      std::fprintf(stderr, "usage: %s [--casts N] [--calls N] [--threads N] [--no-beam]\n",
                   argv[0]);
      return 2;
    }
  }
  const Figures otpd = run_otpd(options);
  Figures beam;
  const bool have_beam = options.beam && run_beam(options, beam);
  if (options.beam && !have_beam) {
    std::fprintf(stderr, "no BEAM figures: install erlang-base and rebuild (erlc is needed)\n");
  }
  std::printf("%-28s %14s %14s %-8s %7s\n", "workload", "otpd", have_beam ? "BEAM" : "", "unit",
              have_beam ? "ratio" : "");
  row("cast throughput, 1 server", otpd.casts_per_s / 1e6, beam.casts_per_s / 1e6, have_beam,
      "M msg/s", true);
  row("call round trip, median", otpd.call_median_ns / 1e3, beam.call_median_ns / 1e3, have_beam,
      "us", false);
  row("call round trip, p99", otpd.call_p99_ns / 1e3, beam.call_p99_ns / 1e3, have_beam, "us",
      false);
  return 0;
}

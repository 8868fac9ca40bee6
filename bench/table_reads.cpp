// otpd-bench-table: concurrent reads of a Table (runtime/table.hpp), in ns
// per lookup with 1 and 2 reading threads, for a set and an ordered_set,
// and the same on an ETS table (read_concurrency) when erlc was found at
// build time (Debian's erlang-base).
//
//   otpd-bench-table [--lookups N] [--keys N] [--no-beam]
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "runtime/gen_server.hpp"
#include "runtime/table.hpp"

using namespace otpd::runtime;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  long lookups = 5'000'000;  // per thread
  long keys = 1000;
  bool beam = true;
};

template <TableKind kind>
struct Owner : GenServer<Owner<kind>> {
  Table<long, long, kind> table;
  void fill(long keys) {
    table = Table<long, long, kind>::create("bench");
    for (long k = 0; k < keys; ++k) table.insert(k, k * 2);
  }
  Table<long, long, kind> get() const { return table; }
};

double thread_cpu_ns() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec);
}

struct PerLookup {
  double wall_ns = 0;
  double cpu_ns = 0;  // unlike wall time, not inflated by a loaded machine
};

// Each of `threads` threads looks up `lookups` keys; the mean over threads
// of its time per lookup.
template <typename Lookup>
PerLookup per_lookup(int threads, const Options& options, Lookup lookup) {
  std::vector<PerLookup> each(static_cast<std::size_t>(threads));
  std::vector<std::thread> readers;
  for (int t = 0; t < threads; ++t) {
    readers.emplace_back([&, t] {
      long sum = 0;
      const auto t0 = Clock::now();
      const double cpu0 = thread_cpu_ns();
      for (long i = 0; i < options.lookups; ++i) sum += lookup((i * 7 + t) % options.keys);
      const double n = static_cast<double>(options.lookups);
      each[static_cast<std::size_t>(t)] = {
          .wall_ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / n,
          .cpu_ns = (thread_cpu_ns() - cpu0) / n};
      if (sum == -1) std::puts("");  // keeps the loop from being optimised away
    });
  }
  for (auto& reader : readers) reader.join();
  PerLookup mean;
  for (const PerLookup& one : each) {
    mean.wall_ns += one.wall_ns / threads;
    mean.cpu_ns += one.cpu_ns / threads;
  }
  return mean;
}

template <TableKind kind>
void run_table(const char* label, Scheduler& scheduler, const Options& options) {
  auto owner = start<Owner<kind>>(scheduler);
  owner.call_blocking(&Owner<kind>::fill, options.keys);
  const auto table = owner.call_blocking(&Owner<kind>::get);
  for (int threads : {1, 2}) {
    const PerLookup ns =
        per_lookup(threads, options, [&](long key) { return table.lookup(key).value_or(0); });
    std::printf("%-26s %7d %12.1f %12.1f\n", label, threads, ns.wall_ns, ns.cpu_ns);
  }
  owner.stop();
}

// The same reads on ETS (bench/beam_tables.erl), timed inside the BEAM.
void run_beam(const Options& options) {
  if (access(OTPD_BENCH_BEAM_DIR "/beam_tables.beam", R_OK) != 0) {
    std::printf(
        "(no ETS figures: erlc was not found at build time; apt-get install erlang-base)\n");
    return;
  }
  const std::string command = "erl -noshell +S 2 -pa " OTPD_BENCH_BEAM_DIR
                              " -run beam_tables main " +
                              std::to_string(options.lookups) + " " + std::to_string(options.keys);
  std::fflush(stdout);
  if (std::system(command.c_str()) != 0) std::printf("(the ETS side failed to run)\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--lookups") == 0 && i + 1 < argc) {
      options.lookups = std::atol(argv[++i]);
    } else if (std::strcmp(argv[i], "--keys") == 0 && i + 1 < argc) {
      options.keys = std::atol(argv[++i]);
    } else if (std::strcmp(argv[i], "--no-beam") == 0) {
      options.beam = false;
    } else if (std::strcmp(argv[i], "--help") == 0) {
      std::printf("usage: otpd-bench-table [--lookups N] [--keys N] [--no-beam]\n");
      return 0;
    } else {
      std::fprintf(stderr, "usage: otpd-bench-table [--lookups N] [--keys N] [--no-beam]\n");
      return 2;
    }
  }
  if (options.lookups <= 0 || options.keys <= 0) {
    std::fprintf(stderr, "otpd-bench-table: --lookups and --keys must be positive\n");
    return 2;
  }
  std::printf("%ld lookups per thread over %ld keys; ns per lookup, mean over threads\n",
              options.lookups, options.keys);
  std::printf("%-26s %7s %12s %12s\n", "table", "threads", "wall ns", "CPU ns");
  Scheduler scheduler(1);
  run_table<TableKind::set>("Table set", scheduler, options);
  run_table<TableKind::ordered_set>("Table ordered_set", scheduler, options);
  if (options.beam) run_beam(options);
  return 0;
}

// otpd-bench-runtime: in-process workers side by side with Erlang/OTP.
// The same workloads run on otpd's runtime and, when Debian's erlang-base
// is installed, on the BEAM (bench/beam_workloads.erl), in one run; the
// table gives both and their ratio.
//
//   otpd-bench-runtime [--casts N] [--calls N] [--remote-calls N] [--tasks N]
//                      [--spawns N] [--restarts N] [--engine-restarts N]
//                      [--engine-spawns N] [--window I/P]
//                      [--idle-seconds S] [--threads N] [--no-beam]
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "runtime/dynamic_supervisor.hpp"
#include "runtime/gen_server.hpp"
#include "runtime/supervisor.hpp"
#include "runtime/task.hpp"
#include "supervise/engine_process.hpp"

using namespace otpd::runtime;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  long casts = 10'000'000;
  int calls = 1'000'000;
  int remote_calls = 1'000'000;
  int tasks = 100'000;
  int spawns = 100'000;
  int restarts = 100'000;
  // The same restarts with the supervisor engine of the tree as the
  // supervisor, running as a runtime process (supervise::EngineProcess).
  int engine_restarts = 0;
  // Spawns under a dynamic supervisor of the engine, as --spawns does under
  // the runtime's DynamicSupervisor.
  int engine_spawns = 0;
  // The restart intensity of the restart workload's supervisors: each one
  // sees `intensity` restarts within its `period` (seconds), then is
  // replaced by a fresh one, so that no supervisor gives up and none keeps
  // a longer record of restarts than a user's would.
  int intensity = 3;
  int period = 5;
  double idle_seconds = 2;
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

  Async<std::vector<double>> call_ns(int n) { return time_calls(counter, n); }

  // Calls to a counter on another thread of the pool.
  Async<std::vector<double>> remote_call_ns(Server<Counter> remote, int n) {
    return time_calls(remote, n);
  }

  static Async<std::vector<double>> time_calls(Server<Counter> server, int n) {
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      co_await server.call(&Counter::count);
      samples.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
    }
    co_return samples;
  }

  // A task running a plain function, awaited: Task.async + Task.await.
  Async<std::vector<double>> task_ns(int n) {
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(n));
    long sum = 0;
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      sum += co_await async([i] { return static_cast<long>(i); }).await();
      samples.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
    }
    if (sum != static_cast<long>(n) * (n - 1) / 2) throw std::runtime_error("tasks lost");
    co_return samples;
  }
};

struct Figures {
  double casts_per_s = 0;
  double call_median_ns = 0;
  double call_p99_ns = 0;
  double remote_call_median_ns = 0;
  double remote_call_p99_ns = 0;
  double task_median_ns = 0;
  double task_p99_ns = 0;
  double spawn_seconds = 0;
  double spawns_per_s = 0;
  double rss_per_worker = 0;   // bytes
  double heap_per_worker = 0;  // bytes: malloc'd heap; on the BEAM, erlang:memory(total)
  double idle_cpu_seconds = 0;
  double restart_median_ns = 0;
  double restart_p99_ns = 0;
  double engine_spawns_per_s = 0;
  double engine_heap_per_worker = 0;
  double engine_restart_median_ns = 0;
  double engine_restart_p99_ns = 0;
};

double percentile(std::vector<double>& sorted, double p) {
  return sorted[static_cast<std::size_t>(static_cast<double>(sorted.size() - 1) * p)];
}

long rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0;
  long resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// --- spawning idle workers under a dynamic supervisor ------------------------------

struct IdleWorker : GenServer<IdleWorker> {};

struct SpawnFigures {
  double seconds = 0;
  long rss_delta = 0;
  long heap_delta = 0;
};

// Starts the dynamic supervisor from its own handler, so that the two share
// a thread (as on the BEAM, where a spawned process starts on its spawner's
// scheduler), and calls start_child N times, one after the other.
struct Spawner : GenServer<Spawner> {
  DynamicSupervisor supervisor;
  void init() { supervisor = DynamicSupervisor::start_link(); }

  Async<SpawnFigures> spawn(int n) {
    const ChildSpec spec{.start = [] { return start_link<IdleWorker>().pid(); }};
    SpawnFigures f;
    const long rss0 = rss_bytes();
    const auto heap0 = static_cast<long>(mallinfo2().uordblks);
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) co_await supervisor.start_child(spec);
    f.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    f.rss_delta = rss_bytes() - rss0;
    f.heap_delta = static_cast<long>(mallinfo2().uordblks) - heap0;
    co_return f;
  }

  Async<std::size_t> stop_all() {
    const ChildCounts counts = co_await supervisor.count_children();
    co_await supervisor.stop();
    co_return counts.active;
  }
};

// --- restart latency under one_for_one -----------------------------------------------

// Shared by the incarnations of the crasher, all on the supervisor's thread.
struct RestartLog {
  int left = 0;
  Clock::time_point crashed_at{};
  std::vector<double> samples;
  std::promise<void> done;
};

// Each incarnation notes when its init runs, then crashes (an exception
// escapes a handler) until the log has its count.
class Crasher : public GenServer<Crasher> {
 public:
  explicit Crasher(RestartLog& log) : log_(log) {}
  void init() {
    if (log_.crashed_at != Clock::time_point{}) {
      log_.samples.push_back(
          std::chrono::duration<double, std::nano>(Clock::now() - log_.crashed_at).count());
    }
    if (log_.left-- > 0) {
      server().cast(&Crasher::crash);
    } else {
      log_.done.set_value();
    }
  }
  void crash() {
    log_.crashed_at = Clock::now();
    throw std::runtime_error("crash");
  }

 private:
  RestartLog& log_;
};

void run_spawns(const Options& options, Figures& f) {
  Scheduler scheduler(options.threads);
  auto spawner = start<Spawner>(scheduler);
  const SpawnFigures spawned =
      spawner.call_blocking_within(kBenchTimeout, &Spawner::spawn, options.spawns);
  f.spawn_seconds = spawned.seconds;
  f.spawns_per_s = options.spawns / spawned.seconds;
  f.rss_per_worker = static_cast<double>(spawned.rss_delta) / options.spawns;
  f.heap_per_worker = static_cast<double>(spawned.heap_delta) / options.spawns;
  std::fprintf(stderr,
               "otpd: %d workers: RSS +%ld KiB, malloc'd heap +%ld KiB (%.0f bytes each); "
               "sizeof(Process) %zu, sizeof(GenServer) %zu\n",
               options.spawns, spawned.rss_delta / 1024, spawned.heap_delta / 1024,
               static_cast<double>(spawned.heap_delta) / options.spawns, sizeof(Process),
               sizeof(IdleWorker));
  const double cpu0 = cpu_seconds();
  std::this_thread::sleep_for(std::chrono::duration<double>(options.idle_seconds));
  f.idle_cpu_seconds = cpu_seconds() - cpu0;
  // As the BEAM side does: every spawned worker is still there.
  const std::size_t active = spawner.call_blocking_within(kBenchTimeout, &Spawner::stop_all);
  if (active != static_cast<std::size_t>(options.spawns)) {
    throw std::runtime_error("the supervisor counts " + std::to_string(active) + " children, not " +
                             std::to_string(options.spawns));
  }
}

// Supervisors one after the other, each seeing `intensity` restarts (fewer
// for the last) and then stopped: every restart is counted in a window of
// the size a user configures. `start(log)` starts one supervisor of the
// crasher and returns what stops it. The restart times, sorted.
template <typename Start>
std::vector<double> time_restarts(const Options& options, int count, Start start) {
  RestartLog log;
  log.samples.reserve(static_cast<std::size_t>(count));
  for (int left = count; left > 0;) {
    const int here = std::min(left, std::max(options.intensity, 1));
    log.left = here;
    log.crashed_at = {};
    log.done = std::promise<void>();
    auto done = log.done.get_future();
    auto stop = start(log);
    if (done.wait_for(kBenchTimeout) != std::future_status::ready) {
      throw std::runtime_error("the restarts did not come");
    }
    stop();
    left -= here;
  }
  if (log.samples.size() != static_cast<std::size_t>(count)) {
    throw std::runtime_error("restarts lost");
  }
  std::sort(log.samples.begin(), log.samples.end());
  return std::move(log.samples);
}

void run_restarts(const Options& options, Figures& f) {
  Scheduler scheduler(options.threads);
  auto samples = time_restarts(options, options.restarts, [&](RestartLog& log) {
    auto supervisor = Supervisor::start(
        scheduler,
        {.strategy = Strategy::one_for_one,
         .intensity = options.intensity,
         .period = std::chrono::seconds(options.period)},
        {{.name = "crasher", .start = [&log] { return start_link<Crasher>(log).pid(); }}});
    return [supervisor] { supervisor.stop().wait(); };
  });
  f.restart_median_ns = percentile(samples, 0.5);
  f.restart_p99_ns = percentile(samples, 0.99);
}

// The engine on a runtime process, which ends once its children stopped.
class EngineSupervisor final : public otpd::supervise::EngineProcess {
 public:
  using EngineProcess::EngineProcess;
  std::promise<void> ended;

 protected:
  void on_ended(const ExitReason& reason) override {
    EngineProcess::on_ended(reason);
    ended.set_value();
  }
};

// As a program with no supervisor reports would have it.
struct NoEvents final : otpd::supervise::EventSink {
  void emit(const otpd::supervise::Event&) override {}
  bool hears(otpd::supervise::EventKind) const override { return false; }
};

// As run_restarts, with the engine as the supervisor.
void run_engine_restarts(const Options& options, Figures& f) {
  Scheduler scheduler(options.threads);
  NoEvents events;
  auto samples = time_restarts(options, options.engine_restarts, [&](RestartLog& log) {
    otpd::config::SupervisorSpec spec;
    spec.intensity = options.intensity;
    spec.period = std::chrono::seconds(options.period);
    spec.children.push_back(otpd::supervise::code_child("crasher"));
    auto* supervisor = new EngineSupervisor(
        std::move(spec), {{"crasher", [&log] { return start_link<Crasher>(log).pid(); }}}, events);
    auto ended = std::make_shared<std::future<void>>(supervisor->ended.get_future());
    Pid held = supervisor->self();  // keeps it while this thread talks to it
    scheduler.start(*supervisor);
    return [supervisor, held = std::move(held), ended] {
      supervisor->shut_down_soon(ExitReason::shutdown());
      if (ended->wait_for(kBenchTimeout) != std::future_status::ready) {
        throw std::runtime_error("the engine did not end");
      }
    };
  });
  f.engine_restart_median_ns = percentile(samples, 0.5);
  f.engine_restart_p99_ns = percentile(samples, 0.99);
}

// As run_spawns, under a dynamic supervisor of the engine: each child has
// a name (the engine knows children by name) and is added once the one
// before it has started.
void run_engine_spawns(const Options& options, Figures& f) {
  Scheduler scheduler(options.threads);
  NoEvents events;
  otpd::config::SupervisorSpec spec;
  spec.dynamic = true;
  auto* supervisor = new EngineSupervisor(std::move(spec), {}, events);
  auto ended = supervisor->ended.get_future();
  const Pid held = supervisor->self();  // keeps it while this thread talks to it
  scheduler.start(*supervisor);
  struct Spawned {
    std::promise<void> done;
    std::size_t children = 0;
    long heap0 = 0;
    long heap1 = 0;
    Clock::time_point t0{};
    Clock::time_point t1{};
  } spawned;
  auto add = std::make_shared<std::function<void(int)>>();
  *add = [&, add](int i) {
    if (i == options.engine_spawns) {
      spawned.t1 = Clock::now();
      spawned.heap1 = static_cast<long>(mallinfo2().uordblks);
      spawned.children = supervisor->root().child_count();
      *add = nullptr;
      spawned.done.set_value();
      return;
    }
    supervisor->add_child(
        "w" + std::to_string(i), [] { return start_link<IdleWorker>().pid(); },
        [add, i](otpd::supervise::Failure failure) {
          if (failure) throw std::runtime_error("engine spawn failed: " + *failure);
          (*add)(i + 1);
        });
  };
  supervisor->host().post([&, add] {
    spawned.heap0 = static_cast<long>(mallinfo2().uordblks);
    spawned.t0 = Clock::now();
    (*add)(0);
  });
  if (spawned.done.get_future().wait_for(kBenchTimeout) != std::future_status::ready) {
    throw std::runtime_error("the engine's spawns did not end");
  }
  const double seconds = std::chrono::duration<double>(spawned.t1 - spawned.t0).count();
  f.engine_spawns_per_s = options.engine_spawns / seconds;
  f.engine_heap_per_worker =
      static_cast<double>(spawned.heap1 - spawned.heap0) / options.engine_spawns;
  if (spawned.children != static_cast<std::size_t>(options.engine_spawns)) {
    throw std::runtime_error("the engine counts " + std::to_string(spawned.children) +
                             " children, not " + std::to_string(options.engine_spawns));
  }
  supervisor->shut_down_soon(ExitReason::shutdown());
  if (ended.wait_for(kBenchTimeout) != std::future_status::ready) {
    throw std::runtime_error("the engine did not end");
  }
}

Figures run_otpd(const Options& options) {
  Figures f;
  // First, so that nothing left from the message workloads (freed memory,
  // another scheduler) runs while the idle CPU is measured.
  if (options.spawns > 0) run_spawns(options, f);
  if (options.restarts > 0) run_restarts(options, f);
  if (options.engine_restarts > 0) run_engine_restarts(options, f);
  if (options.engine_spawns > 0) run_engine_spawns(options, f);
  Scheduler scheduler(options.threads);
  auto driver = start<Driver>(scheduler);
  if (options.casts > 0) {
    const double seconds =
        driver.call_blocking_within(kBenchTimeout, &Driver::cast_seconds, options.casts);
    f.casts_per_s = static_cast<double>(options.casts) / seconds;
  }
  if (options.calls > 0) {
    auto samples = driver.call_blocking_within(kBenchTimeout, &Driver::call_ns, options.calls);
    std::sort(samples.begin(), samples.end());
    f.call_median_ns = percentile(samples, 0.5);
    f.call_p99_ns = percentile(samples, 0.99);
  }
  if (options.tasks > 0) {
    auto samples = driver.call_blocking_within(kBenchTimeout, &Driver::task_ns, options.tasks);
    std::sort(samples.begin(), samples.end());
    f.task_median_ns = percentile(samples, 0.5);
    f.task_p99_ns = percentile(samples, 0.99);
  }
  if (options.remote_calls > 0 && options.threads > 1) {
    // Started from outside the runtime, each on the next thread in turn:
    // the driver and this counter are on different threads.
    auto remote = start<Counter>(scheduler);
    if (remote.pid().get()->scheduler().threads() < 2) throw std::logic_error("one thread");
    auto samples = driver.call_blocking_within(kBenchTimeout, &Driver::remote_call_ns, remote,
                                               options.remote_calls);
    std::sort(samples.begin(), samples.end());
    f.remote_call_median_ns = percentile(samples, 0.5);
    f.remote_call_p99_ns = percentile(samples, 0.99);
  }
  return f;
}

// One VM running the workloads whose counts are given (0: skipped); false
// when it failed or printed nothing.
bool run_beam_vm(const Options& options, long casts, int calls, int spawns, int restarts, int tasks,
                 Figures& f) {
  const std::string command =
      "erl -noshell +S " + std::to_string(options.threads) +
      " -pa " OTPD_BENCH_BEAM_DIR " -eval 'beam_workloads:main([\"" + std::to_string(casts) +
      "\",\"" + std::to_string(calls) + "\",\"" + std::to_string(spawns) + "\",\"" +
      std::to_string(restarts) + "\",\"" +
      std::to_string(static_cast<long>(options.idle_seconds * 1000)) + "\",\"" +
      std::to_string(options.intensity) + "\",\"" + std::to_string(options.period) + "\",\"" +
      std::to_string(tasks) + "\"])'";
  FILE* out = popen(command.c_str(), "r");
  if (out == nullptr) return false;
  char line[512];
  bool any = false;
  while (std::fgets(line, sizeof line, out) != nullptr) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    any = true;
    if (j["workload"] == "cast") {
      f.casts_per_s = j["messages"].get<double>() / (j["ns"].get<double>() / 1e9);
    } else if (j["workload"] == "call") {
      f.call_median_ns = j["median_ns"].get<double>();
      f.call_p99_ns = j["p99_ns"].get<double>();
    } else if (j["workload"] == "spawn") {
      f.spawn_seconds = j["ns"].get<double>() / 1e9;
      f.spawns_per_s = j["workers"].get<double>() / f.spawn_seconds;
      f.rss_per_worker = j["rss_bytes"].get<double>() / j["workers"].get<double>();
      f.heap_per_worker = j["memory_bytes"].get<double>() / j["workers"].get<double>();
      f.idle_cpu_seconds = j["idle_cpu_ms"].get<double>() / 1e3;
      std::fprintf(stderr, "BEAM: %d workers: RSS +%.0f KiB, erlang:memory(total) +%.0f KiB\n",
                   j["workers"].get<int>(), j["rss_bytes"].get<double>() / 1024,
                   j["memory_bytes"].get<double>() / 1024);
    } else if (j["workload"] == "task") {
      f.task_median_ns = j["median_ns"].get<double>();
      f.task_p99_ns = j["p99_ns"].get<double>();
    } else if (j["workload"] == "restart") {
      f.restart_median_ns = j["median_ns"].get<double>();
      f.restart_p99_ns = j["p99_ns"].get<double>();
    }
  }
  return pclose(out) == 0 && any;
}

// Runs the BEAM side; false when Erlang is not installed. The spawns run in
// a VM of their own, started for them: memory freed by the message
// workloads would otherwise be reused by the new processes and hide part
// of what each one costs (the C++ side runs them first, for the same
// reason).
bool run_beam(const Options& options, Figures& f) {
  if (access(OTPD_BENCH_BEAM_DIR "/beam_workloads.beam", R_OK) != 0) return false;
  bool ok = true;
  if (options.spawns > 0) ok = run_beam_vm(options, 0, 0, options.spawns, 0, 0, f);
  if (options.casts > 0 || options.calls > 0 || options.restarts > 0 || options.tasks > 0) {
    ok =
        run_beam_vm(options, options.casts, options.calls, 0, options.restarts, options.tasks, f) &&
        ok;
  }
  return ok;
}

// `beam` < 0: the BEAM has no figure of its own for this workload.
void row(const char* what, double otpd, double beam, bool have_beam, const char* unit,
         bool higher_is_better) {
  if (!have_beam) {
    std::printf("%-28s %14.2f %-8s\n", what, otpd, unit);
    return;
  }
  if (beam < 0) {
    std::printf("%-28s %14.2f %14s %-8s %7s\n", what, otpd, "-", unit, "-");
    return;
  }
  const double ratio = higher_is_better ? otpd / beam : beam / otpd;
  if (otpd == 0 || beam == 0) {  // idle CPU: 0 is the goal, and no ratio
    std::printf("%-28s %14.2f %14.2f %-8s %7s\n", what, otpd, beam, unit, "-");
    return;
  }
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
    } else if (arg == "--remote-calls") {
      options.remote_calls = std::atoi(value());
    } else if (arg == "--tasks") {
      options.tasks = std::atoi(value());
    } else if (arg == "--window") {
      // I/P: I restarts in P seconds.
      const std::string window = value();
      const auto slash = window.find('/');
      options.intensity = std::atoi(window.substr(0, slash).c_str());
      options.period = slash == std::string::npos ? 5 : std::atoi(window.substr(slash + 1).c_str());
      if (options.intensity < 1 || options.period < 1) {
        std::fprintf(stderr, "--window wants I/P, both at least 1\n");
        return 2;
      }
    } else if (arg == "--spawns") {
      options.spawns = std::atoi(value());
    } else if (arg == "--restarts") {
      options.restarts = std::atoi(value());
    } else if (arg == "--engine-spawns") {
      options.engine_spawns = std::atoi(value());
    } else if (arg == "--engine-restarts") {
      options.engine_restarts = std::atoi(value());
    } else if (arg == "--idle-seconds") {
      options.idle_seconds = std::atof(value());
    } else if (arg == "--threads") {
      options.threads = static_cast<unsigned>(std::atoi(value()));
    } else if (arg == "--no-beam") {
      options.beam = false;
    } else {
      std::fprintf(
          stderr,
          "usage: %s [--casts N] [--calls N] [--remote-calls N] [--tasks N]\n"
          "          [--spawns N] [--restarts N] [--engine-restarts N] [--engine-spawns N]\n"
          "          [--window I/P]\n"
          "          [--idle-seconds S] [--threads N] [--no-beam]\n"
          "A workload whose count is 0 is skipped. --window (default 3/5): each\n"
          "supervisor of the restart workload allows I restarts in P seconds\n"
          "and sees I of them before the next one takes over.\n",
          argv[0]);
      return 2;
    }
  }
  Figures otpd;
  try {
    otpd = run_otpd(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "otpd-bench-runtime: %s\n", e.what());
    return 1;
  }
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
  // The BEAM places processes itself: no figure of its own for this one.
  row("call to another thread, med.", otpd.remote_call_median_ns / 1e3, -1, have_beam, "us", false);
  row("call to another thread, p99", otpd.remote_call_p99_ns / 1e3, -1, have_beam, "us", false);
  row("task, plain function, median", otpd.task_median_ns / 1e3, beam.task_median_ns / 1e3,
      have_beam, "us", false);
  row("task, plain function, p99", otpd.task_p99_ns / 1e3, beam.task_p99_ns / 1e3, have_beam, "us",
      false);
  row("spawn under dyn. supervisor", otpd.spawns_per_s / 1e3, beam.spawns_per_s / 1e3, have_beam,
      "k/s", true);
  row("  time for all", otpd.spawn_seconds * 1e3, beam.spawn_seconds * 1e3, have_beam, "ms", false);
  row("  RSS per idle worker", otpd.rss_per_worker, beam.rss_per_worker, have_beam, "bytes", false);
  row("  memory per idle worker", otpd.heap_per_worker, beam.heap_per_worker, have_beam, "bytes",
      false);
  row("  CPU while idle", otpd.idle_cpu_seconds * 1e3, beam.idle_cpu_seconds * 1e3, have_beam, "ms",
      false);
  row("restart, one_for_one, median", otpd.restart_median_ns / 1e3, beam.restart_median_ns / 1e3,
      have_beam, "us", false);
  row("restart, one_for_one, p99", otpd.restart_p99_ns / 1e3, beam.restart_p99_ns / 1e3, have_beam,
      "us", false);
  if (options.engine_restarts > 0) {
    // The tree's engine as the supervisor: no BEAM figure of its own.
    row("restart, engine, median", otpd.engine_restart_median_ns / 1e3, -1, have_beam, "us", false);
    row("restart, engine, p99", otpd.engine_restart_p99_ns / 1e3, -1, have_beam, "us", false);
  }
  if (options.engine_spawns > 0) {
    row("spawn under engine (dynamic)", otpd.engine_spawns_per_s / 1e3, -1, have_beam, "k/s", true);
    row("  memory per idle worker", otpd.engine_heap_per_worker, -1, have_beam, "bytes", false);
  }
  std::printf(
      "(%d workers spawned, CPU over %.1f s of idling with them, %d restarts by supervisors "
      "of intensity %d in %d s)\n",
      options.spawns, options.idle_seconds, options.restarts, options.intensity, options.period);
  return 0;
}

// Task runners under a dynamic supervisor, as in the classic Elixir example:
// runners are started on demand, at most three at a time, each does one job,
// reports its result and ends; a runner that crashes is not restarted
// (restart: temporary) and takes nothing else down.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <thread>

#include "check.hpp"
#include "runtime/dynamic_supervisor.hpp"

using namespace otpd::runtime;

// Collects the runners' results.
class Results : public GenServer<Results> {
 public:
  void put(int job, long value) { results_[job] = value; }
  std::map<int, long> all() const { return results_; }

 private:
  std::map<int, long> results_;
};

// Sums 1..n once told to go, sends the sum to Results and ends.
class Runner : public GenServer<Runner> {
 public:
  Runner(int job, long n, Server<Results> results) : job_(job), n_(n), results_(results) {}
  void go() {
    if (n_ < 0) throw std::invalid_argument("job " + std::to_string(job_) + ": negative input");
    long sum = 0;
    for (long i = 1; i <= n_; ++i) sum += i;
    results_.cast(&Results::put, job_, sum);
    stop();  // normal: done
  }

 private:
  int job_;
  long n_;
  Server<Results> results_;
};

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // reports come from the runtime's threads
  Scheduler scheduler;
  auto results = start<Results>(scheduler);
  auto runners = DynamicSupervisor::start(
      scheduler, {.max_children = 3, .on_report = [](const SupervisorReport& r) {
                    if (r.kind != SupervisorReport::Kind::started) {
                      std::printf("  report: %s (%s)\n", to_string(r.kind),
                                  r.reason.text().c_str());
                    }
                  }});
  auto runner = [&](int job, long n) -> ChildSpec {
    return {.start = [=] { return start_link<Runner>(job, n, results).pid(); },
            .restart = RestartType::temporary};
  };

  std::vector<Pid> started;
  for (int job = 1; job <= 3; ++job)
    started.push_back(runners.start_child(runner(job, job * 1000)).wait());
  std::printf("%zu runners started\n", runners.count_children().wait().active);
  try {
    runners.start_child(runner(4, 4000)).wait();
    check(false, "a fourth runner is refused");
  } catch (const SupervisorError& e) {
    std::printf("fourth runner: %s\n", e.what());
    check(e.kind() == SupervisorError::Kind::max_children, "a fourth runner is refused");
  }

  for (const Pid& pid : started) Server<Runner>(pid).cast(&Runner::go);
  while (runners.count_children().wait().active > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto sums = results.call_blocking(&Results::all);
  for (const auto& [job, sum] : sums) std::printf("job %d: %ld\n", job, sum);
  check(sums == std::map<int, long>{{1, 500500}, {2, 2001000}, {3, 4501500}}, "three sums");

  const Pid bad = runners.start_child(runner(5, -1)).wait();
  Server<Runner>(bad).cast(&Runner::go);
  while (runners.count_children().wait().active > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  check(!results.call_blocking(&Results::all).contains(5), "the crashed runner was not restarted");
  runners.stop().wait();
  return 0;
}

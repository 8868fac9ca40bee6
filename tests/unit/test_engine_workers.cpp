// In-process workers in the engine: real workers on the runtime's threads,
// supervised on the hand-driven clock like processes are.
#include <doctest/doctest.h>

#include <functional>
#include <map>

#include "engine_world.hpp"
#include "flaky_worker.hpp"

using namespace otpd;
using namespace otpd::test;
using namespace std::chrono_literals;
using supervise::EventKind;

namespace {

config::ChildSpec worker_child(const std::string& name,
                               config::RestartType restart = config::RestartType::permanent) {
  config::ChildSpec child;
  child.name = name;
  child.restart = restart;
  child.body = config::WorkerSpec{};
  return child;
}

// Runs what the workers' threads post to the loop until `done` holds: only
// a post can change what `done` looks at, so each look follows one.
template <typename Done>
bool settle(EngineWorld& world, Done done) {
  for (;;) {
    world.host.run();
    if (done()) return true;
    if (!world.host.wait_for_post()) return false;
  }
}

// Stops the tree while the workers' threads still run (EngineWorld's own
// cleanup only moves the fake clock).
void stop_tree(EngineWorld& world) {
  world.shutdown();
  REQUIRE(settle(world, [&] { return world.stopped; }));
}

// A FlakyStarter that also calls `after_start` once each worker is started,
// from inside the engine's call that started it.
class HookedStarter final : public supervise::WorkerStarter {
 public:
  explicit HookedStarter(runtime::Scheduler& scheduler) : flaky(scheduler) {}
  supervise::WorkerStart start(const std::string& path, const config::WorkerSpec& spec,
                               std::function<void(runtime::ExitReason)> ended) override {
    supervise::WorkerStart started = flaky.start(path, spec, std::move(ended));
    ++starts[path];
    if (after_start) after_start(path, starts[path]);
    return started;
  }
  FlakyStarter flaky;
  std::map<std::string, int> starts;
  std::function<void(const std::string&, int)> after_start;
};

}  // namespace

TEST_SUITE("engine workers") {
  TEST_CASE("a crashing worker is restarted by one_for_one with its error as the exit reason") {
    runtime::Scheduler scheduler{2};
    FlakyStarter workers(scheduler);
    EngineWorld world(
        supervisor_spec(config::Strategy::one_for_one, {worker_child("w"), process_child("p")}),
        &workers);
    world.boot();
    REQUIRE(world.start_result.succeeded());
    const auto first = world.tree->status("w");
    CHECK(first->state == "running");
    CHECK(first->worker_id != 0);
    CHECK(first->pid == 0);
    world.take_history();

    workers.crash("w");
    REQUIRE(settle(world, [&] { return world.sink.count(EventKind::started, "w") == 2; }));
    const supervise::Event* exited = world.last(EventKind::exited, "w");
    REQUIRE(exited != nullptr);
    CHECK(exited->reason == "error: boom");
    const auto now = world.tree->status("w");
    CHECK(now->restarts == 1);
    CHECK(now->worker_id != first->worker_id);
    CHECK(now->last_exit->kind == supervise::ChildExit::Kind::abnormal);
    CHECK(world.take_history().empty());  // the process beside it was left alone
    stop_tree(world);
  }

  TEST_CASE("under rest_for_one a failing worker restarts the processes after it") {
    runtime::Scheduler scheduler{2};
    FlakyStarter workers(scheduler);
    EngineWorld world(
        supervisor_spec(config::Strategy::rest_for_one,
                        {process_child("before"), worker_child("w"), process_child("after")}),
        &workers);
    world.boot();
    world.take_history();
    workers.crash("w");
    REQUIRE(settle(world, [&] { return world.sink.count(EventKind::started, "w") == 2; }));
    world.host.run();
    CHECK(world.take_history() == Lines{"term after", "exit after", "start after"});
    CHECK(world.state("after") == "running");
    stop_tree(world);
  }

  TEST_CASE("stopping the tree stops a worker with the exit signal shutdown") {
    runtime::Scheduler scheduler{2};
    FlakyStarter workers(scheduler);
    EngineWorld world(supervisor_spec(config::Strategy::one_for_one, {worker_child("w")}),
                      &workers);
    world.boot();
    stop_tree(world);
    const supervise::Event* stopped = world.last(EventKind::stopped, "w");
    REQUIRE(stopped != nullptr);
    CHECK(stopped->reason == "shutdown");
  }

  TEST_CASE("a transient worker that is stopped normally is not restarted") {
    runtime::Scheduler scheduler{2};
    FlakyStarter workers(scheduler);
    EngineWorld world(supervisor_spec(config::Strategy::one_for_one,
                                      {worker_child("w", config::RestartType::transient)}),
                      &workers);
    world.boot();
    workers.stop("w", runtime::ExitReason::shutdown("drained"));
    REQUIRE(settle(world, [&] { return world.last(EventKind::exited, "w") != nullptr; }));
    world.host.run();
    CHECK(world.last(EventKind::exited, "w")->reason == "{shutdown, drained}");
    CHECK(world.state("w") == "stopped");
    CHECK(world.sink.count(EventKind::started, "w") == 1);
    stop_tree(world);
  }

  TEST_CASE("without a worker runtime a worker child fails to start") {
    EngineWorld world(supervisor_spec(config::Strategy::one_for_one, {worker_child("w")}));
    world.boot();
    REQUIRE(world.start_result.came);
    CHECK(world.start_result.failure.value_or("").find("in-process workers are not available") !=
          std::string::npos);
  }

  TEST_CASE(
      "a stop asked while a worker is restarted in the call that reported its exit still stops") {
    runtime::Scheduler scheduler{2};
    HookedStarter workers(scheduler);
    EngineWorld world(supervisor_spec(config::Strategy::one_for_one, {worker_child("w")}),
                      &workers);
    world.boot();
    REQUIRE(world.start_result.succeeded());
    workers.after_start = [&](const std::string& path, int count) {
      if (path == "w" && count == 2) world.shutdown();
    };
    workers.flaky.crash("w");
    CHECK(settle(world, [&] { return world.stopped; }));
  }

  TEST_CASE("a stop asked while a dynamic supervisor adds a worker in the call still stops") {
    runtime::Scheduler scheduler{2};
    HookedStarter workers(scheduler);
    config::SupervisorSpec jobs = supervisor_spec(config::Strategy::one_for_one, {});
    jobs.dynamic = true;
    EngineWorld world(
        supervisor_spec(config::Strategy::one_for_one, {supervisor_child("jobs", jobs)}), &workers);
    world.boot();
    REQUIRE(world.start_result.succeeded());
    workers.after_start = [&](const std::string&, int) { world.shutdown(); };
    Answer added;
    world.tree->add_child("jobs", worker_child("w"), added.keep());
    CHECK(settle(world, [&] { return world.stopped; }));
    CHECK(added.came);
  }
}

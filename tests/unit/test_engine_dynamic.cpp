// A dynamic supervisor in the engine, on the hand-driven clock: children
// added and removed at run time, max_children, restart types, and what a
// reload and a restart of the supervisor do to them.
#include <doctest/doctest.h>

#include <algorithm>

#include "engine_world.hpp"
#include "fake_host.hpp"
#include "supervise/tree.hpp"

using namespace std::chrono_literals;
using otpd::config::ChildSpec;
using otpd::config::RestartType;
using otpd::config::Strategy;
using otpd::config::SupervisorSpec;
using otpd::supervise::EventKind;
using otpd::supervise::ExitStatus;
using otpd::supervise::Failure;
using otpd::supervise::ReloadResult;
using Lines = std::vector<std::string>;

namespace {

using otpd::test::Answer;
using otpd::test::config_of;
using otpd::test::process_child;
using otpd::test::supervisor_child;
using otpd::test::supervisor_spec;

const ExitStatus crash = ExitStatus::exited(1);
const ExitStatus clean = ExitStatus::exited(0);

SupervisorSpec dynamic_spec(std::optional<int> max_children = std::nullopt, int intensity = 3) {
  SupervisorSpec spec = supervisor_spec(Strategy::one_for_one, {}, intensity);
  spec.dynamic = true;
  spec.max_children = max_children;
  return spec;
}

// A root with one process `db` and the dynamic supervisor `jobs`, started.
struct World : otpd::test::EngineWorld {
  explicit World(SupervisorSpec jobs = dynamic_spec()) : EngineWorld(root_with(std::move(jobs))) {
    boot();
    REQUIRE(start_result.succeeded());
    procs.history.clear();
  }
  static SupervisorSpec root_with(SupervisorSpec jobs) {
    return supervisor_spec(Strategy::one_for_one,
                           {process_child("db"), supervisor_child("jobs", std::move(jobs))});
  }
  Answer add(const std::string& supervisor, ChildSpec child) {
    Answer reply;
    tree->add_child(supervisor, std::move(child), reply.keep());
    host.run();
    return reply;
  }
  Answer terminate(const std::string& supervisor, const std::string& name) {
    Answer reply;
    tree->terminate_child(supervisor, name, reply.keep());
    host.run();
    return reply;
  }
  std::optional<ReloadResult> reload(SupervisorSpec jobs) {
    std::optional<ReloadResult> result;
    tree->reload(config_of(root_with(std::move(jobs))),
                 [&](ReloadResult r) { result = std::move(r); });
    host.run();
    return result;
  }
};

}  // namespace

TEST_CASE("dynamic: an added child starts at once and shows in status and events") {
  World w;
  CHECK(w.add("jobs", process_child("job1")).succeeded());
  CHECK(w.add("jobs", process_child("job2")).succeeded());
  CHECK(w.take_history() == Lines{"start job1", "start job2"});
  CHECK(w.tree->paths() == Lines{"db", "jobs", "jobs/job1", "jobs/job2"});
  const auto jobs = w.tree->status("jobs");
  REQUIRE(jobs);
  CHECK(jobs->dynamic);
  REQUIRE(jobs->children.size() == 2);
  CHECK(jobs->children[0].path == "jobs/job1");
  CHECK(jobs->children[0].state == "running");
  CHECK(jobs->children[0].pid == w.procs.pid_of("job1"));
  CHECK(w.last(EventKind::started, "jobs/job2") != nullptr);
}

TEST_CASE("dynamic: a permanent child is restarted, within the supervisor's intensity") {
  World w(dynamic_spec(std::nullopt, 1));
  REQUIRE(w.add("jobs", process_child("job1")).succeeded());
  w.take_history();
  w.procs.exit("job1", crash);
  CHECK(w.take_history() == Lines{"exit job1", "start job1"});
  CHECK(w.tree->status("jobs/job1")->restarts == 1);
  // A second crash in the period is one too many: the dynamic supervisor
  // gives up, its parent restarts it from its spec, and the run-time child
  // is gone, as in OTP.
  w.procs.exit("job1", crash);
  CHECK(w.take_history() == Lines{"exit job1"});
  CHECK(w.last(EventKind::escalated, "jobs") != nullptr);
  CHECK(w.state("jobs") == "running");
  CHECK(w.tree->status("jobs")->children.empty());
  CHECK(w.procs.running("db"));
}

TEST_CASE("dynamic: temporary children and transient ones that end normally are removed") {
  World w;
  REQUIRE(w.add("jobs", process_child("once", RestartType::temporary)).succeeded());
  REQUIRE(w.add("jobs", process_child("done", RestartType::transient)).succeeded());
  REQUIRE(w.add("jobs", process_child("retry", RestartType::transient)).succeeded());
  w.take_history();
  w.procs.exit("once", crash);
  w.procs.exit("done", clean);
  w.procs.exit("retry", crash);
  w.host.run();
  CHECK(w.take_history() == Lines{"exit once", "exit done", "exit retry", "start retry"});
  CHECK(w.tree->paths() == Lines{"db", "jobs", "jobs/retry"});
  CHECK(w.last(EventKind::removed, "jobs/once")->reason == "temporary child is not restarted");
  CHECK(w.last(EventKind::removed, "jobs/done")->reason == "transient child ended normally");
  // The name is free again.
  CHECK(w.add("jobs", process_child("once")).succeeded());
}

TEST_CASE("dynamic: max_children and duplicate names are refused") {
  World w(dynamic_spec(2));
  CHECK(w.add("jobs", process_child("a")).succeeded());
  CHECK(w.add("jobs", process_child("a")).failure == "supervisor jobs already has a child 'a'");
  CHECK(w.add("jobs", process_child("b")).succeeded());
  CHECK(w.add("jobs", process_child("c")).failure ==
        "supervisor jobs already has max_children (2) children");
  CHECK(w.take_history() == Lines{"start a", "start b"});
  CHECK(w.terminate("jobs", "a").succeeded());
  CHECK(w.add("jobs", process_child("c")).succeeded());
}

TEST_CASE("dynamic: two adds queued together are checked in turn") {
  World w(dynamic_spec(1));
  std::vector<Failure> replies;
  w.tree->add_child("jobs", process_child("a"), [&](Failure f) { replies.push_back(f); });
  w.tree->add_child("jobs", process_child("b"), [&](Failure f) { replies.push_back(f); });
  w.host.run();
  CHECK(replies == std::vector<Failure>{std::nullopt,
                                        "supervisor jobs already has max_children (1) children"});
}

TEST_CASE("dynamic: a child that cannot start is refused and not kept") {
  World w;
  w.procs.fail_starts_of("bad", "command not found: bad");
  CHECK(w.add("jobs", process_child("bad")).failure == "command not found: bad");
  CHECK(w.tree->status("jobs")->children.empty());
  CHECK(w.tree->status("jobs")->intensity_used == 0);
  CHECK(w.last(EventKind::removed, "jobs/bad") != nullptr);
}

TEST_CASE("dynamic: terminate stops the child with its shutdown policy and removes it") {
  World w;
  REQUIRE(w.add("jobs", process_child("job1")).succeeded());
  w.take_history();
  CHECK(w.terminate("jobs", "job1").succeeded());
  CHECK(w.take_history() == Lines{"term job1", "exit job1"});
  CHECK(w.tree->status("jobs")->children.empty());
  CHECK(w.last(EventKind::removed, "jobs/job1")->reason == "terminated by operator");
  CHECK(w.terminate("jobs", "job1").failure == "supervisor jobs has no child 'job1'");
}

TEST_CASE("dynamic: a name is free again once its child is gone, and each of many is found") {
  World w;
  for (int i = 0; i < 300; ++i) {
    REQUIRE(w.add("jobs", process_child("job" + std::to_string(i))).succeeded());
  }
  CHECK(w.add("jobs", process_child("job150")).failure ==
        "supervisor jobs already has a child 'job150'");
  // Removed by terminate, by failing to start, and by ending for good.
  REQUIRE(w.terminate("jobs", "job150").succeeded());
  REQUIRE(w.add("jobs", process_child("job150")).succeeded());
  w.procs.fail_starts_of("job300", "command not found: job300");
  CHECK(w.add("jobs", process_child("job300")).failure == "command not found: job300");
  w.procs.let_start("job300");
  CHECK(w.add("jobs", process_child("job300")).succeeded());
  REQUIRE(w.add("jobs", process_child("once", RestartType::temporary)).succeeded());
  w.procs.exit("once", clean);
  w.host.run();
  CHECK(w.add("jobs", process_child("once")).succeeded());
  for (int i = 0; i < 300; i += 37) {
    CHECK(w.terminate("jobs", "job" + std::to_string(i)).succeeded());
  }
  CHECK(w.tree->status("jobs")->children.size() == 302 - 9);
}

TEST_CASE("dynamic: only a dynamic supervisor takes run-time children") {
  World w;
  const std::string not_dynamic =
      "' is not a dynamic supervisor (only a child with 'worker: {kind: dynamic_supervisor}' "
      "takes children at run time)";
  CHECK(w.add("/", process_child("x")).failure == "'/" + not_dynamic);
  CHECK(w.add("db", process_child("x")).failure == "'db' is a process, not a dynamic supervisor");
  CHECK(w.add("jbos", process_child("x")).failure ==
        "no child 'jbos' in the tree (did you mean 'jobs'?)");
  CHECK(w.terminate("/", "db").failure == "'/" + not_dynamic);
  CHECK(w.procs.running("db"));
}

TEST_CASE("dynamic: an operator's restart of the supervisor drops its run-time children") {
  World w;
  REQUIRE(w.add("jobs", process_child("job1")).succeeded());
  w.take_history();
  Answer reply;
  w.tree->restart_child("jobs", reply.keep());
  w.host.run();
  CHECK(reply.succeeded());
  CHECK(w.take_history() == Lines{"term job1", "exit job1"});
  CHECK(w.tree->status("jobs")->children.empty());
}

TEST_CASE("dynamic: a reload keeps run-time children and applies new settings in place") {
  World w(dynamic_spec(1));
  REQUIRE(w.add("jobs", process_child("job1")).succeeded());
  const int pid = w.procs.pid_of("job1");
  const auto result = w.reload(dynamic_spec(2));
  REQUIRE(result);
  CHECK(!result->failure);
  CHECK(w.procs.pid_of("job1") == pid);
  CHECK(w.tree->status("jobs")->max_children == 2);
  CHECK(w.add("jobs", process_child("job2")).succeeded());
  CHECK(w.add("jobs", process_child("job3")).failure ==
        "supervisor jobs already has max_children (2) children");
  // A reload that lowers max_children keeps what runs.
  REQUIRE(w.reload(dynamic_spec(1)));
  CHECK(w.tree->status("jobs")->children.size() == 2);
}

TEST_CASE("dynamic: removing the dynamic supervisor from the config stops its children") {
  World w;
  REQUIRE(w.add("jobs", process_child("job1")).succeeded());
  w.take_history();
  std::optional<ReloadResult> result;
  w.tree->reload(config_of(supervisor_spec(Strategy::one_for_one, {process_child("db")})),
                 [&](ReloadResult r) { result = std::move(r); });
  w.host.run();
  REQUIRE(result);
  CHECK(w.take_history() == Lines{"term job1", "exit job1"});
  CHECK(w.tree->paths() == Lines{"db"});
}

TEST_CASE("dynamic: run-time children are stopped with the tree, all asked at once") {
  World w;
  REQUIRE(w.add("jobs", process_child("job1")).succeeded());
  REQUIRE(w.add("jobs", process_child("job2")).succeeded());
  w.take_history();
  w.shutdown();
  const Lines history = w.take_history();
  REQUIRE(history.size() == 6);
  // Both asked before either has ended, newest first; then the static db.
  CHECK(Lines(history.begin(), history.begin() + 2) == Lines{"term job2", "term job1"});
  Lines exits(history.begin() + 2, history.begin() + 4);
  std::sort(exits.begin(), exits.end());
  CHECK(exits == Lines{"exit job1", "exit job2"});
  CHECK(Lines(history.begin() + 4, history.end()) == Lines{"term db", "exit db"});
}

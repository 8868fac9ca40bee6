// DynamicSupervisor: children started and stopped at run time, max_children,
// restarts and max_restarts, and many children at once.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "answer.hpp"
#include "manual_time.hpp"
#include "runtime/dynamic_supervisor.hpp"
#include "runtime/supervisor.hpp"
#include "supervision_fixtures.hpp"

using namespace otpd::runtime;
using otpd::test::Answer;
using otpd::test::ended;
using otpd::test::EndWatcher;
using otpd::test::into;
using otpd::test::Journal;
using otpd::test::Lines;
using otpd::test::ManualTime;
using otpd::test::Member;
using otpd::test::worker;
using namespace std::chrono_literals;

namespace {

SupervisorError::Kind error_of(Request<Pid> request) {
  try {
    std::move(request).wait();
  } catch (const SupervisorError& e) {
    return e.kind();
  }
  FAIL("the request must fail");
  return SupervisorError::Kind::invalid_spec;
}

// An idle worker that costs nothing to start: for the many-children test.
struct Idle : GenServer<Idle> {};

ChildSpec idle_spec(RestartType restart = RestartType::permanent) {
  return {.start = [] { return start_link<Idle>().pid(); }, .restart = restart};
}

// Takes `linger` to end once its supervisor asks it to: it traps exits and
// ends on a timer, keeping its thread free meanwhile, as a process of the
// BEAM does while it finishes its work.
class SlowToStop final : public Process {
 public:
  SlowToStop(Journal& journal, std::string name, std::chrono::milliseconds linger)
      : journal_(journal), name_(std::move(name)), linger_(linger) {
    trap_exits(true);
  }

 protected:
  void on_exit_message(const Pid& from, const ExitReason& reason) override {
    if (from != parent()) return;
    scheduler().start_timer(*this, linger_, make_envelope([reason](Process& p) {
      auto& self = static_cast<SlowToStop&>(p);
      self.journal_.add(self.name_ + " stopped");
      self.exit(reason);
    }));
    // Noted once the timer runs: the test may move the clock from then on.
    journal_.add(name_ + " asked to stop");
  }

 private:
  Journal& journal_;
  std::string name_;
  std::chrono::milliseconds linger_;
};

ChildSpec slow_to_stop(Journal& journal, const std::string& name) {
  return {.start =
              [&journal, name] {
                auto* child = new SlowToStop(journal, name, 800ms);
                Pid pid = child->self();
                if (auto failed = Process::current()->scheduler().start_link(*child)) {
                  throw StartError(*failed);
                }
                return pid;
              },
          .shutdown = Shutdown::after(5s)};
}

}  // namespace

// Elixir's DynamicSupervisor (and OTP's simple_one_for_one) sends every
// child its exit signal first and then waits for them all: three children
// that take 0.8 s each to end take 0.8 s, not 2.4 s. On the test's clock:
// all three are asked before any has ended, and one move of 0.8 s ends them.
TEST_CASE("a dynamic supervisor asks every child to stop before any has ended") {
  Journal journal;
  ManualTime time;
  Scheduler scheduler(2, {}, &time);
  DynamicSupervisor sup;
  std::unique_ptr<Answer<void>> stopped;
  SUBCASE("stopped by a request") {
    sup = DynamicSupervisor::start(scheduler);
    for (const char* name : {"a", "b", "c"}) sup.start_child(slow_to_stop(journal, name)).wait();
    stopped = std::make_unique<Answer<void>>(sup.stop());
  }
  SUBCASE("stopped by its parent") {
    auto top = Supervisor::start(scheduler, {}, {DynamicSupervisor::child_spec("runners")});
    sup = DynamicSupervisor(top.which_children().wait().front().pid);
    for (const char* name : {"a", "b", "c"}) sup.start_child(slow_to_stop(journal, name)).wait();
    stopped = std::make_unique<Answer<void>>(top.stop());
  }
  REQUIRE(journal.wait_for(3));
  for (const std::string& line : journal.lines()) CHECK(line.ends_with(" asked to stop"));
  time.advance(800ms);
  REQUIRE(stopped->finished());
  const Lines lines = journal.lines();
  REQUIRE(lines.size() == 6);
  for (std::size_t i = 3; i < 6; ++i) CHECK(lines[i].ends_with(" stopped"));
  CHECK(ended(sup.pid()));
}

TEST_CASE("start_child and terminate_child; which_children and count_children") {
  Journal journal;
  Scheduler scheduler(2);
  auto sup = DynamicSupervisor::start(scheduler);
  CHECK(sup.count_children().wait().active == 0);
  const Pid a = sup.start_child(worker(journal, "a")).wait();
  const Pid b = sup.start_child(worker(journal, "b")).wait();
  CHECK(Server<Member>(b).call_blocking(&Member::ping) == 1);
  auto children = sup.which_children().wait();
  CHECK(children.size() == 2);
  CHECK(std::any_of(children.begin(), children.end(), [&](auto& c) { return c.pid == a; }));
  sup.terminate_child(a).wait();
  CHECK(ended(a));
  const ChildCounts counts = sup.count_children().wait();
  CHECK(counts.active == 1);
  CHECK(counts.workers == 1);
  try {
    sup.terminate_child(a).wait();
    FAIL("a is no child any more");
  } catch (const SupervisorError& e) {
    CHECK(e.kind() == SupervisorError::Kind::not_found);
  }
  CHECK(journal.lines() == Lines{"a init", "b init", "a terminate shutdown"});
  sup.stop().wait();
  CHECK(ended(b));
}

TEST_CASE("start_child beyond max_children fails with a clear error") {
  Journal journal;
  Scheduler scheduler(2);
  auto sup = DynamicSupervisor::start(scheduler, {.max_children = 2});
  const Pid a = sup.start_child(worker(journal, "a")).wait();
  sup.start_child(worker(journal, "b")).wait();
  try {
    sup.start_child(worker(journal, "c")).wait();
    FAIL("a third child is one too many");
  } catch (const SupervisorError& e) {
    CHECK(e.kind() == SupervisorError::Kind::max_children);
    CHECK(std::string(e.what()) == "max_children reached (2 running)");
  }
  sup.terminate_child(a).wait();
  CHECK(sup.start_child(worker(journal, "c")).wait());
  auto failing = std::make_shared<std::atomic<int>>(1);
  sup.terminate_child(sup.which_children().wait().front().pid).wait();
  CHECK(error_of(sup.start_child(worker(journal, "f", {.failing_starts = failing}))) ==
        SupervisorError::Kind::start_failed);
  CHECK(error_of(sup.start_child(ChildSpec{})) == SupervisorError::Kind::invalid_spec);
  sup.stop().wait();
}

TEST_CASE(
    "a crashed permanent child is restarted; temporary and transient ones as their type says") {
  Journal journal;
  Scheduler scheduler(2);
  auto sup = DynamicSupervisor::start(scheduler, {.max_restarts = 10});
  const Pid p = sup.start_child(worker(journal, "p")).wait();
  const Pid tmp =
      sup.start_child(worker(journal, "tmp", {.restart = RestartType::temporary})).wait();
  const Pid tr = sup.start_child(worker(journal, "tr", {.restart = RestartType::transient})).wait();
  // Their exits reach the supervisor before their monitors' DOWNs.
  EndWatcher p_end(p), tmp_end(tmp), tr_end(tr);
  Server<Member>(p).cast(&Member::crash);
  Server<Member>(tmp).cast(&Member::crash);
  Server<Member>(tr).cast(&Member::quit, ExitReason::normal());
  REQUIRE(p_end.ended());
  REQUIRE(tmp_end.ended());
  REQUIRE(tr_end.ended());
  CHECK(sup.count_children().wait().active == 1);
  const Pid p2 = sup.which_children().wait().front().pid;
  CHECK(p2 != p);
  CHECK(Server<Member>(p2).call_blocking(&Member::ping) == 1);
  sup.stop().wait();
}

TEST_CASE("past max_restarts a dynamic supervisor stops every child and ends with shutdown") {
  Journal journal;
  Scheduler scheduler(2);
  auto sup = DynamicSupervisor::start(scheduler, {.max_restarts = 1, .on_report = into(journal)});
  const Pid other = sup.start_child(worker(journal, "other")).wait();
  Pid crasher = sup.start_child(worker(journal, "crasher")).wait();
  Server<Member>(crasher).cast(&Member::crash);
  REQUIRE(journal.wait_for(5));
  for (const ChildInfo& c : sup.which_children().wait()) {
    if (c.pid != other) crasher = c.pid;
  }
  Server<Member>(crasher).cast(&Member::crash);
  REQUIRE(journal.wait_for(9));
  CHECK(journal.since(2) == Lines{"crasher terminate error: crasher crashed",
                                  "report child_terminated  error: crasher crashed", "crasher init",
                                  "crasher terminate error: crasher crashed",
                                  "report child_terminated  error: crasher crashed",
                                  "report reached_max_restart_intensity  error: crasher crashed",
                                  "other terminate shutdown"});
  CHECK(ended(sup.pid()));
}

TEST_CASE("by default a dynamic supervisor allows 3 restarts in 5 s, as Elixir's does") {
  Journal journal;
  ManualTime time;
  Scheduler scheduler(2, {}, &time);
  auto sup = DynamicSupervisor::start(scheduler);
  sup.start_child(worker(journal, "a")).wait();
  for (int i = 0; i < 3; ++i) {
    const std::size_t before = journal.size();
    Server<Member>(sup.which_children().wait().front().pid).cast(&Member::crash);
    REQUIRE(journal.wait_for(before + 2));
    time.advance(1s);
  }
  Server<Member>(sup.which_children().wait().front().pid).cast(&Member::crash);
  CHECK(ended(sup.pid()));
}

TEST_CASE("ten thousand children start, are counted and stop at once with their supervisor") {
  Scheduler scheduler(2);
  auto sup = DynamicSupervisor::start(scheduler);
  std::vector<Pid> pids;
  for (int i = 0; i < 10'000; ++i) pids.push_back(sup.start_child(idle_spec()).wait());
  CHECK(sup.count_children().wait().active == 10'000);
  CHECK(scheduler.live_processes() == 10'001);
  sup.terminate_child(pids[5000]).wait();
  CHECK(sup.count_children().wait().active == 9'999);
  sup.stop().wait();  // answered once every child has ended
  CHECK(std::none_of(pids.begin(), pids.end(), [](const Pid& pid) { return pid.get()->alive(); }));
  CHECK(ended(sup.pid()));
}

TEST_CASE("a dynamic supervisor under a supervisor") {
  Journal journal;
  Scheduler scheduler(2);
  auto top = Supervisor::start(scheduler, {},
                               {DynamicSupervisor::child_spec("runners", {.max_children = 5})});
  const DynamicSupervisor runners(top.which_children().wait().front().pid);
  const Pid r = runners.start_child(worker(journal, "r")).wait();
  CHECK(top.count_children().wait().supervisors == 1);
  top.stop().wait();
  CHECK(ended(runners.pid()));
  CHECK(ended(r));
  CHECK(journal.lines() == Lines{"r init", "r terminate shutdown"});
}

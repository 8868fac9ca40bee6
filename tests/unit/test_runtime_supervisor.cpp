// Supervisors of in-process workers: strategies, restart types, intensity,
// shutdown order and policies, nested supervisors and the requests.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "answer.hpp"
#include "manual_time.hpp"
#include "runtime/supervisor.hpp"
#include "supervision_fixtures.hpp"

using namespace otpd::runtime;
using otpd::test::Answer;
using otpd::test::ended;
using otpd::test::into;
using otpd::test::Journal;
using otpd::test::Lines;
using otpd::test::ManualTime;
using otpd::test::Member;
using otpd::test::worker;
using namespace std::chrono_literals;

namespace {

Server<Member> child(const Supervisor& sup, const std::string& name) {
  for (const ChildInfo& info : sup.which_children().wait()) {
    if (info.name == name) return Server<Member>(info.pid);
  }
  return {};
}

std::vector<std::string> names_running(const Supervisor& sup) {
  std::vector<std::string> names;
  for (const ChildInfo& info : sup.which_children().wait()) {
    if (info.pid) names.push_back(info.name);
  }
  return names;
}

std::vector<ChildSpec> abc(Journal& journal) {
  return {worker(journal, "a"), worker(journal, "b"), worker(journal, "c")};
}

}  // namespace

TEST_CASE("children start in order; one_for_one restarts only the child that crashed") {
  Journal journal;
  Scheduler scheduler(2);
  auto sup = Supervisor::start(scheduler, {.strategy = Strategy::one_for_one}, abc(journal));
  REQUIRE(journal.wait_for(3));
  CHECK(journal.lines() == Lines{"a init", "b init", "c init"});
  const Pid a = child(sup, "a").pid();
  const Pid b = child(sup, "b").pid();
  const Pid c = child(sup, "c").pid();
  child(sup, "b").cast(&Member::crash);
  REQUIRE(journal.wait_for(5));
  CHECK(journal.since(3) == Lines{"b terminate error: b crashed", "b init"});
  CHECK(child(sup, "a").pid() == a);
  CHECK(child(sup, "c").pid() == c);
  const Pid b2 = child(sup, "b").pid();
  CHECK(b2 != b);
  CHECK(child(sup, "b").call_blocking(&Member::ping) == 1);
  sup.stop().wait();
}

TEST_CASE("one_for_all stops the others in reverse order and starts all again") {
  Journal journal;
  Scheduler scheduler(2);
  auto sup = Supervisor::start(scheduler, {.strategy = Strategy::one_for_all}, abc(journal));
  REQUIRE(journal.wait_for(3));
  child(sup, "b").cast(&Member::crash);
  REQUIRE(journal.wait_for(9));
  CHECK(journal.since(3) == Lines{"b terminate error: b crashed", "c terminate shutdown",
                                  "a terminate shutdown", "a init", "b init", "c init"});
  CHECK(names_running(sup) == Lines{"a", "b", "c"});
  sup.stop().wait();
}

TEST_CASE("rest_for_one restarts the child and those started after it") {
  Journal journal;
  Scheduler scheduler(2);
  auto sup = Supervisor::start(scheduler, {.strategy = Strategy::rest_for_one}, abc(journal));
  REQUIRE(journal.wait_for(3));
  const Pid a = child(sup, "a").pid();
  child(sup, "b").cast(&Member::crash);
  REQUIRE(journal.wait_for(7));
  CHECK(journal.since(3) ==
        Lines{"b terminate error: b crashed", "c terminate shutdown", "b init", "c init"});
  CHECK(child(sup, "a").pid() == a);
  sup.stop().wait();
}

TEST_CASE("restart types: permanent always, transient after a crash, temporary never") {
  Journal journal;
  Scheduler scheduler(2);
  auto sup = Supervisor::start(
      scheduler, {.intensity = 10},
      {worker(journal, "p"), worker(journal, "t", {.restart = RestartType::transient}),
       worker(journal, "tmp", {.restart = RestartType::temporary})});
  REQUIRE(journal.wait_for(3));

  child(sup, "p").cast(&Member::quit, ExitReason::normal());
  REQUIRE(journal.wait_for(5));
  CHECK(journal.since(3) == Lines{"p terminate normal", "p init"});

  // A child's exit reaches its supervisor before any monitor hears of its
  // end: a request sent after that sees the supervisor's decision.
  otpd::test::EndWatcher t(child(sup, "t").pid());
  child(sup, "t").cast(&Member::quit, ExitReason::shutdown("done"));
  REQUIRE(t.ended());
  CHECK(names_running(sup) == Lines{"p", "tmp"});
  CHECK(sup.count_children().wait().specs == 3);  // its spec stays
  sup.restart_child("t").wait();
  child(sup, "t").cast(&Member::crash);
  REQUIRE(journal.wait_for(9));
  CHECK(journal.since(6) == Lines{"t init", "t terminate error: t crashed", "t init"});

  otpd::test::EndWatcher tmp(child(sup, "tmp").pid());
  child(sup, "tmp").cast(&Member::crash);
  REQUIRE(tmp.ended());
  CHECK(sup.count_children().wait().specs == 2);
  CHECK(names_running(sup) == Lines{"p", "t"});
  sup.stop().wait();
}

TEST_CASE("past its intensity a supervisor stops its children and ends with shutdown") {
  Journal journal;
  ManualTime time;  // standing still: every restart in one instant
  Scheduler scheduler(2, {}, &time);
  auto sup =
      Supervisor::start(scheduler, {.intensity = 2, .period = 10s, .on_report = into(journal)},
                        {worker(journal, "a"), worker(journal, "b")});
  REQUIRE(journal.wait_for(2));
  for (int crash = 1; crash <= 3; ++crash) {
    const std::size_t before = journal.size();
    child(sup, "b").cast(&Member::crash);
    REQUIRE(journal.wait_for(before + (crash < 3 ? 3 : 4)));
  }
  CHECK(journal.since(8) ==
        Lines{"b terminate error: b crashed", "report child_terminated b error: b crashed",
              "report reached_max_restart_intensity b error: b crashed", "a terminate shutdown"});
  CHECK(ended(sup.pid()));
  CHECK_THROWS_AS(sup.count_children().wait(), CallError);
}

// Crashes the child `name` and waits for its restart: `lines` more in the
// journal (its terminate, the reports if any, its init).
void crash_and_restart(const Supervisor& sup, Journal& journal, const std::string& name,
                       std::size_t lines = 2) {
  const std::size_t before = journal.size();
  child(sup, name).cast(&Member::crash);
  REQUIRE(journal.wait_for(before + lines));
  REQUIRE(journal.since(before).back() == name + " init");
}

TEST_CASE("by default a supervisor allows 3 restarts in 5 s, as Elixir's and otpd's do") {
  Journal journal;
  ManualTime time;
  Scheduler scheduler(2, {}, &time);
  auto sup = Supervisor::start(scheduler, {.on_report = into(journal)}, {worker(journal, "a")});
  REQUIRE(journal.wait_for(1));
  // Three restarts within 4 s, then the first is more than 5 s old.
  for (int i = 0; i < 3; ++i) {
    crash_and_restart(sup, journal, "a", 3);
    time.advance(2s);
  }
  crash_and_restart(sup, journal, "a", 3);  // at 6 s: 2, 4 and 6 count
  const std::size_t before = journal.size();
  child(sup, "a").cast(&Member::crash);  // a fourth at 6 s: one too many
  CHECK(ended(sup.pid()));
  CHECK(journal.since(before) == Lines{"a terminate error: a crashed",
                                       "report child_terminated a error: a crashed",
                                       "report reached_max_restart_intensity a error: a crashed"});
}

TEST_CASE("a restart exactly `period` old still counts; one a moment older does not") {
  Journal journal;
  ManualTime time;
  Scheduler scheduler(2, {}, &time);
  auto sup = Supervisor::start(scheduler, {.intensity = 1, .period = 1s}, {worker(journal, "a")});
  REQUIRE(journal.wait_for(1));
  crash_and_restart(sup, journal, "a");
  time.advance(1s + 1ms);
  crash_and_restart(sup, journal, "a");  // the first is out of the window
  time.advance(1s);
  child(sup, "a").cast(&Member::crash);  // the second is exactly 1 s old: two in the window
  CHECK(ended(sup.pid()));
}

TEST_CASE("stop ends the children in reverse order of their start") {
  Journal journal;
  Scheduler scheduler(2);
  auto sup = Supervisor::start(scheduler, {}, abc(journal));
  REQUIRE(journal.wait_for(3));
  sup.stop().wait();
  CHECK(journal.since(3) ==
        Lines{"c terminate shutdown", "b terminate shutdown", "a terminate shutdown"});
  CHECK(ended(sup.pid()));
}

// Traps exits and ignores them, its supervisor's `shutdown` included.
class Stubborn final : public Process {
 public:
  explicit Stubborn(Journal& journal) : journal_(journal) { trap_exits(true); }

 protected:
  void on_exit_message(const Pid&, const ExitReason& reason) override {
    journal_.add("stubborn ignores " + reason.text());
  }
  void on_terminate(const ExitReason& reason) override {
    journal_.add("stubborn terminate " + reason.text());
  }

 private:
  Journal& journal_;
};

TEST_CASE("a shutdown timeout kills a worker that has not ended when it expires") {
  Journal journal;
  ManualTime time;
  Scheduler scheduler(2, {}, &time);
  auto sup =
      Supervisor::start(scheduler, {.on_report = into(journal)},
                        {{.name = "stubborn",
                          .start = [&journal] { return start_link<Stubborn>(journal).pid(); },
                          .shutdown = Shutdown::after(100ms)}});
  Answer<void> stopped(sup.terminate_child("stubborn"));
  REQUIRE(journal.wait_for(1));  // it has the signal, and the timer runs
  time.advance(99ms);
  // Nothing but the timer can end it: not done before the timeout.
  CHECK_FALSE(stopped.finished(0ms));
  time.advance(1ms);
  REQUIRE(stopped.finished());
  // Killed: no terminate, as in OTP.
  CHECK(journal.lines() ==
        Lines{"stubborn ignores shutdown", "report shutdown_error stubborn killed"});
  CHECK(names_running(sup).empty());
}

// A supervisor shares its thread with its children, so it runs between
// their batches of messages: a kill takes effect before the child's next
// message, and what is still queued is dropped.
TEST_CASE("brutal_kill ends a worker before its next message; the rest is dropped") {
  Journal journal;
  Scheduler scheduler(2);
  auto sup = Supervisor::start(scheduler, {.on_report = into(journal)},
                               {worker(journal, "w", {.shutdown = Shutdown::brutal_kill()})});
  REQUIRE(journal.wait_for(1));
  const auto w = child(sup, "w");
  auto gate = std::make_shared<otpd::test::Gate>();
  auto handled = std::make_shared<std::atomic<int>>(0);
  w.cast(&Member::hold, gate);
  REQUIRE(gate->wait_arrived());
  for (int i = 0; i < 1000; ++i) w.cast(&Member::count, handled);
  Answer<void> stopped(sup.terminate_child("w"));
  gate->open();
  REQUIRE(stopped.finished());
  CHECK(*handled < 1000);
  // No terminate (killed), and no shutdown_error: killed is what brutal_kill expects.
  CHECK(journal.lines() == Lines{"w init"});
}

TEST_CASE("shutdown infinity waits for everything queued before the signal") {
  Journal journal;
  Scheduler scheduler(2);
  auto sup = Supervisor::start(scheduler, {.on_report = into(journal)},
                               {worker(journal, "w", {.shutdown = Shutdown::infinity()})});
  REQUIRE(journal.wait_for(1));
  for (int i = 0; i < 5; ++i) child(sup, "w").cast(&Member::note, std::to_string(i));
  sup.terminate_child("w").wait();
  CHECK(journal.lines() ==
        Lines{"w init", "w 0", "w 1", "w 2", "w 3", "w 4", "w terminate shutdown"});
}

// A worker spec whose start also notes the pid it started, for the test
// to look at afterwards.
ChildSpec noted(ChildSpec spec, std::vector<Pid>& pids) {
  spec.start = [start = std::move(spec.start), &pids] {
    Pid pid = start();
    pids.push_back(pid);
    return pid;
  };
  return spec;
}

std::string start_failure(const std::function<void()>& start) {
  try {
    start();
  } catch (const StartError& e) {
    return e.reason().text();
  }
  return "started";
}

// As OTP's: the children already started are stopped, last first, each
// waited for, before the start reports its failure.
TEST_CASE("a child that fails to start fails its supervisor's start once the others have ended") {
  Journal journal;
  Scheduler scheduler(2);
  auto failing = std::make_shared<std::atomic<int>>(1);
  std::vector<Pid> started;
  CHECK(start_failure([&] {
          Supervisor::start(
              scheduler, {.on_report = into(journal)},
              {noted(worker(journal, "a"), started),
               noted(worker(journal, "b", {.shutdown = Shutdown::brutal_kill()}), started),
               noted(worker(journal, "c"), started),
               worker(journal, "d", {.failing_starts = failing})});
        }) == "{shutdown, failed_to_start_child d: error: no d today}");
  // Nothing more to wait for: all of it happened before the start returned.
  CHECK(journal.lines() == Lines{"a init", "b init", "c init",
                                 "report start_error d error: no d today", "c terminate shutdown",
                                 "a terminate shutdown"});
  REQUIRE(started.size() == 3);
  for (const Pid& pid : started) CHECK_FALSE(pid.get()->alive());
}

TEST_CASE(
    "a nested supervisor whose start fails has stopped its children before its parent hears") {
  Journal journal;
  Scheduler scheduler(2);
  auto failing = std::make_shared<std::atomic<int>>(1);
  std::vector<Pid> started;
  CHECK(start_failure([&] {
          Supervisor::start(
              scheduler, {.on_report = into(journal)},
              {noted(worker(journal, "x"), started),
               Supervisor::child_spec("sub", {.on_report = into(journal)},
                                      {noted(worker(journal, "y"), started),
                                       worker(journal, "z", {.failing_starts = failing})})});
        }) ==
        "{shutdown, failed_to_start_child sub: {shutdown, failed_to_start_child z: "
        "error: no z today}}");
  CHECK(journal.lines() ==
        Lines{"x init", "y init", "report start_error z error: no z today", "y terminate shutdown",
              "report start_error sub {shutdown, failed_to_start_child z: error: no z today}",
              "x terminate shutdown"});
  REQUIRE(started.size() == 2);
  for (const Pid& pid : started) CHECK_FALSE(pid.get()->alive());
}

TEST_CASE("a failed start waits out a child's shutdown timeout, then kills it, before the next") {
  Journal journal;
  ManualTime time;
  Scheduler scheduler(2, {}, &time);
  auto failing = std::make_shared<std::atomic<int>>(1);
  auto outcome = std::async(std::launch::async, [&] {
    return start_failure([&] {
      Supervisor::start(scheduler, {.on_report = into(journal)},
                        {worker(journal, "a"),
                         {.name = "stubborn",
                          .start = [&journal] { return start_link<Stubborn>(journal).pid(); },
                          .shutdown = Shutdown::after(100ms)},
                         worker(journal, "c", {.failing_starts = failing})});
    });
  });
  REQUIRE(journal.wait_for(3));  // the stubborn one has its `shutdown`, and the timer runs
  time.advance(99ms);
  CHECK(outcome.wait_for(0ms) == std::future_status::timeout);
  CHECK(journal.lines() ==
        Lines{"a init", "report start_error c error: no c today", "stubborn ignores shutdown"});
  time.advance(1ms);
  REQUIRE(outcome.wait_for(5s) == std::future_status::ready);
  CHECK(outcome.get() == "{shutdown, failed_to_start_child c: error: no c today}");
  CHECK(journal.since(3) == Lines{"report shutdown_error stubborn killed", "a terminate shutdown"});
}

TEST_CASE("a restart that fails is tried again as another restart, within the intensity") {
  Journal journal;
  Scheduler scheduler(2);
  auto failing = std::make_shared<std::atomic<int>>(0);
  auto sup = Supervisor::start(scheduler, {.intensity = 3, .on_report = into(journal)},
                               {worker(journal, "a", {.failing_starts = failing})});
  REQUIRE(journal.wait_for(1));
  *failing = 2;  // the next two starts fail, the third succeeds
  child(sup, "a").cast(&Member::crash);
  REQUIRE(journal.wait_for(6));
  CHECK(journal.since(1) == Lines{"a terminate error: a crashed",
                                  "report child_terminated a error: a crashed",
                                  "report start_error a error: no a today",
                                  "report start_error a error: no a today", "a init"});
  CHECK(names_running(sup) == Lines{"a"});
  sup.stop().wait();
}

TEST_CASE("start_child, terminate_child, restart_child, delete_child and their errors") {
  Journal journal;
  Scheduler scheduler(2);
  auto sup = Supervisor::start(scheduler, {}, {worker(journal, "a")});
  const Pid b = sup.start_child(worker(journal, "b")).wait();
  CHECK(b);
  CHECK(child(sup, "b").pid() == b);

  auto error_of = [](auto request) {
    try {
      std::move(request).wait();
    } catch (const SupervisorError& e) {
      return e.kind();
    }
    FAIL("the request must fail");
    return SupervisorError::Kind::invalid_spec;
  };
  CHECK(error_of(sup.start_child(worker(journal, "b"))) == SupervisorError::Kind::already_started);
  CHECK(error_of(sup.start_child(ChildSpec{.name = "x"})) == SupervisorError::Kind::invalid_spec);
  auto failing = std::make_shared<std::atomic<int>>(1);
  CHECK(error_of(sup.start_child(worker(journal, "f", {.failing_starts = failing}))) ==
        SupervisorError::Kind::start_failed);
  CHECK(error_of(sup.delete_child("b")) == SupervisorError::Kind::running);
  CHECK(error_of(sup.restart_child("b")) == SupervisorError::Kind::running);
  CHECK(error_of(sup.terminate_child("nobody")) == SupervisorError::Kind::not_found);

  sup.terminate_child("b").wait();
  CHECK(ended(b));
  CHECK(error_of(sup.start_child(worker(journal, "b"))) == SupervisorError::Kind::already_present);
  const ChildCounts counts = sup.count_children().wait();
  CHECK(counts.specs == 2);
  CHECK(counts.active == 1);
  CHECK(counts.workers == 2);
  CHECK(counts.supervisors == 0);
  const Pid b2 = sup.restart_child("b").wait();
  CHECK((b2 && b2 != b));
  sup.terminate_child("b").wait();
  sup.delete_child("b").wait();
  CHECK(error_of(sup.restart_child("b")) == SupervisorError::Kind::not_found);
  CHECK(names_running(sup) == Lines{"a"});
  sup.stop().wait();
}

TEST_CASE("nested supervisors: a sub-supervisor restarts its own, and is restarted as a child") {
  Journal journal;
  Scheduler scheduler(2);
  auto top = Supervisor::start(
      scheduler, {.on_report = into(journal)},
      {worker(journal, "top-worker"),
       Supervisor::child_spec(
           "sub", {.strategy = Strategy::one_for_all, .intensity = 0, .on_report = into(journal)},
           {worker(journal, "x"), worker(journal, "y")})});
  REQUIRE(journal.wait_for(3));
  const Supervisor sub(child(top, "sub").pid());
  const auto sub_children = sub.which_children().wait();
  CHECK(top.count_children().wait().supervisors == 1);
  // Intensity 0: the sub-supervisor gives up at once, and the top one
  // restarts it (and with it, its children).
  Server<Member>(sub_children[0].pid).cast(&Member::crash);
  journal.wait_for(10);
  CHECK(journal.since(3) ==
        Lines{"x terminate error: x crashed", "report child_terminated x error: x crashed",
              "report reached_max_restart_intensity x error: x crashed", "y terminate shutdown",
              "report child_terminated sub shutdown", "x init", "y init"});
  CHECK(ended(sub.pid()));
  const Supervisor sub2(child(top, "sub").pid());
  CHECK(sub2.pid() != sub.pid());
  CHECK(names_running(sub2) == Lines{"x", "y"});
  top.stop().wait();
  CHECK(journal.since(10) ==
        Lines{"y terminate shutdown", "x terminate shutdown", "top-worker terminate shutdown"});
}

// A handler in another process drives a supervisor with co_await.
class Manager : public GenServer<Manager> {
 public:
  explicit Manager(Journal& journal) : journal_(journal) {}
  void init() { sup_ = Supervisor::start_link({}, {worker(journal_, "m1")}); }
  Async<std::size_t> grow() {
    co_await sup_.start_child(worker(journal_, "m2"));
    co_await sup_.terminate_child("m1");
    const ChildCounts counts = co_await sup_.count_children();
    co_return counts.active;
  }
  Supervisor supervisor() const { return sup_; }

 private:
  Journal& journal_;
  Supervisor sup_;
};

TEST_CASE("requests are awaited from a handler; a supervisor ends with its parent") {
  Journal journal;
  Scheduler scheduler(2);
  auto manager = start<Manager>(scheduler, journal);
  CHECK(manager.call_blocking(&Manager::grow) == 1);
  const Supervisor sup = manager.call_blocking(&Manager::supervisor);
  manager.stop(ExitReason::shutdown());
  CHECK(ended(sup.pid()));
  CHECK(journal.lines() ==
        Lines{"m1 init", "m2 init", "m1 terminate shutdown", "m2 terminate shutdown"});
}

TEST_CASE("a crash in init, a handler or terminate never takes the test process down") {
  Journal journal;
  Scheduler scheduler(1);
  auto sup = Supervisor::start(scheduler, {.intensity = 1000},
                               {worker(journal, "a"), worker(journal, "b")});
  for (int i = 0; i < 200; ++i) child(sup, i % 2 == 0 ? "a" : "b").cast(&Member::crash);
  // Each crash was sent before this ping: a child that answers has none
  // left to handle, and one that does not has ended, its exit on the way
  // to the supervisor (a listing that still shows it is asked again).
  for (const char* name : {"a", "b"}) {
    for (int crashes_left = 200; crashes_left >= 0; --crashes_left) {
      const Server<Member> current = child(sup, name);
      REQUIRE(current.pid());
      try {
        current.call_blocking(&Member::ping);
        break;
      } catch (const CallError&) {
        REQUIRE(ended(current.pid()));
      }
    }
  }
  CHECK(names_running(sup) == Lines{"a", "b"});
  sup.stop().wait();
  CHECK(ended(sup.pid()));
}

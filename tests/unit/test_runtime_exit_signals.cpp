// OTP's rules for exit signals and terminate, one test each: terminate runs
// when a gen_server ends by itself, or when it traps exits and its parent's
// exit signal comes; an exit signal that is not trapped, and `killed`
// always, end it abruptly, without terminate.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "answer.hpp"
#include "end_processes.hpp"
#include "gate.hpp"
#include "journal.hpp"
#include "runtime/supervisor.hpp"
#include "supervision_fixtures.hpp"

using namespace otpd::runtime;
using otpd::test::Answer;
using otpd::test::end_processes;
using otpd::test::ended;
using otpd::test::Gate;
using otpd::test::into;
using otpd::test::Journal;
using otpd::test::Lines;
using otpd::test::Member;
using otpd::test::worker;
using otpd::test::WorkerOptions;
using namespace std::chrono_literals;

namespace {

// Links to another process on request, and notes its terminate and the
// exits it traps.
class Linked : public GenServer<Linked> {
 public:
  Linked(Journal& journal, std::string name, bool traps)
      : journal_(journal), name_(std::move(name)), traps_(traps) {}
  void init() { trap_exits(traps_); }
  void link_to(Pid other) {
    link(other);
    journal_.add(name_ + " linked");
  }
  void crash() { throw std::runtime_error(name_ + " crashed"); }
  void terminate(const ExitReason& reason) { journal_.add(name_ + " terminate " + reason.text()); }
  void handle_exit(const Pid&, const ExitReason& reason) {
    journal_.add(name_ + " trapped " + reason.text());
  }
  int ping() const { return 1; }
  // Holds this server's thread until `gate` opens, then unlinks `other`.
  void hold_then_unlink(std::shared_ptr<Gate> gate, Pid other) {
    gate->arrive_and_wait();
    unlink(other);
  }
  void hold(std::shared_ptr<Gate> gate) { gate->arrive_and_wait(); }
  void count(std::shared_ptr<std::atomic<int>> handled) { ++*handled; }
  void watch(Pid other) { monitor(other); }
  void handle_down(MonitorRef, const Pid&, const ExitReason& reason) {
    journal_.add(name_ + " saw down " + reason.text());
  }

 private:
  Journal& journal_;
  std::string name_;
  bool traps_;
};

Pid child_pid(const Supervisor& sup, const std::string& name) {
  for (const ChildInfo& info : sup.which_children().wait()) {
    if (info.name == name) return info.pid;
  }
  return {};
}

Supervisor one_worker(Scheduler& scheduler, Journal& journal, WorkerOptions options) {
  auto sup = Supervisor::start(scheduler, {.on_report = into(journal)},
                               {worker(journal, "w", std::move(options))});
  REQUIRE(journal.wait_for(1));
  return sup;
}

}  // namespace

TEST_CASE(
    "a gen_server that does not trap exits ends without terminate when its supervisor "
    "stops it") {
  Journal journal;
  Scheduler scheduler(2);
  auto sup = one_worker(scheduler, journal, {.traps_exits = false});
  const Pid w = child_pid(sup, "w");
  sup.terminate_child("w").wait();
  CHECK(ended(w));
  CHECK(journal.lines() == Lines{"w init"});  // shutdown is the expected end: no report either
  sup.stop().wait();
}

TEST_CASE("a gen_server that traps exits runs terminate(shutdown) when its supervisor stops it") {
  Journal journal;
  Scheduler scheduler(2);
  auto sup = one_worker(scheduler, journal, {.traps_exits = true});
  sup.terminate_child("w").wait();
  CHECK(journal.lines() == Lines{"w init", "w terminate shutdown"});
  sup.stop().wait();
}

TEST_CASE("brutal_kill ends a worker without terminate, trapping exits or not") {
  for (const bool traps : {false, true}) {
    CAPTURE(traps);
    Journal journal;
    Scheduler scheduler(2);
    auto sup =
        one_worker(scheduler, journal, {.shutdown = Shutdown::brutal_kill(), .traps_exits = traps});
    const Pid w = child_pid(sup, "w");
    sup.terminate_child("w").wait();
    CHECK(ended(w));
    CHECK(journal.lines() == Lines{"w init"});  // no terminate, and `killed` is no shutdown_error
    sup.stop().wait();
  }
}

TEST_CASE(
    "a gen_server that does not trap exits ends without terminate when a linked process "
    "crashes") {
  Journal journal;
  Scheduler scheduler(2);
  auto a = start<Linked>(scheduler, journal, "a", false);
  auto b = start<Linked>(scheduler, journal, "b", false);
  a.call_blocking(&Linked::link_to, b.pid());
  b.cast(&Linked::crash);
  CHECK(ended(a.pid()));
  CHECK(journal.lines() == Lines{"a linked", "b terminate error: b crashed"});
}

TEST_CASE("a gen_server that traps exits gets a linked process's crash as a message and runs on") {
  Journal journal;
  Scheduler scheduler(2);
  auto a = start<Linked>(scheduler, journal, "a", true);
  auto b = start<Linked>(scheduler, journal, "b", false);
  a.call_blocking(&Linked::link_to, b.pid());
  b.cast(&Linked::crash);
  REQUIRE(journal.wait_for(3));
  CHECK(a.call_blocking(&Linked::ping) == 1);
  CHECK(journal.lines() == Lines{"a linked", "b terminate error: b crashed",
                                 "a trapped error: b "
                                 "crashed"});
  CHECK(end_processes({a.pid()}));
}

TEST_CASE(
    "shutdown from a process other than the parent is a message to a gen_server that traps "
    "exits") {
  Journal journal;
  Scheduler scheduler(2);
  auto a = start<Linked>(scheduler, journal, "a", true);
  Process::exit_signal(a.pid(), ExitReason::shutdown());
  REQUIRE(journal.wait_for(1));
  CHECK(a.call_blocking(&Linked::ping) == 1);
  CHECK(journal.lines() == Lines{"a trapped shutdown"});
  CHECK(end_processes({a.pid()}));
}

TEST_CASE("an exit signal normal is ignored by a gen_server that does not trap exits") {
  Journal journal;
  Scheduler scheduler(2);
  auto a = start<Linked>(scheduler, journal, "a", false);
  Process::exit_signal(a.pid(), ExitReason::normal());
  CHECK(a.call_blocking(&Linked::ping) == 1);
  CHECK(journal.lines().empty());
  CHECK(end_processes({a.pid()}));
}

TEST_CASE("killed ends a gen_server that traps exits, without terminate") {
  Journal journal;
  Scheduler scheduler(2);
  auto a = start<Linked>(scheduler, journal, "a", true);
  CHECK(a.call_blocking(&Linked::ping) == 1);
  Process::exit_signal(a.pid(), ExitReason::killed());
  CHECK(ended(a.pid()));
  CHECK(journal.lines().empty());
}

TEST_CASE("terminate runs when a gen_server stops itself or a handler throws") {
  Journal journal;
  Scheduler scheduler(2);
  auto sup = Supervisor::start(
      scheduler, {.intensity = 10},
      {worker(journal, "a", {.traps_exits = false}), worker(journal, "b", {.traps_exits = false})});
  REQUIRE(journal.wait_for(2));
  Server<Member>(child_pid(sup, "a")).cast(&Member::quit, ExitReason::shutdown("done"));
  Server<Member>(child_pid(sup, "b")).cast(&Member::crash);
  REQUIRE(journal.wait_for(6));
  const Lines lines = journal.since(2);
  CHECK(std::count(lines.begin(), lines.end(), "a terminate {shutdown, done}") == 1);
  CHECK(std::count(lines.begin(), lines.end(), "b terminate error: b crashed") == 1);
  sup.stop().wait();
}

// On the BEAM an exit signal is not a message: it acts when it arrives, not
// after the messages queued before it.
TEST_CASE("an exit signal ends a gen_server that does not trap exits before its queued messages") {
  Journal journal;
  Scheduler scheduler(1);
  auto a = start<Linked>(scheduler, journal, "a", false);
  auto gate = std::make_shared<Gate>();
  auto handled = std::make_shared<std::atomic<int>>(0);
  a.cast(&Linked::hold, gate);
  for (int i = 0; i < 1000; ++i) a.cast(&Linked::count, handled);
  Process::exit_signal(a.pid(), ExitReason::shutdown());
  gate->open();
  CHECK(ended(a.pid()));
  CHECK(*handled == 0);
}

TEST_CASE(
    "a gen_server that traps exits reads its parent's shutdown after the messages before it") {
  Journal journal;
  Scheduler scheduler(1);
  auto handled = std::make_shared<std::atomic<int>>(0);
  auto gate = std::make_shared<Gate>();
  auto sup =
      Supervisor::start(scheduler, {}, {{.name = "a", .start = [&journal] {
                                           return start_link<Linked>(journal, "a", true).pid();
                                         }}});
  const Server<Linked> a(child_pid(sup, "a"));
  a.cast(&Linked::hold, gate);
  for (int i = 0; i < 100; ++i) a.cast(&Linked::count, handled);
  Answer<void> stopped(sup.terminate_child("a"));
  gate->open();
  REQUIRE(stopped.finished());
  CHECK(*handled == 100);
  CHECK(journal.lines() == Lines{"a terminate shutdown"});
  sup.stop().wait();
}

TEST_CASE("the exit signal of a link undone before it arrived is dropped") {
  Journal journal;
  Scheduler scheduler(3);  // a, b and the watcher each on a thread of its own
  auto a = start<Linked>(scheduler, journal, "a", false);
  auto b = start<Linked>(scheduler, journal, "b", false);
  auto watcher = start<Linked>(scheduler, journal, "watcher", false);
  a.call_blocking(&Linked::link_to, b.pid());
  watcher.call_blocking(&Linked::watch, b.pid());
  auto gate = std::make_shared<Gate>();
  a.cast(&Linked::hold_then_unlink, gate, b.pid());
  // a is in the handler before b crashes: the exit signal comes after it.
  REQUIRE(gate->wait_arrived());
  b.cast(&Linked::crash);
  // b's exit signal to a goes before its 'DOWN': it waits in a's mailbox.
  REQUIRE(journal.wait_for(3));
  CHECK(journal.lines() ==
        Lines{"a linked", "b terminate error: b crashed", "watcher saw down error: b crashed"});
  gate->open();
  CHECK(a.call_blocking(&Linked::ping) == 1);
  CHECK(end_processes({a.pid(), watcher.pid()}));
}

// Processes of the in-process runtime: mailboxes, links, monitors and exit
// reasons, on real threads.
#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "journal.hpp"
#include "process_end.hpp"
#include "runtime/process.hpp"
#include "runtime/scheduler.hpp"

using namespace otpd::runtime;
using otpd::test::ends_within;
using otpd::test::Journal;
using namespace std::chrono_literals;

namespace {

// A process that runs the closures it is sent and reports what happens to it.
class Probe final : public Process {
 public:
  Probe(Journal& journal, std::string name) : journal_(journal), name_(std::move(name)) {}

  using Process::demonitor;
  using Process::exit;
  using Process::link;
  using Process::monitor;
  using Process::trap_exits;

  void note(const std::string& what) { journal_.add(name_ + " " + what); }

 protected:
  void on_exit_message(const Pid&, const ExitReason& reason) override {
    note("got exit " + reason.text());
  }
  void on_down(MonitorRef, const Pid&, const ExitReason& reason) override {
    note("got down " + reason.text());
  }
  void on_ended(const ExitReason& reason) override { note("ended " + reason.text()); }

 private:
  Journal& journal_;
  std::string name_;
};

Pid start_probe(Scheduler& s, Journal& journal, const std::string& name) {
  auto* probe = new Probe(journal, name);
  Pid pid = probe->self();
  s.start(*probe);
  return pid;
}

template <typename Fn>
void run_in(const Pid& pid, Fn fn) {
  pid.send(make_envelope([fn = std::move(fn)](Process& p) { fn(static_cast<Probe&>(p)); }));
}

}  // namespace

TEST_CASE("messages from one sender arrive in the order sent") {
  Journal journal;
  Scheduler scheduler(2);
  Pid p = start_probe(scheduler, journal, "p");
  for (int i = 0; i < 1000; ++i) {
    run_in(p, [i](Probe& self) { self.note(std::to_string(i)); });
  }
  REQUIRE(journal.wait_for(1000));
  const auto lines = journal.lines();
  for (int i = 0; i < 1000; ++i)
    CHECK(lines[static_cast<std::size_t>(i)] == "p " + std::to_string(i));
}

TEST_CASE("an exception escaping a handler ends the process with an error, not otpd") {
  Journal journal;
  Scheduler scheduler(2);
  Pid p = start_probe(scheduler, journal, "p");
  run_in(p, [](Probe&) { throw std::runtime_error("boom"); });
  run_in(p, [](Probe& self) { self.note("never runs"); });
  REQUIRE(journal.wait_for(1));
  CHECK(journal.lines() == std::vector<std::string>{"p ended error: boom"});
  CHECK(ends_within(p));
}

TEST_CASE("a crash travels along links; a process that traps exits gets a message") {
  Journal journal;
  Scheduler scheduler(2);
  Pid a = start_probe(scheduler, journal, "a");
  Pid b = start_probe(scheduler, journal, "b");
  Pid c = start_probe(scheduler, journal, "c");
  // c traps and each link is made before the crash: an exit signal does
  // not wait for the messages queued before it, these requests included.
  run_in(c, [](Probe& self) {
    self.trap_exits(true);
    self.note("traps");
  });
  REQUIRE(journal.wait_for(1));
  run_in(b, [c](Probe& self) {
    self.link(c);
    self.note("linked");
  });
  REQUIRE(journal.wait_for(2));
  run_in(a, [b](Probe& self) {
    self.link(b);
    self.note("linked");
  });
  REQUIRE(journal.wait_for(3));
  run_in(a, [](Probe&) { throw std::runtime_error("bad"); });
  REQUIRE(journal.wait_for(6));
  const auto lines = journal.lines();
  CHECK(lines == std::vector<std::string>{"c traps", "b linked", "a linked", "a ended error: bad",
                                          "b ended error: bad", "c got exit error: bad"});
  CHECK(c.get()->alive());
}

TEST_CASE("a normal exit does not take linked processes down") {
  Journal journal;
  Scheduler scheduler(1);
  Pid a = start_probe(scheduler, journal, "a");
  Pid b = start_probe(scheduler, journal, "b");
  run_in(a, [b](Probe& self) {
    self.link(b);
    self.exit(ExitReason::normal());
  });
  REQUIRE(journal.wait_for(1));
  run_in(b, [](Probe& self) { self.note("still here"); });
  REQUIRE(journal.wait_for(2));
  CHECK(journal.lines() == std::vector<std::string>{"a ended normal", "b still here"});
}

TEST_CASE("kill cannot be trapped") {
  Journal journal;
  Scheduler scheduler(1);
  Pid a = start_probe(scheduler, journal, "a");
  run_in(a, [](Probe& self) { self.trap_exits(true); });
  Process::exit_signal(a, ExitReason::killed());
  REQUIRE(journal.wait_for(1));
  CHECK(journal.lines() == std::vector<std::string>{"a ended killed"});
}

TEST_CASE("monitors report the end once; demonitor takes a report back") {
  Journal journal;
  Scheduler scheduler(2);
  Pid watcher = start_probe(scheduler, journal, "w");
  Pid target = start_probe(scheduler, journal, "t");
  Pid other = start_probe(scheduler, journal, "o");
  run_in(watcher, [target, other](Probe& self) {
    self.monitor(target);
    const MonitorRef ref = self.monitor(other);
    self.demonitor(ref);
    self.note("watching");
  });
  REQUIRE(journal.wait_for(1));
  Process::exit_signal(other, ExitReason::error("x"));
  Process::exit_signal(target, ExitReason::shutdown("drained"));
  REQUIRE(journal.wait_for(4));
  auto lines = journal.lines();
  std::sort(lines.begin() + 1, lines.end());
  CHECK(lines == std::vector<std::string>{"w watching", "o ended error: x",
                                          "t ended {shutdown, drained}",
                                          "w got down {shutdown, drained}"});
}

TEST_CASE("linking to or monitoring an ended process reports noproc") {
  Journal journal;
  Scheduler scheduler(1);
  Pid gone = start_probe(scheduler, journal, "gone");
  Process::exit_signal(gone, ExitReason::error("x"));
  REQUIRE(journal.wait_for(1));
  Pid a = start_probe(scheduler, journal, "a");
  run_in(a, [gone](Probe& self) {
    self.trap_exits(true);
    self.monitor(gone);
    self.link(gone);
  });
  REQUIRE(journal.wait_for(3));
  CHECK(journal.lines() == std::vector<std::string>{"gone ended error: x",
                                                    "a got down error: noproc",
                                                    "a got exit error: noproc"});
}

TEST_CASE("the scheduler ends with processes still alive, leaving nothing behind") {
  {
    // Some not even started: ASan checks that nothing leaks.
    Journal ignored;
    Scheduler scheduler(2);
    for (int i = 0; i < 1000; ++i) start_probe(scheduler, ignored, "p");
  }
  Journal journal;
  Pid kept;
  {
    Scheduler scheduler(2);
    std::vector<Pid> probes;
    for (int i = 0; i < 100; ++i) probes.push_back(start_probe(scheduler, journal, "p"));
    kept = start_probe(scheduler, journal, "kept");
    probes.push_back(kept);
    // Each has run, and so is on its thread's list of live processes.
    for (const Pid& probe : probes) run_in(probe, [](Probe& self) { self.note("ran"); });
    REQUIRE(journal.wait_for(101));
    CHECK(scheduler.live_processes() == 101);
  }
  CHECK(!kept.get()->alive());
}

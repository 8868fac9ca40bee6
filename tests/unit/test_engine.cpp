// The supervisor engine against OTP's documented behaviour, on a hand-driven
// clock with fake processes.
#include <doctest/doctest.h>
#include <signal.h>

#include "engine_world.hpp"
#include "fake_host.hpp"
#include "supervise/group_owners.hpp"
#include "supervise/program_hints.hpp"
#include "supervise/status_summary.hpp"
#include "supervise/tree.hpp"

using namespace std::chrono_literals;
using otpd::config::ChildSpec;
using otpd::config::ProcessSpec;
using otpd::config::RestartType;
using otpd::config::Shutdown;
using otpd::config::Strategy;
using otpd::config::SupervisorSpec;
using otpd::supervise::ChildExit;
using otpd::supervise::ChildState;
using otpd::supervise::Done;
using otpd::supervise::EventKind;
using otpd::supervise::ExitStatus;
using otpd::supervise::Tree;
using Lines = std::vector<std::string>;

namespace {

using otpd::test::Answer;
using otpd::test::process_child;
using otpd::test::supervisor_child;
using otpd::test::supervisor_spec;
using World = otpd::test::EngineWorld;

const ExitStatus crash = ExitStatus::exited(1);
const ExitStatus clean = ExitStatus::exited(0);

}  // namespace

TEST_CASE("children start in order, each only after the previous one runs") {
  World w(supervisor_spec(Strategy::one_for_one,
                          {process_child("a"), process_child("b"), process_child("c")}));
  w.boot();
  CHECK(w.start_result.succeeded());
  CHECK(w.take_history() == Lines{"start a", "start b", "start c"});
  CHECK(w.sink.lines({EventKind::starting, EventKind::started}) ==
        Lines{"starting a", "started a", "starting b", "started b", "starting c", "started c",
              "started /"});
}

TEST_CASE("one_for_one restarts only the child that failed") {
  World w(supervisor_spec(Strategy::one_for_one,
                          {process_child("a"), process_child("b"), process_child("c")}));
  w.boot().take_history();
  const int old_b = w.procs.pid_of("b");
  w.procs.exit("b", crash);
  CHECK(w.take_history() == Lines{"exit b", "start b"});
  CHECK(w.procs.pid_of("b") != old_b);
  CHECK(w.procs.running("a"));
  CHECK(w.procs.running("c"));
}

TEST_CASE("one_for_all stops the others in reverse order and restarts all in order") {
  World w(supervisor_spec(Strategy::one_for_all, {process_child("a"), process_child("b"),
                                                  process_child("c"), process_child("d")}));
  w.boot().take_history();
  w.procs.exit("b", crash);
  CHECK(w.take_history() == Lines{"exit b", "term d", "exit d", "term c", "exit c", "term a",
                                  "exit a", "start a", "start b", "start c", "start d"});
}

TEST_CASE("rest_for_one stops the younger siblings in reverse and restarts them with it") {
  World w(supervisor_spec(Strategy::rest_for_one, {process_child("a"), process_child("b"),
                                                   process_child("c"), process_child("d")}));
  w.boot().take_history();
  w.procs.exit("b", crash);
  CHECK(w.take_history() ==
        Lines{"exit b", "term d", "exit d", "term c", "exit c", "start b", "start c", "start d"});
  w.procs.exit("d", crash);
  CHECK(w.take_history() == Lines{"exit d", "start d"});
}

TEST_CASE("a permanent child is restarted even after a normal exit") {
  World w(supervisor_spec(Strategy::one_for_one, {process_child("a")}));
  w.boot().take_history();
  w.procs.exit("a", clean);
  CHECK(w.take_history() == Lines{"exit a", "start a"});
}

TEST_CASE("a transient child is restarted only after an abnormal exit") {
  ChildSpec t = process_child("t", RestartType::transient);
  std::get<ProcessSpec>(t.body).normal_exit_codes = {3};
  std::get<ProcessSpec>(t.body).normal_exit_signals = {SIGTERM};
  World w(supervisor_spec(Strategy::one_for_all, {process_child("a"), t}));
  w.boot().take_history();

  w.procs.exit("t", crash);
  CHECK(w.take_history() ==
        Lines{"exit t", "term a", "exit a", "start a", "start t"});  // abnormal: strategy applies

  w.procs.exit("t", clean);
  CHECK(w.take_history() == Lines{"exit t"});  // normal: no strategy, no restart
  CHECK(w.procs.running("a"));
  CHECK(w.tree->root().children()[1].record.state == ChildState::stopped);
  CHECK(w.tree->root().intensity_used() == 1);
}

TEST_CASE("a transient child's listed exit codes and signals count as normal") {
  ChildSpec t = process_child("t", RestartType::transient);
  std::get<ProcessSpec>(t.body).normal_exit_codes = {3};
  std::get<ProcessSpec>(t.body).normal_exit_signals = {SIGTERM};
  for (ExitStatus status : {ExitStatus::exited(3), ExitStatus::killed(SIGTERM)}) {
    World w(supervisor_spec(Strategy::one_for_one, {t}));
    w.boot().take_history();
    w.procs.exit("t", status);
    CHECK(w.take_history() == Lines{"exit t"});
  }
  World w(supervisor_spec(Strategy::one_for_one, {t}));
  w.boot().take_history();
  w.procs.exit("t", ExitStatus::killed(SIGKILL));
  CHECK(w.take_history() == Lines{"exit t", "start t"});
}

TEST_CASE("a temporary child is never restarted, is removed, and uses no restart budget") {
  World w(supervisor_spec(Strategy::one_for_all,
                          {process_child("a"), process_child("tmp", RestartType::temporary)}, 0));
  w.boot().take_history();
  w.procs.exit("tmp", crash);
  CHECK(w.take_history() == Lines{"exit tmp"});
  CHECK(w.sink.count(EventKind::removed, "tmp") == 1);
  CHECK(w.tree->root().children().size() == 1);
  CHECK(w.tree->running());  // intensity 0, yet no give-up: nothing was restarted
  CHECK(!w.gave_up);
}

TEST_CASE("more than `intensity` restarts within `period` makes the supervisor give up") {
  World w(supervisor_spec(Strategy::one_for_one,
                          {process_child("a"), process_child("b"), process_child("c")}, 3, 5s));
  w.boot().take_history();
  for (int i = 0; i < 3; ++i) {
    w.host.advance(1s);
    w.procs.exit("b", crash);
  }
  CHECK(w.procs.starts_of("b") == 3);
  CHECK(w.tree->running());
  w.take_history();
  w.host.advance(1s);
  w.procs.exit("b", crash);  // the 4th within 5 s
  CHECK(w.take_history() == Lines{"exit b", "term c", "exit c", "term a", "exit a"});
  REQUIRE(w.gave_up);
  CHECK(w.gave_up->kind == ChildExit::Kind::shutdown);
  CHECK(w.sink.count(EventKind::intensity_exceeded, "/") == 1);
  CHECK(w.sink.count(EventKind::escalated, "/") == 1);
  CHECK(!w.tree->running());
}

TEST_CASE("restarts older than `period` no longer count") {
  World w(supervisor_spec(Strategy::one_for_one, {process_child("a")}, 3, 5s));
  w.boot();
  for (int i = 0; i < 20; ++i) {
    w.host.advance(2s);  // at most 3 restarts in any 5 s window
    w.procs.exit("a", crash);
  }
  CHECK(w.procs.starts_of("a") == 21);
  CHECK(!w.gave_up);
}

TEST_CASE("a restart exactly `period` old still counts, as in OTP") {
  World w(supervisor_spec(Strategy::one_for_one, {process_child("a")}, 1, 5s));
  w.boot();
  w.procs.exit("a", crash);
  w.host.advance(5s);
  w.procs.exit("a", crash);
  CHECK(w.gave_up);
}

TEST_CASE("intensity 0 gives up at the first restart") {
  World w(supervisor_spec(Strategy::one_for_one, {process_child("a")}, 0));
  w.boot();
  w.procs.exit("a", crash);
  CHECK(w.gave_up);
  CHECK(w.procs.starts_of("a") == 1);
}

TEST_CASE("a nested supervisor that gives up is a failed child of its parent") {
  auto inner =
      supervisor_spec(Strategy::one_for_one, {process_child("x"), process_child("y")}, 1, 5s);
  World w(
      supervisor_spec(Strategy::rest_for_one,
                      {process_child("a"), supervisor_child("inner", inner), process_child("b")}));
  w.boot().take_history();
  w.procs.exit("y", crash);
  CHECK(w.take_history() == Lines{"exit y", "start y"});
  w.procs.exit("y", crash);  // inner: 2 restarts > intensity 1
  // inner stops its own children in reverse, exits; the root applies
  // rest_for_one: b goes down, then inner and b start again.
  CHECK(w.take_history() ==
        Lines{"exit y", "term x", "exit x", "term b", "exit b", "start x", "start y", "start b"});
  CHECK(w.sink.count(EventKind::escalated, "inner") == 1);
  CHECK(w.tree->root().intensity_used() == 1);
  CHECK(w.tree->running());
  CHECK(w.procs.running("a"));
}

TEST_CASE("escalation goes up to the root, and the root giving up stops everything") {
  auto inner = supervisor_spec(Strategy::one_for_one, {process_child("x")}, 0);
  World w(supervisor_spec(Strategy::one_for_one,
                          {process_child("a"), supervisor_child("inner", inner)}, 0));
  w.boot().take_history();
  w.procs.exit("x", crash);
  CHECK(w.take_history() == Lines{"exit x", "term a", "exit a"});
  CHECK(w.gave_up);
  CHECK(!w.tree->running());
}

TEST_CASE("a transient nested supervisor that gives up is not restarted (its exit is shutdown)") {
  auto inner = supervisor_spec(Strategy::one_for_one, {process_child("x")}, 0);
  World w(supervisor_spec(
      Strategy::one_for_one,
      {process_child("a"), supervisor_child("inner", inner, RestartType::transient)}));
  w.boot().take_history();
  w.procs.exit("x", crash);
  CHECK(w.take_history() == Lines{"exit x"});
  CHECK(w.procs.running("a"));
  CHECK(w.tree->root().intensity_used() == 0);
}

TEST_CASE("a start failure at the first start fails the tree and stops what had started") {
  World w(supervisor_spec(Strategy::one_for_one,
                          {process_child("a"), process_child("b"), process_child("c")}));
  w.procs.fail_starts_of("c", "command not found: c");
  w.boot();
  CHECK(w.start_result.failure == "failed to start child 'c': command not found: c");
  CHECK(w.take_history() ==
        Lines{"start a", "start b", "start c", "term b", "exit b", "term a", "exit a"});
  CHECK(!w.tree->running());
  CHECK(w.sink.count(EventKind::start_failed, "c") == 1);
}

TEST_CASE("a nested start failure fails every supervisor up to the root, naming the path") {
  auto inner = supervisor_spec(Strategy::one_for_one, {process_child("x"), process_child("y")});
  World w(
      supervisor_spec(Strategy::one_for_one,
                      {process_child("a"), supervisor_child("inner", inner), process_child("b")}));
  w.procs.fail_starts_of("y", "cannot execute y: Permission denied");
  w.boot();
  CHECK(w.start_result.failure ==
        "failed to start child 'inner': failed to start child 'y': cannot execute y: Permission "
        "denied");
  CHECK(w.take_history() ==
        Lines{"start a", "start x", "start y", "term x", "exit x", "term a", "exit a"});
}

TEST_CASE("each failed start during a restart counts against the intensity") {
  World w(supervisor_spec(Strategy::one_for_one, {process_child("a"), process_child("b")}, 3, 5s));
  w.boot().take_history();
  w.procs.fail_starts_of("b", "cannot change directory to /gone: No such file or directory");
  w.procs.exit("b", crash);
  // One restart for the crash plus retries until the budget of 3 is spent.
  CHECK(w.procs.starts_of("b") == 3);
  CHECK(w.gave_up);
  CHECK(w.sink.count(EventKind::start_failed, "b") == 3);
  CHECK(!w.procs.running("a"));
}

TEST_CASE("a failed start recovers when a retry succeeds") {
  auto root = supervisor_spec(Strategy::one_for_one, {process_child("a")}, 5, 1h);
  root.backoff = otpd::config::Backoff{100ms, 1s, 2.0, 10s};
  World w(root);
  w.boot().take_history();
  w.procs.fail_starts_of("a", "boom");
  w.procs.exit("a", crash);
  w.host.advance(100ms);
  CHECK(w.take_history() == Lines{"exit a", "start a"});
  CHECK(w.tree->root().children()[0].record.state == ChildState::backoff);  // the retry waits too
  w.procs.allow_starts_of("a");
  w.host.advance(200ms);
  CHECK(w.take_history() == Lines{"start a"});
  CHECK(w.procs.running("a"));
  CHECK(w.tree->root().children()[0].record.state == ChildState::running);
  CHECK(w.tree->root().intensity_used() == 2);
  CHECK(!w.gave_up);
}

TEST_CASE("shutdown stops children in reverse order, a nested tree before its older siblings") {
  auto inner = supervisor_spec(Strategy::one_for_one, {process_child("x"), process_child("y")});
  World w(
      supervisor_spec(Strategy::one_for_one,
                      {process_child("a"), supervisor_child("inner", inner), process_child("b")}));
  w.boot().take_history();
  w.shutdown();
  CHECK(w.stopped);
  CHECK(w.take_history() ==
        Lines{"term b", "exit b", "term y", "exit y", "term x", "exit x", "term a", "exit a"});
}

TEST_CASE("shutdown: SIGTERM, then SIGKILL when the shutdown time runs out") {
  World w(supervisor_spec(Strategy::one_for_one,
                          {process_child("a", RestartType::permanent, Shutdown::after(2s))}));
  w.procs.ignore_sigterm("a");
  w.boot().take_history();
  w.shutdown();
  CHECK(w.take_history() == Lines{"term a"});
  w.host.advance(1999ms);
  CHECK(!w.stopped);
  w.host.advance(1ms);
  CHECK(w.take_history() == Lines{"kill a", "exit a"});
  CHECK(w.stopped);
}

TEST_CASE("shutdown: brutal_kill sends SIGKILL at once; infinity waits") {
  World w(supervisor_spec(Strategy::one_for_one,
                          {process_child("slow", RestartType::permanent, Shutdown::infinity()),
                           process_child("b", RestartType::permanent, Shutdown::brutal_kill())}));
  w.procs.ignore_sigterm("slow");
  w.boot().take_history();
  w.shutdown();
  CHECK(w.take_history() == Lines{"kill b", "exit b", "term slow"});
  w.host.advance(1h);
  CHECK(!w.stopped);
  w.procs.exit("slow", clean);
  CHECK(w.stopped);
}

TEST_CASE("a child that dies while being stopped for a restart is not restarted twice") {
  World w(supervisor_spec(Strategy::one_for_all,
                          {process_child("a"), process_child("b"), process_child("c")}));
  w.procs.ignore_sigterm("c");
  w.boot().take_history();
  w.procs.exit("a", crash);
  CHECK(w.take_history() == Lines{"exit a", "term c"});
  w.procs.exit("c", crash);  // dies on its own while being stopped
  CHECK(w.host.pending_timers() == 0);
  CHECK(w.procs.starts_of("a") == 1);
  CHECK(w.procs.starts_of("b") == 1);
  CHECK(w.procs.starts_of("c") == 1);
  CHECK(w.tree->root().intensity_used() == 1);
}

TEST_CASE("a late exit of an earlier incarnation is ignored") {
  World w(supervisor_spec(Strategy::one_for_all, {process_child("a"), process_child("b")}));
  w.boot().take_history();
  // Both die before the supervisor handles either: a's exit restarts both,
  // and b's exit, still queued, belongs to an incarnation that is gone.
  const int a = w.procs.pid_of("a");
  const int b = w.procs.pid_of("b");
  w.procs.signal_group(a, SIGKILL);
  w.procs.signal_group(b, SIGKILL);
  w.host.run();
  CHECK(w.procs.starts_of("a") == 1);
  CHECK(w.procs.starts_of("b") == 1);
  CHECK(w.tree->root().intensity_used() == 1);
}

TEST_CASE("one_for_all drops temporary children and restarts transient ones that had ended") {
  World w(supervisor_spec(Strategy::one_for_all,
                          {process_child("a"), process_child("tr", RestartType::transient),
                           process_child("tmp", RestartType::temporary)}));
  w.boot().take_history();
  w.procs.exit("tr", clean);  // ends normally: stays down
  w.take_history();
  w.procs.exit("a", crash);
  CHECK(w.take_history() == Lines{"exit a", "term tmp", "exit tmp", "start a", "start tr"});
  CHECK(w.tree->root().children().size() == 2);
}

TEST_CASE("backoff delays the restart, grows, and is visible while waiting") {
  auto root = supervisor_spec(Strategy::one_for_one, {process_child("a")}, 100, 1h);
  root.backoff = otpd::config::Backoff{100ms, 1s, 2.0, 10s};
  World w(root);
  w.boot().take_history();
  w.procs.exit("a", crash);
  CHECK(w.tree->root().children()[0].record.state == ChildState::backoff);
  CHECK(w.sink.events.back().delay == otpd::supervise::Duration{100});
  w.host.advance(99ms);
  CHECK(!w.procs.running("a"));
  w.host.advance(1ms);
  CHECK(w.procs.running("a"));
  w.procs.exit("a", crash);
  w.host.advance(199ms);
  CHECK(!w.procs.running("a"));
  w.host.advance(1ms);
  CHECK(w.procs.running("a"));
  for (int i = 0; i < 5; ++i) {  // 400, 800, then capped at 1 s
    w.procs.exit("a", crash);
    w.host.advance(1s);
  }
  CHECK(w.sink.events.back().kind == EventKind::started);
  w.procs.exit("a", crash);
  CHECK(w.sink.events.back().delay == otpd::supervise::Duration{1000});
  w.host.advance(1s);
  // Up for longer than reset_after: the next delay starts over.
  w.host.advance(10s);
  w.procs.exit("a", crash);
  CHECK(w.sink.events.back().delay == otpd::supervise::Duration{100});
}

TEST_CASE("a shutdown does not wait for a pending backoff") {
  auto root = supervisor_spec(Strategy::one_for_one, {process_child("a"), process_child("b")});
  root.backoff = otpd::config::Backoff{30s, 30s, 2.0, 30s};
  World w(root);
  w.boot().take_history();
  w.procs.exit("b", crash);
  w.shutdown();
  CHECK(w.stopped);
  CHECK(w.take_history() == Lines{"exit b", "term a", "exit a"});
  CHECK(w.host.pending_timers() == 0);
}

TEST_CASE("a shutdown during the first start stops what has started") {
  auto inner = supervisor_spec(Strategy::one_for_one, {process_child("x")});
  World w(
      supervisor_spec(Strategy::one_for_one,
                      {process_child("a"), supervisor_child("inner", inner), process_child("b")}));
  w.tree->start(w.start_result.keep());
  w.tree->stop([&](Done) { w.stopped = true; });
  w.host.run();
  CHECK(w.stopped);
  CHECK(w.start_result.failure == "stopped before it finished starting");
  CHECK(!w.procs.running("a"));
  CHECK(!w.procs.running("x"));
  CHECK(!w.procs.running("b"));
}

TEST_CASE("a nested supervisor's shutdown time bounds its whole subtree") {
  auto inner = supervisor_spec(Strategy::one_for_one,
                               {process_child("x", RestartType::permanent, Shutdown::infinity())});
  ChildSpec inner_child = supervisor_child("inner", inner);
  inner_child.shutdown = Shutdown::after(3s);
  World w(supervisor_spec(Strategy::one_for_one, {inner_child}));
  w.procs.ignore_sigterm("x");
  w.boot().take_history();
  w.shutdown();
  w.host.advance(2900ms);
  CHECK(!w.stopped);
  w.host.advance(100ms);
  CHECK(w.take_history() == Lines{"term x", "kill x", "exit x"});
  CHECK(w.stopped);
}

TEST_CASE("events name the child by its path and carry pid and status") {
  auto inner = supervisor_spec(Strategy::one_for_one, {process_child("api")});
  World w(supervisor_spec(Strategy::one_for_one, {supervisor_child("app", inner)}));
  w.boot();
  const int pid = w.procs.pid_of("api");
  w.procs.exit("api", ExitStatus::killed(SIGSEGV, true));
  const auto exited = std::find_if(w.sink.events.begin(), w.sink.events.end(),
                                   [](const auto& e) { return e.kind == EventKind::exited; });
  REQUIRE(exited != w.sink.events.end());
  CHECK(exited->path == "app/api");
  CHECK(exited->pid == pid);
  CHECK(exited->status == ExitStatus::killed(SIGSEGV, true));
  CHECK(exited->reason == "killed by SIGSEGV (core dumped)");
}

TEST_CASE("an operator's stop keeps a child stopped, through group restarts, without budget") {
  World w(supervisor_spec(Strategy::one_for_all,
                          {process_child("a"), process_child("b"), process_child("c")}, 1));
  w.boot().take_history();
  Answer reply;
  w.tree->stop_child("b", reply.keep());
  w.host.run();
  CHECK(reply.succeeded());
  CHECK(w.take_history() == Lines{"term b", "exit b"});
  CHECK(w.tree->root().intensity_used() == 0);
  w.procs.exit("a", crash);  // one_for_all: b stays down
  CHECK(w.take_history() == Lines{"exit a", "term c", "exit c", "start a", "start c"});
  const auto status = w.tree->status("b");
  REQUIRE(status);
  CHECK(status->state == "stopped");
  CHECK(status->held);
  reply = {};
  w.tree->start_child("b", reply.keep());
  w.host.run();
  CHECK(reply.succeeded());
  CHECK(w.procs.running("b"));
  CHECK(!w.tree->status("b")->held);
}

TEST_CASE("an operator's restart stops and starts one child without using the budget") {
  World w(supervisor_spec(Strategy::rest_for_one, {process_child("a"), process_child("b")}, 0));
  w.boot().take_history();
  Answer reply;
  w.tree->restart_child("a", reply.keep());
  w.host.run();
  CHECK(reply.succeeded());
  CHECK(w.take_history() == Lines{"term a", "exit a", "start a"});
  CHECK(!w.gave_up);
}

TEST_CASE("operator requests name what is wrong") {
  auto inner = supervisor_spec(Strategy::one_for_one, {process_child("api")});
  World w(supervisor_spec(Strategy::one_for_one, {supervisor_child("app", inner)}));
  w.boot();
  Answer reply;
  w.tree->stop_child("app/apx", reply.keep());
  w.host.run();
  CHECK(reply.failure == "no child 'app/apx' in the tree (did you mean 'app/api'?)");
  w.procs.fail_starts_of("api", "command not found: api");
  w.tree->restart_child("app/api", reply.keep());
  w.host.run();
  CHECK(reply.failure == "command not found: api");
  const otpd::supervise::Signalled sent = w.tree->signal_child("app", SIGHUP);
  CHECK(sent.pid == 0);
  CHECK(sent.failure == "'app' is a supervisor; signals go to processes");
}

TEST_CASE("a path from outside (HTTP, the control socket) resolves or is refused, whatever it is") {
  auto api = supervisor_spec(Strategy::one_for_one, {process_child("web")});
  auto admin = supervisor_spec(Strategy::one_for_one, {process_child("web")});
  World w(supervisor_spec(Strategy::one_for_one,
                          {supervisor_child("api", api), supervisor_child("admin", admin)}));
  w.boot();
  CHECK(w.tree->resolve("api/web").path == "api/web");
  CHECK(w.tree->resolve("web").failure ==
        "'web' is the name of 2 children (api/web, admin/web): write the path of one");
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "a/";
  const std::string hostile[] = {std::string(1 << 20, 'w'), deep, "\xff\xfe\xc0\xaf",
                                 std::string("we\0b", 4), "../../web"};
  for (const std::string& written : hostile) {
    const auto resolved = w.tree->resolve(written);
    CHECK(!resolved.failure);
    CHECK(!w.tree->contains(resolved.path));
    CHECK(w.tree->not_found(written).rfind("no child '", 0) == 0);
  }
  // Slashes alone name the root, as "/" does.
  const auto slashes = w.tree->resolve(std::string(50000, '/'));
  CHECK(!slashes.failure);
  CHECK(w.tree->status(slashes.path)->path == "/");
}

TEST_CASE("a name resolves to the paths whose last whole parts it is, in start order") {
  auto jobs = supervisor_spec(Strategy::one_for_one, {process_child("web"), process_child("cron")});
  auto api = supervisor_spec(Strategy::one_for_one,
                             {process_child("web"), supervisor_child("jobs", jobs)});
  World w(supervisor_spec(Strategy::one_for_one, {supervisor_child("api", api), process_child("db"),
                                                  process_child("bweb")}));
  w.boot();
  // Parts are compared whole: "eb" is not the end of "web", nor "i/web" of "api/web".
  CHECK(w.tree->resolve("cron").path == "api/jobs/cron");
  CHECK(w.tree->resolve("jobs/web").path == "api/jobs/web");
  CHECK(w.tree->resolve("/jobs//web/").path == "api/jobs/web");
  CHECK(w.tree->resolve("eb").path == "eb");
  CHECK(!w.tree->resolve("eb").failure);
  CHECK(w.tree->resolve("i/web").path == "i/web");
  CHECK(w.tree->resolve("bweb").path == "bweb");
  CHECK(w.tree->resolve("/db").path == "/db");  // a path already
  CHECK(w.tree->resolve("x/jobs/web").path == "x/jobs/web");
  CHECK(w.tree->resolve("web").failure ==
        "'web' is the name of 2 children (api/web, api/jobs/web): write the path of one");
}

TEST_CASE("stopping a nested supervisor by hand stops its subtree and keeps it down") {
  auto inner = supervisor_spec(Strategy::one_for_one, {process_child("x"), process_child("y")});
  World w(supervisor_spec(Strategy::one_for_one,
                          {process_child("a"), supervisor_child("inner", inner)}));
  w.boot().take_history();
  Answer reply;
  w.tree->stop_child("inner", reply.keep());
  w.host.run();
  CHECK(reply.succeeded());
  CHECK(w.take_history() == Lines{"term y", "exit y", "term x", "exit x"});
  w.tree->start_child("inner", reply.keep());
  w.host.run();
  CHECK(w.take_history() == Lines{"start x", "start y"});
}

TEST_CASE("status shows every node with its state, pid, restarts and last exit") {
  auto inner = supervisor_spec(Strategy::rest_for_one, {process_child("api")}, 7, 9s);
  World w(supervisor_spec(Strategy::one_for_one,
                          {process_child("db"), supervisor_child("app", inner)}));
  w.boot();
  w.procs.exit("db", ExitStatus::exited(4));
  w.host.advance(3s);
  const auto root = w.tree->status("/");
  REQUIRE(root);
  CHECK(root->is_supervisor);
  CHECK(root->intensity_used == 1);
  REQUIRE(root->children.size() == 2);
  const auto& db = root->children[0];
  CHECK(db.path == "db");
  CHECK(db.state == "running");
  CHECK(db.pid == w.procs.pid_of("db"));
  CHECK(db.restarts == 1);
  CHECK(db.uptime == otpd::supervise::Duration{3000});
  REQUIRE(db.last_exit);
  CHECK(db.last_exit->text == "exited with status 4");
  const auto& app = root->children[1];
  CHECK(app.is_supervisor);
  CHECK(app.strategy == Strategy::rest_for_one);
  CHECK(app.intensity == 7);
  REQUIRE(app.children.size() == 1);
  CHECK(app.children[0].path == "app/api");
  CHECK(w.tree->paths() == Lines{"db", "app", "app/api"});
  CHECK(!w.tree->status("nope"));
}

TEST_CASE("siblings brought back by a group restart count it in their restarts") {
  World w(supervisor_spec(Strategy::rest_for_one,
                          {process_child("a"), process_child("b"), process_child("c")}));
  w.boot();
  w.procs.exit("b", crash);
  w.host.run();
  CHECK(w.tree->status("a")->restarts == 0);  // older than b: untouched
  CHECK(w.tree->status("b")->restarts == 1);
  CHECK(w.tree->status("c")->restarts == 1);
  // c shows why it was restarted: its stop, and what the stop was for.
  const auto c = w.tree->status("c");
  REQUIRE(c->last_exit);
  CHECK(c->last_exit->text == "exited with status 0");
  CHECK(c->last_exit->stopped_for ==
        "rest_for_one restart after 'b' " + otpd::supervise::describe(crash));
  CHECK(!w.tree->status("b")->last_exit->text.empty());
  CHECK(w.tree->status("b")->last_exit->stopped_for.empty());
  // The restart intensity counts the restart once, whoever went down with it.
  CHECK(w.tree->root().intensity_used() == 1);

  World all(supervisor_spec(Strategy::one_for_all, {process_child("a"), process_child("b")}));
  all.boot();
  all.procs.exit("b", crash);
  all.host.run();
  CHECK(all.tree->status("a")->restarts == 1);
  CHECK(all.tree->status("b")->restarts == 1);
}

TEST_CASE("a stopped child's last exit is its stop, not an older crash") {
  World w(supervisor_spec(Strategy::one_for_one, {process_child("a"), process_child("b")}));
  w.boot();
  w.procs.exit("a", ExitStatus::exited(4));
  w.host.run();
  REQUIRE(w.tree->status("a")->last_exit);
  CHECK(w.tree->status("a")->last_exit->text == "exited with status 4");
  Answer reply;
  w.tree->stop_child("a", reply.keep());
  w.host.run();
  REQUIRE(reply.succeeded());
  // The fake children exit 0 on SIGTERM.
  const auto a = w.tree->status("a");
  REQUIRE(a->last_exit);
  CHECK(a->last_exit->text == "exited with status 0");
  CHECK(a->held);

  CHECK(!w.tree->status("b")->last_exit);
  w.tree->stop_child("b", reply.keep());
  w.host.run();
  REQUIRE(w.tree->status("b")->last_exit);
  CHECK(w.tree->status("b")->last_exit->text == "exited with status 0");
}

TEST_CASE("operator requests queued behind a shutdown get an answer") {
  World w(supervisor_spec(Strategy::one_for_one,
                          {process_child("a", RestartType::permanent, Shutdown::after(1s))}));
  w.procs.ignore_sigterm("a");
  w.boot();
  Answer reply;
  w.shutdown();
  w.tree->start_child("a", reply.keep());
  w.host.run();
  CHECK(reply.failure == "supervisor / is not running");
  w.host.advance(1s);
  CHECK(w.stopped);
}

namespace {

ChildSpec significant(ChildSpec child) {
  child.significant = true;
  return child;
}

SupervisorSpec auto_shutdown(SupervisorSpec spec, otpd::config::AutoShutdown when) {
  spec.auto_shutdown = when;
  return spec;
}

}  // namespace

TEST_CASE("any_significant: a significant child's own end shuts the supervisor down") {
  using otpd::config::AutoShutdown;
  World w(auto_shutdown(supervisor_spec(Strategy::one_for_one,
                                        {process_child("a"),
                                         significant(process_child("main", RestartType::temporary)),
                                         process_child("c")}),
                        AutoShutdown::any_significant));
  w.boot().take_history();
  w.procs.exit("main", ExitStatus::exited(3));
  CHECK(w.take_history() == Lines{"exit main", "term c", "exit c", "term a", "exit a"});
  REQUIRE(w.gave_up);
  CHECK(w.gave_up->auto_shutdown);
  CHECK(w.gave_up->kind == ChildExit::Kind::shutdown);
  CHECK(w.gave_up->cause == ExitStatus::exited(3));
  CHECK(w.sink.count(EventKind::auto_shutdown, "/") == 1);
  CHECK(w.sink.count(EventKind::escalated, "/") == 0);
  CHECK(!w.tree->running());
}

TEST_CASE("a significant transient child is restarted after a crash, and ends it all when normal") {
  using otpd::config::AutoShutdown;
  World w(
      auto_shutdown(supervisor_spec(Strategy::one_for_one,
                                    {significant(process_child("main", RestartType::transient))}),
                    AutoShutdown::any_significant));
  w.boot().take_history();
  w.procs.exit("main", crash);
  CHECK(w.take_history() == Lines{"exit main", "start main"});
  CHECK(!w.gave_up);
  w.procs.exit("main", ExitStatus::killed(SIGTERM));  // not a listed normal exit: a crash
  CHECK(w.take_history() == Lines{"exit main", "start main"});
  w.procs.exit("main", clean);
  CHECK(w.take_history() == Lines{"exit main"});
  REQUIRE(w.gave_up);
  CHECK(w.gave_up->cause == clean);
}

TEST_CASE("all_significant waits for the last significant child") {
  using otpd::config::AutoShutdown;
  World w(auto_shutdown(supervisor_spec(Strategy::one_for_one,
                                        {significant(process_child("x", RestartType::temporary)),
                                         significant(process_child("y", RestartType::transient)),
                                         process_child("z")}),
                        AutoShutdown::all_significant));
  w.boot().take_history();
  w.procs.exit("x", clean);
  CHECK(w.take_history() == Lines{"exit x"});
  CHECK(!w.gave_up);
  CHECK(w.tree->running());
  w.procs.exit("y", ExitStatus::exited(0));
  CHECK(w.take_history() == Lines{"exit y", "term z", "exit z"});
  REQUIRE(w.gave_up);
  CHECK(w.gave_up->cause == clean);
  CHECK(w.sink.lines({EventKind::auto_shutdown}) == Lines{"auto_shutdown /"});
}

TEST_CASE("a significant child stopped by an operator or by a group restart does not count") {
  using otpd::config::AutoShutdown;
  World w(auto_shutdown(supervisor_spec(Strategy::one_for_all,
                                        {significant(process_child("main", RestartType::transient)),
                                         process_child("b")}),
                        AutoShutdown::any_significant));
  w.boot().take_history();
  w.procs.exit("b", crash);
  CHECK(w.take_history() == Lines{"exit b", "term main", "exit main", "start main", "start b"});
  Answer reply;
  w.tree->stop_child("main", reply.keep());
  w.host.run();
  CHECK(reply.succeeded());
  CHECK(!w.gave_up);
  CHECK(w.tree->running());
}

TEST_CASE("auto_shutdown cascades: a transient supervisor's shutdown is significant above") {
  using otpd::config::AutoShutdown;
  SupervisorSpec inner =
      auto_shutdown(supervisor_spec(Strategy::one_for_one,
                                    {significant(process_child("job", RestartType::temporary))}),
                    AutoShutdown::any_significant);
  World w(auto_shutdown(
      supervisor_spec(Strategy::one_for_one,
                      {process_child("a"),
                       significant(supervisor_child("inner", inner, RestartType::transient))}),
      AutoShutdown::any_significant));
  w.boot().take_history();
  w.procs.exit("job", ExitStatus::killed(SIGSEGV));
  CHECK(w.take_history() == Lines{"exit job", "term a", "exit a"});
  CHECK(w.sink.lines({EventKind::auto_shutdown}) ==
        Lines{"auto_shutdown inner", "auto_shutdown /"});
  REQUIRE(w.gave_up);
  CHECK(w.gave_up->cause == ExitStatus::killed(SIGSEGV));
}

TEST_CASE("a permanent supervisor that shuts down automatically is restarted like any child") {
  using otpd::config::AutoShutdown;
  SupervisorSpec inner =
      auto_shutdown(supervisor_spec(Strategy::one_for_one,
                                    {significant(process_child("job", RestartType::temporary))}),
                    AutoShutdown::any_significant);
  World w(supervisor_spec(Strategy::one_for_one,
                          {process_child("a"), supervisor_child("inner", inner)}));
  w.boot().take_history();
  w.procs.exit("job", clean);
  CHECK(w.take_history() == Lines{"exit job", "start job"});
  CHECK(!w.gave_up);
}

TEST_CASE("the one-line summary counts the processes of the whole tree by state") {
  World w(supervisor_spec(
      Strategy::one_for_one,
      {process_child("a"),
       supervisor_child("inner", supervisor_spec(Strategy::one_for_one,
                                                 {process_child("b"), process_child("c")})),
       process_child("d", RestartType::transient)}));
  w.boot();
  CHECK(otpd::supervise::summarize(*w.tree->status("/")) == "4 processes: 4 running");
  w.procs.exit("d", clean);
  w.host.run();
  Answer reply;
  w.tree->stop_child("inner/b", reply.keep());
  w.host.run();
  CHECK(otpd::supervise::summarize(*w.tree->status("/")) ==
        "4 processes: 2 running, 1 held, 1 stopped");
  // The live tree's census, as STATUS= reads it, says the same.
  CHECK(otpd::supervise::summarize(w.tree->census()) ==
        "4 processes: 2 running, 1 held, 1 stopped");
}

TEST_CASE("stop_signal replaces SIGTERM, and SIGKILL still follows the shutdown timeout") {
  ChildSpec quits = process_child("quits", RestartType::permanent, Shutdown::after(2s));
  std::get<ProcessSpec>(quits.body).stop_signal = SIGQUIT;
  ChildSpec forever = process_child("forever", RestartType::permanent, Shutdown::infinity());
  std::get<ProcessSpec>(forever.body).stop_signal = SIGINT;
  World w(supervisor_spec(Strategy::one_for_one, {quits, forever}));
  w.procs.ignore_sigterm("quits");  // ignores its stop signal, whatever it is
  w.boot().take_history();
  w.shutdown();
  CHECK(w.take_history() == Lines{"SIGINT forever", "exit forever", "SIGQUIT quits"});
  w.host.advance(2s);
  CHECK(w.take_history() == Lines{"kill quits", "exit quits"});
  CHECK(w.stopped);
}

TEST_CASE("kill_mode process sends the stop signal to the main process, SIGKILL to the group") {
  ChildSpec main = process_child("main", RestartType::permanent, Shutdown::after(1s));
  std::get<ProcessSpec>(main.body).kill_mode = otpd::config::KillMode::process;
  ChildSpec brutal = process_child("brutal", RestartType::permanent, Shutdown::brutal_kill());
  std::get<ProcessSpec>(brutal.body).kill_mode = otpd::config::KillMode::process;
  World w(supervisor_spec(Strategy::one_for_one, {main, brutal}));
  w.procs.ignore_sigterm("main");
  w.boot().take_history();
  w.shutdown();
  CHECK(w.take_history() == Lines{"kill brutal", "exit brutal", "term main (process)"});
  w.host.advance(1s);
  CHECK(w.take_history() == Lines{"kill main", "exit main"});
  CHECK(w.stopped);
}

TEST_CASE("a child that exits 0 leaving processes behind is told to run in the foreground") {
  otpd::config::ChildSpec web = process_child("web");
  otpd::test::process_of(web).argv = {"/usr/sbin/nginx"};
  World w(supervisor_spec(Strategy::one_for_one, {web}));
  w.boot();
  ExitStatus daemonized = ExitStatus::exited(0);
  daemonized.left_behind = {{.pid = 4242, .name = "nginx"}, {.pid = 4243, .name = "nginx"}};
  w.procs.exit("/usr/sbin/nginx", daemonized);
  w.host.run();
  const auto* exited = w.last(EventKind::exited, "web");
  REQUIRE(exited != nullptr);
  CHECK(exited->reason ==
        "exited with status 0, leaving 2 processes behind: 4242 (nginx), 4243 (nginx); nginx "
        "seems to daemonize: run it in the foreground (nginx: daemon off; in nginx.conf, or -g "
        "'daemon off;')");
  CHECK(w.tree->status("web")->last_exit->text == exited->reason);

  // A clean exit that leaves nothing is no such thing.
  w.procs.exit("/usr/sbin/nginx", ExitStatus::exited(0));
  w.host.run();
  CHECK(w.last(EventKind::exited, "web")->reason == "exited with status 0");
}

TEST_CASE("advice names the program a spec runs, and its option when it is a known one") {
  using otpd::supervise::daemonize_advice;
  using otpd::supervise::program_name;
  ProcessSpec p;
  p.argv = {"/usr/sbin/nginx", "-g", "daemon off;"};
  CHECK(program_name(p) == "nginx");
  p.via_shell = true;
  p.argv = {"/bin/sh", "-c", "exec /usr/sbin/nginx -c \"$PWD/nginx.conf\"\n"};
  CHECK(program_name(p) == "nginx");
  p.argv = {"/bin/sh", "-c", "redis-server --port 6390"};
  CHECK(program_name(p) == "redis-server");
  p.argv = {"/bin/sh", "-c", "n=1\nexec sleep 1"};  // several commands: no one program
  CHECK(program_name(p).empty());
  p.argv = {"/bin/sh", "-c", "LANG=C sleep 1"};
  CHECK(program_name(p).empty());
  CHECK(daemonize_advice("php-fpm8.2") ==
        "php-fpm8.2 seems to daemonize: run it in the foreground (php-fpm: --nodaemonize)");
  CHECK(daemonize_advice("") ==
        "the program seems to daemonize: run it in the foreground (most daemons have an option "
        "for it, such as --foreground, --nodaemon or -f)");
}

TEST_CASE("what a daemonizing child left is charged to it when it is reaped") {
  using otpd::supervise::Event;
  using otpd::supervise::EventKind;
  otpd::supervise::GroupOwners groups;
  groups.observe({.kind = EventKind::started, .path = "web", .pid = 10});
  ExitStatus daemonized = ExitStatus::exited(0);
  daemonized.left_behind = {{.pid = 12, .name = "nginx"}};
  groups.observe({.kind = EventKind::exited, .path = "web", .pid = 10, .status = daemonized});
  CHECK(groups.owner(12) == "web");  // the master, in a session of its own
  CHECK(groups.owner(13) == "/");
}

TEST_CASE("orphans are charged to the child whose process group they were in") {
  using otpd::supervise::Event;
  using otpd::supervise::EventKind;
  otpd::supervise::GroupOwners groups;
  groups.observe({.kind = EventKind::started, .path = "a", .pid = 10});
  groups.observe({.kind = EventKind::started, .path = "app", .pid = 0});  // a supervisor
  CHECK(groups.owner(10) == "a");
  CHECK(groups.owner(11) == "/");
  // Restarted: the previous incarnation's leftovers are still a's.
  groups.observe({.kind = EventKind::started, .path = "a", .pid = 20});
  CHECK(groups.owner(10) == "a");
  CHECK(groups.owner(20) == "a");
  groups.observe({.kind = EventKind::started, .path = "a", .pid = 30});
  CHECK(groups.owner(10) == "/");  // two incarnations back: forgotten
  // A removed child is remembered for a while, then forgotten.
  groups.observe({.kind = EventKind::removed, .path = "a"});
  CHECK(groups.owner(30) == "a");
  for (int i = 0; i < 2000; ++i) {
    const std::string path = "t" + std::to_string(i);
    groups.observe({.kind = EventKind::run_started, .path = path, .pid = 1000 + i});
    groups.observe({.kind = EventKind::removed, .path = path});
  }
  CHECK(groups.owner(30) == "/");
  CHECK(groups.owner(2999) == "t1999");
  CHECK(groups.size() <= 1100);
}

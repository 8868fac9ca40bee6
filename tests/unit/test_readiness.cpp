// Readiness and watchdogs in the engine, on the hand-driven clock: a start
// completes only once the child is ready, a child that never gets ready
// fails its start, a stop ends the wait at once, and a silent watchdog is a
// crash.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>

#include "engine_world.hpp"
#include "fake_host.hpp"
#include "sd_notify/notify_message.hpp"
#include "supervise/tree.hpp"

using namespace std::chrono_literals;
using otpd::config::ChildSpec;
using otpd::config::ProcessSpec;
using otpd::config::Readiness;
using otpd::config::Shutdown;
using otpd::config::Strategy;
using otpd::config::SupervisorSpec;
using otpd::supervise::Done;
using otpd::supervise::EventKind;
using otpd::supervise::ExitStatus;
using otpd::supervise::Tree;
using Lines = std::vector<std::string>;

namespace {

// A process that becomes ready as `ready` says, within `start_timeout`.
ChildSpec proc(const std::string& name, Readiness ready = {},
               std::optional<otpd::config::Duration> watchdog = {},
               std::optional<otpd::config::Duration> start_timeout = 2s) {
  ChildSpec c = otpd::test::process_child(name);
  ProcessSpec& p = otpd::test::process_of(c);
  p.ready = std::move(ready);
  p.watchdog = watchdog;
  p.start_timeout = start_timeout;
  return c;
}

Readiness notify() {
  return {.kind = Readiness::Kind::notify};
}

SupervisorSpec root(Strategy strategy, std::vector<ChildSpec> children) {
  return otpd::test::supervisor_spec(strategy, std::move(children));
}

using otpd::test::Answer;
using World = otpd::test::EngineWorld;

}  // namespace

TEST_SUITE("readiness") {
  TEST_CASE("the next child starts only once the previous one said READY=1") {
    World w(root(Strategy::rest_for_one, {proc("db", notify()), proc("api")}));
    w.boot();
    CHECK(w.take_history() == Lines{"start db"});
    CHECK(w.state("db") == "starting");
    CHECK_FALSE(w.start_result.came);
    w.host.advance(500ms);
    CHECK(w.take_history().empty());

    CHECK(w.procs.notify("db", "STATUS=loading\nREADY=1\n"));
    CHECK(w.take_history() == Lines{"start api"});
    CHECK(w.start_result.succeeded());
    CHECK(w.state("db") == "running");
    CHECK(w.tree->status("db")->notify_status == "loading");
    CHECK(w.sink.lines({EventKind::started, EventKind::ready}) ==
          Lines{"started db", "ready db", "started api", "started /"});
    CHECK(w.last(EventKind::ready, "db")->reason == "READY=1");
  }

  TEST_CASE("a notify child gets NOTIFY_SOCKET, and WATCHDOG_USEC with a watchdog") {
    World w(root(Strategy::one_for_one, {proc("a", notify(), 3s)}));
    w.boot();
    const auto env = w.procs.env_of("a");
    CHECK(std::find(env.begin(), env.end(),
                    std::pair<std::string, std::string>("NOTIFY_SOCKET", "@fake/notify")) !=
          env.end());
    CHECK(std::find(env.begin(), env.end(),
                    std::pair<std::string, std::string>("WATCHDOG_USEC", "3000000")) != env.end());
  }

  TEST_CASE("without a notify socket a notify child cannot start") {
    World w(root(Strategy::one_for_one, {proc("a", notify())}));
    w.procs.disable_notify_socket();
    w.boot();
    CHECK(w.take_history().empty());
    REQUIRE(w.start_result.came);
    CHECK(w.start_result.failure.value_or("").find("notify socket") != std::string::npos);
  }

  TEST_CASE("a child not ready within start_timeout is killed and its start fails") {
    World w(root(Strategy::one_for_one, {proc("a", notify()), proc("b")}));
    w.boot();
    w.take_history();
    w.host.advance(1999ms);
    CHECK(w.take_history().empty());
    w.host.advance(1ms);
    CHECK(w.take_history() == Lines{"kill a", "exit a"});
    CHECK(w.start_result.failure ==
          "failed to start child 'a': not ready after 2s: no READY=1 arrived (no sd_notify "
          "message at all); the program must send READY=1 to $NOTIFY_SOCKET itself (sd_notify); "
          "one that cannot wants another ready: (tcp, exec or fd)");
    CHECK(w.sink.count(EventKind::start_failed, "a") == 1);
    CHECK(w.sink.count(EventKind::exited, "a") == 0);  // a failed start, not also a crash
    CHECK_FALSE(w.procs.running("b"));
  }

  TEST_CASE("EXTEND_TIMEOUT_USEC moves the deadline") {
    World w(root(Strategy::one_for_one, {proc("a", notify())}));
    w.boot();
    w.host.advance(1500ms);
    w.procs.notify("a", "EXTEND_TIMEOUT_USEC=3000000");
    w.host.advance(2500ms);  // past the first deadline (2s), within the extension
    CHECK(w.procs.running("a"));
    w.host.advance(500ms);
    CHECK_FALSE(w.procs.running("a"));
    CHECK(w.start_result.failure.value_or("").find("not ready after 2s") != std::string::npos);
  }

  TEST_CASE("start_timeout infinity waits as long as it takes") {
    World w(root(Strategy::one_for_one, {proc("a", notify(), {}, std::nullopt)}));
    w.boot();
    w.host.advance(1h);
    CHECK(w.procs.running("a"));
    w.procs.notify("a", "READY=1");
    CHECK(w.start_result.succeeded());
  }

  TEST_CASE("a child that exits before it is ready fails its start once") {
    World w(root(Strategy::one_for_one, {proc("a", notify())}));
    w.boot();
    w.procs.exit("a", ExitStatus::exited(3));
    CHECK(w.start_result.failure ==
          "failed to start child 'a': exited before it was ready (exited with status 3)");
    CHECK(w.sink.count(EventKind::start_failed, "a") == 1);
    CHECK(w.sink.count(EventKind::restarting, "a") == 0);
    w.host.advance(5s);  // no late timeout, no second report
    CHECK(w.sink.count(EventKind::start_failed, "a") == 1);
  }

  TEST_CASE("a shutdown during the wait ends it at once and stops the child") {
    World w(root(Strategy::one_for_one, {proc("a"), proc("b", notify()), proc("c")}));
    w.boot();
    w.take_history();
    w.shutdown();
    CHECK(w.stopped);
    CHECK(w.take_history() == Lines{"term b", "exit b", "term a", "exit a"});
    CHECK(w.host.pending_timers() == 0);  // no start timeout left behind
    CHECK_FALSE(w.procs.running("c"));
  }

  TEST_CASE("otpctl stop during the wait stops the child without failing the tree") {
    World w(root(Strategy::one_for_one, {proc("a", notify()), proc("b")}));
    w.boot();
    w.take_history();
    Answer reply;
    w.tree->stop_child("a", reply.keep());
    w.host.run();
    CHECK(reply.succeeded());
    CHECK(w.start_result.succeeded());  // the tree goes on with b
    // a is on its way down when b starts; the request completes once it is gone.
    CHECK(w.take_history() == Lines{"term a", "start b", "exit a"});
    CHECK(w.tree->status("a")->held);
    CHECK(w.state("a") == "stopped");
  }

  TEST_CASE("during a restart the supervisor waits for readiness too") {
    World w(root(Strategy::one_for_all, {proc("a", notify()), proc("b")}));
    w.boot();
    w.procs.notify("a", "READY=1");
    w.take_history();
    w.procs.exit("b", ExitStatus::exited(1));
    CHECK(w.take_history() == Lines{"exit b", "term a", "exit a", "start a"});
    CHECK(w.state("a") == "starting");
    w.procs.notify("a", "READY=1");
    CHECK(w.take_history() == Lines{"start b"});
  }

  TEST_CASE("ready: fd, a newline or the end of the pipe") {
    Readiness fd{.kind = Readiness::Kind::fd, .fd = 3};
    World w(root(Strategy::one_for_one, {proc("a", fd), proc("b", fd)}));
    w.boot();
    CHECK(w.procs.write_ready_fd("a"));
    CHECK(w.last(EventKind::ready, "a")->reason == "wrote a newline to fd 3");
    CHECK(w.procs.running("b"));
    CHECK(w.procs.write_ready_fd("b", /*newline=*/false));
    CHECK(w.start_result.failure ==
          "failed to start child 'b': closed its readiness descriptor (fd 3) without writing a "
          "newline");
    CHECK_FALSE(w.procs.running("b"));
  }

  TEST_CASE("ready: tcp probes at the interval until the port accepts") {
    Readiness tcp{
        .kind = Readiness::Kind::tcp, .host = "127.0.0.1", .port = 8080, .interval = 100ms};
    World w(root(Strategy::one_for_one, {proc("a", tcp)}));
    w.boot();
    CHECK(w.take_history() == Lines{"start a", "connect 127.0.0.1:8080"});
    w.host.advance(250ms);
    CHECK(w.take_history() == Lines{"connect 127.0.0.1:8080", "connect 127.0.0.1:8080"});
    w.procs.listen_on(8080);
    w.host.advance(100ms);
    CHECK(w.start_result.succeeded());
    CHECK(w.last(EventKind::ready, "a")->reason == "127.0.0.1:8080 accepts connections");
    w.take_history();
    w.host.advance(1s);
    CHECK(w.take_history().empty());  // no probe once ready
  }

  TEST_CASE("ready: exec runs the probe until it exits 0, then no more") {
    Readiness exec{.kind = Readiness::Kind::exec, .argv = {"probe"}, .interval = 100ms};
    World w(root(Strategy::one_for_one, {proc("a", exec)}));
    w.boot();
    CHECK(w.take_history() == Lines{"start a", "start probe"});
    w.procs.exit("probe", ExitStatus::exited(1));
    w.host.advance(100ms);
    CHECK(w.take_history() == Lines{"exit probe", "start probe"});
    w.procs.exit("probe", ExitStatus::exited(0));
    CHECK(w.start_result.succeeded());
    CHECK(w.last(EventKind::ready, "a")->reason == "'probe' succeeded");
  }

  TEST_CASE("ready: exec, a probe that hangs is killed and the timeout still holds") {
    Readiness exec{.kind = Readiness::Kind::exec, .argv = {"probe"}, .interval = 100ms};
    World w(root(Strategy::one_for_one, {proc("a", exec, {}, 10s)}));
    w.procs.ignore_sigterm("probe");
    w.boot();
    w.take_history();
    w.host.advance(5s);
    CHECK(w.take_history() == Lines{"kill probe", "exit probe"});
    w.host.advance(5s);
    CHECK(w.start_result.failure.value_or("").find("not ready after 10s") != std::string::npos);
    CHECK_FALSE(w.procs.running("probe"));
  }

  TEST_CASE("ready: notify, the timeout says what did arrive, with a hint for the program") {
    ChildSpec redis = proc("redis", notify());
    otpd::test::process_of(redis).argv = {"/usr/bin/redis-server", "--port", "6390"};
    World w(root(Strategy::one_for_one, {redis}));
    w.boot();
    REQUIRE(w.procs.notify("/usr/bin/redis-server", "STATUS=loading"));
    w.host.advance(2s);
    CHECK(w.start_result.failure ==
          "failed to start child 'redis': not ready after 2s: no READY=1 arrived (1 other "
          "sd_notify message did); redis-server: --supervised systemd");
  }

  TEST_CASE("ready: tcp, a port held by another process's listener is not the child's") {
    Readiness tcp{
        .kind = Readiness::Kind::tcp, .host = "127.0.0.1", .port = 8080, .interval = 100ms};
    World w(root(Strategy::one_for_one, {proc("a", tcp)}));
    w.procs.listen_foreign(8080, "pid 4242 (nginx)");
    w.boot();
    w.host.advance(1s);
    CHECK_FALSE(w.start_result.came);  // still waiting: the answer was not a's
    w.host.advance(1s);
    CHECK(w.start_result.failure ==
          "failed to start child 'a': not ready after 2s: 127.0.0.1:8080 answered, but its "
          "listener is pid 4242 (nginx)'s, not this child's");
  }

  TEST_CASE("ready: exec, the wait between probes doubles up to max_interval") {
    Readiness exec{
        .kind = Readiness::Kind::exec, .argv = {"probe"}, .interval = 100ms, .max_interval = 300ms};
    World w(root(Strategy::one_for_one, {proc("a", exec, {}, 3s)}));
    w.boot();
    w.take_history();
    // How long after each failed probe the next one starts.
    std::vector<long> gaps;
    for (int i = 0; i < 5; ++i) {
      w.procs.exit("probe", ExitStatus::exited(2));
      const auto failed = w.host.now();
      while (!w.procs.running("probe")) w.host.advance(10ms);
      gaps.push_back(static_cast<long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(w.host.now() - failed).count()));
    }
    CHECK(gaps == std::vector<long>{100, 200, 300, 300, 300});
    // The failure says how the last probe went.
    w.procs.exit("probe", ExitStatus::exited(3));
    w.host.advance(3s);
    CHECK(w.start_result.failure ==
          "failed to start child 'a': not ready after 3s: 'probe' exited with "
          "status 3");
  }

  TEST_CASE("ready: delay") {
    Readiness delay{.kind = Readiness::Kind::delay, .delay = 300ms};
    World w(root(Strategy::one_for_one, {proc("a", delay), proc("b")}));
    w.boot();
    w.host.advance(299ms);
    CHECK_FALSE(w.procs.running("b"));
    w.host.advance(1ms);
    CHECK(w.procs.running("b"));
    CHECK(w.last(EventKind::ready, "a")->reason == "up for 300ms");
  }

  TEST_CASE("a silent watchdog is a crash: SIGABRT, and a restart") {
    World w(root(Strategy::one_for_one, {proc("a", notify(), 1s)}));
    w.boot();
    w.procs.notify("a", "READY=1");
    w.take_history();
    w.host.advance(800ms);
    w.procs.notify("a", "WATCHDOG=1");
    w.host.advance(800ms);  // 1.6s since ready, 0.8s since the ping
    CHECK(w.take_history().empty());
    w.host.advance(200ms);
    CHECK(w.take_history() == Lines{"abrt a", "exit a", "start a"});
    const auto* exited = w.last(EventKind::exited, "a");
    REQUIRE(exited != nullptr);
    CHECK(exited->reason == "watchdog timeout (no WATCHDOG=1 for 1s), killed by SIGABRT");
    CHECK(w.tree->status("a")->restarts == 1);
  }

  TEST_CASE("a watchdog victim that ignores SIGABRT gets SIGKILL after its shutdown timeout") {
    World w(root(Strategy::one_for_one, {proc("a", notify(), 1s)}));
    w.procs.ignore_sigterm("a");
    w.boot();
    w.procs.notify("a", "READY=1");
    w.take_history();
    w.host.advance(1s);
    CHECK(w.take_history() == Lines{"abrt a"});
    w.host.advance(5s);
    CHECK(w.take_history() == Lines{"kill a", "exit a", "start a"});
  }

  TEST_CASE("WATCHDOG=trigger fails it at once; a crash even after a clean exit") {
    World w(root(Strategy::one_for_one, {proc("a", notify(), 10s)}));
    w.boot();
    w.procs.notify("a", "READY=1");
    w.take_history();
    w.procs.notify("a", "WATCHDOG=trigger");
    CHECK(w.take_history() == Lines{"abrt a", "exit a", "start a"});
    CHECK(w.last(EventKind::exited, "a")
              ->reason.starts_with("watchdog triggered by the child (WATCHDOG=trigger)"));
  }

  TEST_CASE("no watchdog before the child is ready, and none after it stopped") {
    World w(root(Strategy::one_for_one, {proc("a", notify(), 1s, 10s)}));
    w.boot();
    w.host.advance(3s);  // still starting: only the start timeout applies
    CHECK(w.procs.running("a"));
    w.procs.notify("a", "READY=1");
    w.shutdown();
    CHECK(w.stopped);
    CHECK(w.host.pending_timers() == 0);
  }

  TEST_CASE("MAINPID and STOPPING=1 are recorded and shown") {
    World w(root(Strategy::one_for_one, {proc("a", notify())}));
    w.boot();
    w.procs.notify("a", "READY=1\nMAINPID=4242\nSTOPPING=1\nSTATUS=draining");
    const auto status = w.tree->status("a");
    CHECK(status->main_pid == 4242);
    CHECK(status->announced_stopping);
    CHECK(status->notify_status == "draining");
    CHECK(status->ready == "notify");
    w.take_history();
    w.procs.exit("a", ExitStatus::exited(0));
    CHECK(w.last(EventKind::exited, "a")->reason ==
          "exited with status 0 (after announcing STOPPING=1)");
    // A new incarnation starts with a clean slate.
    CHECK(w.tree->status("a")->main_pid == 0);
    CHECK(w.tree->status("a")->notify_status.empty());
  }
}

TEST_SUITE("sd_notify messages") {
  using otpd::sd_notify::parse_notify;

  TEST_CASE("several assignments in one datagram; unknown ones and junk are ignored") {
    const auto m = parse_notify("READY=1\nSTATUS=up: 3 workers\nFDSTORE=1\njunk\nMAINPID=17\n");
    CHECK(m.ready);
    CHECK(m.status == "up: 3 workers");
    CHECK(m.main_pid == 17);
    CHECK_FALSE(m.watchdog);
  }

  TEST_CASE("watchdog pings and triggers") {
    CHECK(parse_notify("WATCHDOG=1").watchdog);
    CHECK(parse_notify("WATCHDOG=trigger").watchdog_trigger);
    CHECK_FALSE(parse_notify("WATCHDOG=0").watchdog);
  }

  TEST_CASE("values that are not what they should be") {
    CHECK_FALSE(parse_notify("READY=yes").ready);
    CHECK(parse_notify("MAINPID=-3").main_pid == 0);
    CHECK(parse_notify("MAINPID=12x").main_pid == 0);
    CHECK_FALSE(parse_notify("EXTEND_TIMEOUT_USEC=soon").extend_timeout.has_value());
    CHECK(parse_notify("EXTEND_TIMEOUT_USEC=1500000").extend_timeout == 1500ms);
  }

  TEST_CASE("STATUS is bounded and has no control characters") {
    CHECK(parse_notify("STATUS=a\x1b[2Jb\tc").status == "a [2Jb c");
    CHECK(parse_notify("STATUS=" + std::string(2000, 'x')).status->size() ==
          otpd::sd_notify::kMaxNotifyStatus);
  }
}

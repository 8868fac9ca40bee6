// Significant children and auto_shutdown: a container whose essential
// program ends stops cleanly, and otpd exits as that program did.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "harness.hpp"

using namespace otpd::it;

TEST_CASE("otpd exits with the exit code of the significant child that ended the tree") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  auto_shutdown: any_significant
  children:
    - name: sidecar
      command: [@CHILD@, --name, sidecar]
    - name: main
      command: [@CHILD@, --name, main, --exit-after, 300, --code, 7]
      restart: temporary
      significant: true
)");
  REQUIRE_MESSAGE(otpd.wait_event("/", "auto_shutdown"), otpd.transcript());
  CHECK(otpd.wait_exit() == 7);
  CHECK(otpd.count("sidecar", "stopped") == 1);
  CHECK(otpd.count("main", "restarting") == 0);
  const Line* event = otpd.event("/", "auto_shutdown");
  REQUIRE(event != nullptr);
  CHECK(event->str("reason") == "significant child 'main' exited with status 7");
  CHECK(box.count_recorded("term", "sidecar") == 1);
  CHECK(strays().empty());
}

TEST_CASE("a significant child killed by a signal makes otpd exit with 128 + the signal") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  auto_shutdown: any_significant
  children:
    - name: main
      command: [@CHILD@, --name, main, --signal-after, 200, KILL]
      restart: temporary
      significant: true
)");
  CHECK(otpd.wait_exit() == 128 + SIGKILL);
}

TEST_CASE("all_significant stops the tree when the last significant child has ended") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  auto_shutdown: all_significant
  children:
    - name: first
      command: [@CHILD@, --name, first, --exit-after, 100, --code, 0]
      restart: transient
      significant: true
    - name: second
      command: [@CHILD@, --name, second, --exit-after, 600, --code, 0]
      restart: transient
      significant: true
    - name: web
      command: [@CHILD@, --name, web]
)");
  REQUIRE_MESSAGE(otpd.wait_event("first", "exited"), otpd.transcript());
  CHECK(otpd.count("/", "auto_shutdown") == 0);
  CHECK(otpd.wait_exit() == 0);
  CHECK(otpd.count("/", "auto_shutdown") == 1);
  CHECK(otpd.count("web", "stopped") == 1);
}

TEST_CASE("a crash of a significant transient child is restarted, not a shutdown") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  auto_shutdown: any_significant
  children:
    - name: main
      command: [@CHILD@, --name, main, --exit-after, 100, --code, 3]
      restart: transient
      significant: true
)");
  REQUIRE_MESSAGE(otpd.wait_event("main", "restarting", 2), otpd.transcript());
  CHECK(otpd.count("/", "auto_shutdown") == 0);
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
}

// docs/supervision.md's way to end a transient crash loop: an intensity the
// loop exceeds.
TEST_CASE("a crashing significant transient child ends the tree once the intensity gives up") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  auto_shutdown: any_significant
  intensity: 1
  period: 1m
  children:
    - name: main
      command: [@CHILD@, --name, main, --exit-after, 100, --code, 42]
      restart: transient
      significant: true
)");
  CHECK_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK(box.count_recorded("start", "main") == 2);
  CHECK(otpd.count("/", "auto_shutdown") == 0);
}

TEST_CASE("as PID 1, a container's essential program ends it with its exit code, no zombie left") {
  if (!can_unshare_pid()) {
    MESSAGE("skipped: needs root and unshare --pid");
    return;
  }
  Sandbox box;
  // `zombies` leaves an unreaped child behind (the shell's background job,
  // whose parent then execs a program that never waits), which becomes
  // PID 1's to reap once that program exits.
  Otpd otpd = Otpd::run(
      box, R"(
tree:
  auto_shutdown: any_significant
  children:
    - name: zombies
      restart: temporary
      shell: "sleep 0.05 & exec sleep 0.4"
    - name: app
      command: [@CHILD@, --name, app, --exit-after, 1500, --code, 42]
      restart: temporary
      significant: true
)",
      {.wrapper = {"/usr/bin/unshare", "--pid", "--fork", "--mount-proc", "--kill-child"}});
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  REQUIRE_MESSAGE(otpd.wait_event("zombies", "orphan_reaped"), otpd.transcript());
  REQUIRE_MESSAGE(otpd.wait_event("/", "auto_shutdown"), otpd.transcript());
  CHECK(otpd.wait_exit() == 42);
  CHECK(otpd.count("zombies", "exited") == 1);
  CHECK(strays().empty());
}

// Restart intensity and escalation (OTP supervisor: "Restart Intensity and
// Period").
#include <doctest/doctest.h>
#include <signal.h>

#include "harness.hpp"
#include "scenario.hpp"

using namespace otpd::it;
using namespace otpd::conformance;
using Strings = std::vector<std::string>;

// OTP: MaxR restarts within MaxT seconds are allowed; the supervisor only
// gives up when more than that happen.
TEST_CASE("exactly `intensity` restarts within the period are tolerated") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, tree({"intensity: 2", "period: 10s"}, proc("a") + proc("b")));
  REQUIRE(otpd.wait_recorded(box, "start", "a"));
  for (int i = 0; i < 2; ++i) {
    REQUIRE(otpd.wait_recorded(box, "start", "b", i + 1));
    kill(box.pid("b", i), SIGKILL);
  }
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "b", 3), otpd.transcript());
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
  CHECK(otpd.count("/", "intensity_exceeded") == 0);
}

// OTP: one restart more than MaxR within MaxT makes the supervisor terminate
// all its children (in reverse order) and then itself; for the root that
// ends the tree, and otpd exits 1.
TEST_CASE("one restart more than `intensity` makes the root give up: exit 1") {
  Sandbox box;
  Otpd otpd =
      Otpd::run(box, tree({"intensity: 2", "period: 10s"},
                          proc("a") + proc("b", ", --exit-after, 30, --code, 1") + proc("c")));
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK(otpd.count("b", "exited") == 3);
  CHECK(otpd.count("/", "intensity_exceeded") == 1);
  CHECK(otpd.count("/", "escalated") == 1);
  CHECK(otpd.events({"stopped"}) == Strings{"stopped c", "stopped a"});
  CHECK(strays().empty());
}

// OTP: with MaxR = 0 no restart is allowed: the first exit that calls for a
// restart makes the supervisor give up.
TEST_CASE("intensity 0 gives up at the first restart") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, tree({"intensity: 0"}, proc("a", ", --exit-after, 50, --code, 1")));
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK(box.count_recorded("start", "a") == 1);
}

// OTP: only restarts within the last MaxT seconds count; older ones slide out
// of the window.
TEST_CASE("restarts further apart than the period never add up") {
  Sandbox box;
  Otpd otpd = Otpd::run(
      box, tree({"intensity: 1", "period: 250ms"}, proc("a", ", --exit-after, 350, --code, 1")));
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "a", 5), otpd.transcript());
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
  CHECK(otpd.count("/", "intensity_exceeded") == 0);
}

// OTP: restarts closer together than the period do add up.
TEST_CASE("restarts within the period add up even when spread out") {
  Sandbox box;
  Otpd otpd = Otpd::run(
      box, tree({"intensity: 2", "period: 5s"}, proc("a", ", --exit-after, 200, --code, 1")));
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK(box.count_recorded("start", "a") == 3);
}

// OTP: a supervisor that gives up exits with reason shutdown; its parent
// treats that as the exit of a (permanent) child and restarts it.
TEST_CASE("a nested supervisor that gives up is restarted by its parent") {
  Sandbox box;
  Otpd otpd =
      Otpd::run(box, tree({}, proc("a") + sup("inner", {"intensity: 0"},
                                              proc("x", "", {}, 1) + proc("y", "", {}, 1))));
  for (const char* n : {"a", "x", "y"}) REQUIRE(otpd.wait_recorded(box, "start", n));
  kill(box.pid("y"), SIGKILL);
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "y", 2), otpd.transcript());
  REQUIRE(otpd.wait_recorded(box, "start", "x", 2));
  CHECK(otpd.count("inner", "escalated") == 1);
  CHECK(box.recorded({"term"}) == Strings{"term x"});
  CHECK(box.count_recorded("start", "x") == 2);
  CHECK(box.count_recorded("start", "a") == 1);
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
}

// OTP: the parent applies its own strategy to the supervisor child that
// gave up: with rest_for_one its younger siblings are restarted too.
TEST_CASE("a parent's strategy applies to a nested supervisor that gave up") {
  Sandbox box;
  Otpd otpd = Otpd::run(
      box, tree({"strategy: rest_for_one"},
                proc("a") + sup("inner", {"intensity: 0"}, proc("x", "", {}, 1)) + proc("b")));
  for (const char* n : {"a", "x", "b"}) REQUIRE(otpd.wait_recorded(box, "start", n));
  kill(box.pid("x"), SIGKILL);
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "b", 2), otpd.transcript());
  REQUIRE(otpd.wait_recorded(box, "start", "x", 2));
  CHECK(box.count_recorded("start", "a") == 1);
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
}

// OTP: escalation repeats upwards; when the top supervisor gives up too,
// the whole application ends (here: otpd exits 1).
TEST_CASE("escalation up to the root ends otpd with exit 1") {
  Sandbox box;
  Otpd otpd =
      Otpd::run(box, tree({"intensity: 0"},
                          proc("a") + sup("mid", {"intensity: 0"},
                                          sup("low", {"intensity: 0"}, proc("x", "", {}, 2), 1))));
  for (const char* n : {"a", "x"}) REQUIRE(otpd.wait_recorded(box, "start", n));
  kill(box.pid("x"), SIGKILL);
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK(otpd.events({"escalated"}) == Strings{"escalated mid/low", "escalated mid", "escalated /"});
  CHECK(box.recorded({"term"}) == Strings{"term a"});
}

// OTP: a supervisor that gives up exits with reason shutdown, which is a
// normal reason for a transient child, so a transient supervisor is not
// restarted.
TEST_CASE("a transient nested supervisor that gives up stays down") {
  Sandbox box;
  Otpd otpd = Otpd::run(
      box, tree({"intensity: 0"}, proc("a") + sup("inner", {"restart: transient", "intensity: 0"},
                                                  proc("x", "", {}, 1))));
  for (const char* n : {"a", "x"}) REQUIRE(otpd.wait_recorded(box, "start", n));
  kill(box.pid("x"), SIGKILL);
  REQUIRE_MESSAGE(otpd.wait_event("inner", "escalated"), otpd.transcript());
  otpd.signal(SIGTERM);
  REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());  // the root never gave up
  CHECK(box.count_recorded("start", "x") == 1);
}

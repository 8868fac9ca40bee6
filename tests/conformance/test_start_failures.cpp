// Start failures (OTP supervisor: start_link and restart of children).
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>

#include "harness.hpp"
#include "scenario.hpp"

using namespace otpd::it;
using namespace otpd::conformance;
using Strings = std::vector<std::string>;

// OTP: if a child fails to start during the supervisor's start, the
// supervisor terminates the children already started, in reverse order, and
// fails to start itself.
TEST_CASE("a start failure in init stops the started children in reverse") {
  Sandbox box;
  Otpd otpd = Otpd::run(
      box, tree({}, proc("a") + proc("b") +
                        "    - name: c\n      command: [otpd-no-such-program]\n" + proc("d")));
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK(otpd.events({"stopped"}) == Strings{"stopped b", "stopped a"});
  CHECK(otpd.count("d", "starting") == 0);
  CHECK(otpd.logged("failed to start child 'c': "));
}

// OTP: a nested supervisor that cannot start is a start failure of its
// parent, which then fails the same way, up to the top.
TEST_CASE("a nested start failure fails every supervisor up to the root") {
  Sandbox box;
  Otpd otpd = Otpd::run(
      box, tree({}, proc("a") + sup("inner", {},
                                    proc("x", "", {}, 1) +
                                        "          - name: y\n"
                                        "            command: [otpd-no-such-program]\n")));
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK(otpd.logged("failed to start child 'inner': failed to start child 'y': "));
  CHECK(otpd.events({"stopped"}) == Strings{"stopped inner/x", "stopped a"});
}

// OTP: when a restart fails, the supervisor keeps trying, and every attempt
// counts as a restart against the intensity.
TEST_CASE("failed restart attempts count against the intensity") {
  Sandbox box;
  std::filesystem::create_directory(box.path("work"));
  Otpd otpd = Otpd::run(
      box, tree({"intensity: 2", "period: 10s"}, proc("a") + proc("b", "", {"cwd: @DIR@/work"})));
  for (const char* n : {"a", "b"}) REQUIRE(otpd.wait_recorded(box, "start", n));
  std::filesystem::remove(box.path("work"));
  kill(box.pid("b"), SIGKILL);
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK(otpd.count("b", "start_failed") == 2);
  CHECK(otpd.count("/", "intensity_exceeded") == 1);
}

// OTP: a restart that fails and is retried successfully returns the child
// to normal service within the intensity.
TEST_CASE("a failed restart recovers once a retry succeeds") {
  Sandbox box;
  std::filesystem::create_directory(box.path("work"));
  Otpd otpd =
      Otpd::run(box, tree({"intensity: 20", "period: 10s",
                           "backoff: {initial: 100ms, max: 100ms, factor: 1, reset_after: 10s}"},
                          proc("a") + proc("b", "", {"cwd: @DIR@/work"})));
  for (const char* n : {"a", "b"}) REQUIRE(otpd.wait_recorded(box, "start", n));
  std::filesystem::remove(box.path("work"));
  kill(box.pid("b"), SIGKILL);
  REQUIRE_MESSAGE(otpd.wait_event("b", "start_failed"), otpd.transcript());
  std::filesystem::create_directory(box.path("work"));
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "b", 2), otpd.transcript());
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
  CHECK(box.count_recorded("start", "a") == 1);
}

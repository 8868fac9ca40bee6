// Shutdown policies (OTP supervisor: "Child specification", shutdown).
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>

#include "harness.hpp"
#include "scenario.hpp"

using namespace otpd::it;
using namespace otpd::conformance;
using Clock = std::chrono::steady_clock;

namespace {

// Stops the tree once `names` run; how long otpd took to exit.
Clock::duration stop_after_start(Otpd& otpd, const Sandbox& box,
                                 std::initializer_list<const char*> names) {
  for (const char* n : names)
    REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", n), otpd.transcript());
  const auto began = Clock::now();
  otpd.signal(SIGTERM);
  REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
  return Clock::now() - began;
}

}  // namespace

// OTP brutal_kill: the child is terminated unconditionally, with no chance
// to clean up (here: SIGKILL, no SIGTERM).
TEST_CASE("brutal_kill terminates unconditionally") {
  Sandbox box;
  Otpd otpd =
      Otpd::run(box, tree({}, proc("a", ", --term-delay, 5000", {"shutdown: brutal_kill"})));
  CHECK(stop_after_start(otpd, box, {"a"}) < Ms(2000));
  CHECK(box.count_recorded("term", "a") == 0);
  CHECK(otpd.event("a", "stopped")->str("signal") == "SIGKILL");
}

// OTP timeout: the child is asked to terminate and, if it has not within the
// time, is killed unconditionally.
TEST_CASE("a shutdown time that runs out ends in an unconditional kill") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, tree({}, proc("a", ", --ignore-term", {"shutdown: 250ms"})));
  const auto took = stop_after_start(otpd, box, {"a"});
  CHECK(took >= Ms(240));
  CHECK(box.count_recorded("term", "a") == 1);
  CHECK(otpd.event("a", "stopped")->str("signal") == "SIGKILL");
}

// OTP timeout: a child that terminates within its time is not killed.
TEST_CASE("a child that ends within its shutdown time ends its own way") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, tree({}, proc("a", ", --term-delay, 100", {"shutdown: 3s"})));
  stop_after_start(otpd, box, {"a"});
  CHECK(box.count_recorded("exit", "a") == 1);
  CHECK(otpd.event("a", "stopped")->num("exit_status") == 0);
}

// OTP infinity: the supervisor waits for the child however long it takes;
// the usual setting for a child that is itself a supervisor.
TEST_CASE("a nested supervisor with shutdown infinity waits for its subtree") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, tree({}, sup("inner", {"shutdown: infinity"},
                                          proc("x", ", --term-delay, 700", {"shutdown: 10s"}, 1))));
  CHECK(stop_after_start(otpd, box, {"x"}) >= Ms(690));
  CHECK(box.count_recorded("exit", "x") == 1);
}

// OTP: a supervisor child's shutdown time bounds the termination of its whole
// subtree; when it runs out the subtree is killed.
TEST_CASE("a nested supervisor's shutdown time bounds its subtree") {
  Sandbox box;
  Otpd otpd =
      Otpd::run(box, tree({}, sup("inner", {"shutdown: 300ms"},
                                  proc("x", ", --ignore-term", {"shutdown: infinity"}, 1))));
  const auto took = stop_after_start(otpd, box, {"x"});
  CHECK(took >= Ms(290));
  CHECK(took < Ms(5000));
  CHECK(box.count_recorded("term", "x") == 1);
}

// OTP: children terminated for a group restart are terminated with their
// own shutdown policy, like at shutdown.
TEST_CASE("a group restart honours each sibling's shutdown policy") {
  Sandbox box;
  Otpd otpd =
      Otpd::run(box, tree({"strategy: one_for_all"},
                          proc("a") + proc("b", ", --term-delay, 100", {"shutdown: 5s"}) +
                              proc("c", ", --term-delay, 5000", {"shutdown: brutal_kill"})));
  for (const char* n : {"a", "b", "c"}) REQUIRE(otpd.wait_recorded(box, "start", n));
  kill(box.pid("a"), SIGKILL);
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "c", 2), otpd.transcript());
  CHECK(box.count_recorded("exit", "b") == 1);  // SIGTERM, then its own exit
  CHECK(box.count_recorded("term", "c") == 0);  // brutal_kill
  CHECK(otpd.event("c", "stopped")->str("signal") == "SIGKILL");
}

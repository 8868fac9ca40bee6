// Restart strategies (OTP supervisor: "Restart Strategy").
#include <doctest/doctest.h>
#include <signal.h>

#include "harness.hpp"
#include "scenario.hpp"

using namespace otpd::it;
using namespace otpd::conformance;
using Strings = std::vector<std::string>;

namespace {

std::string abcd() {
  return proc("a") + proc("b") + proc("c") + proc("d");
}

void boot(Otpd& otpd, const Sandbox& box, std::initializer_list<const char*> names) {
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  for (const char* n : names) REQUIRE(otpd.wait_recorded(box, "start", n));
}

// Waits until each of `names` has recorded `count` starts: a start line
// shows the child is up, which its started event does not.
void wait_starts(Otpd& otpd, const Sandbox& box, std::initializer_list<const char*> names,
                 int count) {
  for (const char* n : names) {
    REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", n, count), otpd.transcript());
  }
}

// Stops the tree so that every count after it is final.
void settle(Otpd& otpd) {
  otpd.signal(SIGTERM);
  REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
}

}  // namespace

// OTP one_for_one: if a child terminates, only that child is restarted.
TEST_CASE("one_for_one restarts only the terminated child") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, tree({"strategy: one_for_one"}, abcd()));
  boot(otpd, box, {"a", "b", "c", "d"});
  kill(box.pid("c"), SIGKILL);
  REQUIRE(otpd.wait_recorded(box, "start", "c", 2));
  settle(otpd);
  // Start lines of different children may interleave: count them per child.
  for (const char* n : {"a", "b", "c", "d"}) {
    CHECK(box.count_recorded("start", n) == (n == std::string_view("c") ? 2 : 1));
  }
}

// OTP one_for_all: if a child terminates, all other children are terminated
// and then all of them are restarted.
TEST_CASE("one_for_all terminates the others in reverse and restarts all in order") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, tree({"strategy: one_for_all"}, abcd()));
  boot(otpd, box, {"a", "b", "c", "d"});
  kill(box.pid("c"), SIGKILL);
  REQUIRE_MESSAGE(otpd.wait_event("d", "started", 2), otpd.transcript());
  CHECK(otpd.events({"stopped", "starting"}) ==
        Strings{"starting a", "starting b", "starting c", "starting d", "stopped d", "stopped b",
                "stopped a", "starting a", "starting b", "starting c", "starting d"});
}

// OTP rest_for_one: the terminated child and the children started after it
// are terminated and restarted; those started before it are left alone.
TEST_CASE("rest_for_one restarts the terminated child and the younger ones") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, tree({"strategy: rest_for_one"}, abcd()));
  boot(otpd, box, {"a", "b", "c", "d"});
  kill(box.pid("b"), SIGKILL);
  wait_starts(otpd, box, {"b", "c", "d"}, 2);
  CHECK(box.recorded({"term"}) == Strings{"term d", "term c"});
  settle(otpd);
  CHECK(box.count_recorded("start", "a") == 1);
  for (const char* n : {"b", "c", "d"}) CHECK(box.count_recorded("start", n) == 2);
}

// OTP rest_for_one: with no child started after it, only the terminated child
// is restarted.
TEST_CASE("rest_for_one on the last child restarts only that child") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, tree({"strategy: rest_for_one"}, abcd()));
  boot(otpd, box, {"a", "b", "c", "d"});
  kill(box.pid("d"), SIGKILL);
  REQUIRE(otpd.wait_recorded(box, "start", "d", 2));
  settle(otpd);
  // Start lines of different children may interleave: count them per child.
  for (const char* n : {"a", "b", "c", "d"}) {
    CHECK(box.count_recorded("start", n) == (n == std::string_view("d") ? 2 : 1));
  }
}

// OTP: a temporary child terminated because a sibling's exit restarts the
// group is not restarted; it is deleted from the supervisor.
TEST_CASE("one_for_all drops a temporary sibling instead of restarting it") {
  Sandbox box;
  Otpd otpd = Otpd::run(
      box, tree({"strategy: one_for_all"}, proc("a") + proc("tmp", "", {"restart: temporary"})));
  boot(otpd, box, {"a", "tmp"});
  kill(box.pid("a"), SIGKILL);
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "a", 2), otpd.transcript());
  REQUIRE(otpd.wait_event("tmp", "removed"));
  settle(otpd);
  CHECK(box.count_recorded("start", "tmp") == 1);
}

// OTP: a supervisor handles one exit at a time; a child that exits on its own
// while being terminated for a group restart is restarted once, with the
// group, and the restart is counted once.
TEST_CASE("an exit during a group restart is not restarted twice") {
  Sandbox box;
  Otpd otpd =
      Otpd::run(box, tree({"strategy: one_for_all", "intensity: 1"},
                          proc("a") + proc("b") + proc("c", ", --ignore-term", {"shutdown: 1s"})));
  boot(otpd, box, {"a", "b", "c"});
  kill(box.pid("a"), SIGKILL);
  REQUIRE(otpd.wait_recorded(box, "term", "c"));
  kill(box.pid("c"), SIGKILL);  // dies on its own while being stopped
  wait_starts(otpd, box, {"a", "b", "c"}, 2);
  settle(otpd);  // intensity 1: a second restart would have made the root give up
  for (const char* n : {"a", "b", "c"}) CHECK(box.count_recorded("start", n) == 2);
  CHECK(otpd.count("/", "intensity_exceeded") == 0);
}

// OTP: exits of children already replaced by a restart are stale and
// ignored: two children dying together cause one group restart.
TEST_CASE("two children dying together cause a single one_for_all restart") {
  Sandbox box;
  Otpd otpd = Otpd::run(
      box, tree({"strategy: one_for_all", "intensity: 1"}, proc("a") + proc("b") + proc("c")));
  boot(otpd, box, {"a", "b", "c"});
  kill(box.pid("a"), SIGKILL);
  kill(box.pid("b"), SIGKILL);
  wait_starts(otpd, box, {"a", "b", "c"}, 2);
  settle(otpd);
  for (const char* n : {"a", "b", "c"}) CHECK(box.count_recorded("start", n) == 2);
  CHECK(otpd.count("/", "intensity_exceeded") == 0);
}

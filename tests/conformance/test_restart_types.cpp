// Restart types (OTP supervisor: "Child specification", restart).
#include <doctest/doctest.h>
#include <signal.h>

#include "harness.hpp"
#include "scenario.hpp"

using namespace otpd::it;
using namespace otpd::conformance;

namespace {

constexpr std::string_view clean_exit = ", --exit-after, 50, --code, 0";
constexpr std::string_view crash = ", --exit-after, 50, --code, 1";

// Runs `victim` beside a long-lived `anchor`, waits until the victim has
// exited `exits` times and then stops the tree, so that counts are final.
struct Run {
  Sandbox box;
  std::optional<Otpd> otpd;
  Run(std::string victim, int exits, std::initializer_list<std::string_view> root = {}) {
    otpd.emplace(Otpd::run(box, tree(root, proc("anchor") + victim)));
    REQUIRE_MESSAGE(otpd->wait_event("v", "exited", exits), otpd->transcript());
    REQUIRE(otpd->wait_recorded(box, "start", "anchor"));
    otpd->signal(SIGTERM);
    REQUIRE_MESSAGE(otpd->wait_exit() == 0, otpd->transcript());
  }
  int starts() const { return box.count_recorded("start", "v"); }
};

}  // namespace

// OTP permanent: the child is always restarted, even after a normal exit.
TEST_CASE("a permanent child is restarted after a normal exit") {
  Run run(proc("v", clean_exit), 2, {"intensity: 10"});
  CHECK(run.starts() >= 2);
}

// OTP permanent: the child is restarted after an abnormal exit.
TEST_CASE("a permanent child is restarted after an abnormal exit") {
  Run run(proc("v", crash), 2, {"intensity: 10"});
  CHECK(run.starts() >= 2);
}

// OTP transient: a normal exit does not restart the child.
TEST_CASE("a transient child that exits normally stays down") {
  Run run(proc("v", clean_exit, {"restart: transient"}), 1);
  CHECK(run.starts() == 1);
  CHECK(run.otpd->count("v", "restarting") == 0);
}

// OTP transient: any other exit reason restarts the child.
TEST_CASE("a transient child that exits abnormally is restarted") {
  Run run(proc("v", crash, {"restart: transient"}), 2, {"intensity: 10"});
  CHECK(run.starts() >= 2);
}

// OTP transient: which exits are normal is the rule; otpd lets a child list
// exit codes and signals that also count as normal.
TEST_CASE("a transient child's listed exit code counts as normal") {
  Run run(proc("v", ", --exit-after, 50, --code, 3", {"restart: transient", "normal_exit: [3]"}),
          1);
  CHECK(run.starts() == 1);
}

TEST_CASE("a transient child's listed signal counts as normal") {
  Run run(proc("v", ", --signal-after, 50, USR1", {"restart: transient", "normal_exit: [SIGUSR1]"}),
          1);
  CHECK(run.starts() == 1);
}

// OTP temporary: never restarted, whatever the exit reason, and removed.
TEST_CASE("a temporary child is never restarted and is removed") {
  Run run(proc("v", crash, {"restart: temporary"}), 1);
  CHECK(run.starts() == 1);
  CHECK(run.otpd->count("v", "removed") == 1);
}

// OTP: only restarts count against the restart intensity: a temporary
// child's exit, or a transient child's normal exit, uses none of it.
TEST_CASE("exits that cause no restart use no restart intensity") {
  Sandbox box;
  Otpd otpd =
      Otpd::run(box, tree({"intensity: 0"}, proc("a") + proc("tmp", crash, {"restart: temporary"}) +
                                                proc("tr", clean_exit, {"restart: transient"})));
  REQUIRE_MESSAGE(otpd.wait_event("tmp", "removed"), otpd.transcript());
  REQUIRE(otpd.wait_event("tr", "exited"));
  REQUIRE(otpd.wait_recorded(box, "start", "a"));
  otpd.signal(SIGTERM);
  REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
  CHECK(otpd.count("/", "intensity_exceeded") == 0);
}

// Start and termination order (OTP supervisor: "Supervision Principles").
#include <doctest/doctest.h>
#include <signal.h>

#include "harness.hpp"
#include "scenario.hpp"

using namespace otpd::it;
using namespace otpd::conformance;
using Strings = std::vector<std::string>;

// OTP: a supervisor starts its children one after the other, in the order of
// the child specification list, each start completing before the next begins.
TEST_CASE("children start in the order of the list, one after another") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, tree({}, proc("a") + proc("b") + proc("c")));
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  CHECK(otpd.events({"starting", "started"}) == Strings{"starting a", "started a", "starting b",
                                                        "started b", "starting c", "started c",
                                                        "started /"});
}

// OTP: when a supervisor terminates, it first terminates its children in the
// reverse of their start order.
TEST_CASE("on shutdown children are terminated in reverse start order") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, tree({}, proc("a") + proc("b") + proc("c")));
  for (const char* n : {"a", "b", "c"}) REQUIRE(otpd.wait_recorded(box, "start", n));
  otpd.signal(SIGTERM);
  REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
  CHECK(box.recorded({"term"}) == Strings{"term c", "term b", "term a"});
}

// OTP: a child supervisor is started like any child: its start returns only
// once all its own children are started, so the next sibling starts after
// the whole subtree.
TEST_CASE("a nested supervisor's subtree starts before the next sibling") {
  Sandbox box;
  Otpd otpd = Otpd::run(
      box, tree({}, proc("a") + sup("inner", {}, proc("x", "", {}, 1) + proc("y", "", {}, 1)) +
                        proc("b")));
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  CHECK(otpd.events({"started"}) == Strings{"started a", "started inner/x", "started inner/y",
                                            "started inner", "started b", "started /"});
}

// OTP: terminating a supervisor child terminates its subtree (again in
// reverse order) before the supervisor's older siblings are terminated.
TEST_CASE("a nested subtree is terminated as a unit, in reverse order") {
  Sandbox box;
  Otpd otpd = Otpd::run(
      box, tree({}, proc("a") + sup("inner", {}, proc("x", "", {}, 1) + proc("y", "", {}, 1)) +
                        proc("b")));
  for (const char* n : {"a", "x", "y", "b"}) REQUIRE(otpd.wait_recorded(box, "start", n));
  otpd.signal(SIGTERM);
  REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
  CHECK(box.recorded({"term"}) == Strings{"term b", "term y", "term x", "term a"});
  CHECK(otpd.events({"stopped"}) == Strings{"stopped b", "stopped inner/y", "stopped inner/x",
                                            "stopped inner", "stopped a", "stopped /"});
}

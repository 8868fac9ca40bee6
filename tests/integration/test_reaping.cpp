// otpd as a subreaper: orphans that land on it are reaped and reported.
#include <doctest/doctest.h>
#include <signal.h>

#include "harness.hpp"

using namespace otpd::it;

TEST_CASE("an orphan re-parented to otpd is reaped and reported") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a, --orphan]
)");
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "orphan", "a"), otpd.transcript());
  const pid_t orphan = std::stoi(box.recorded_value("orphan", "a"));
  kill(orphan, SIGKILL);
  REQUIRE_MESSAGE(otpd.wait_for([&] {
    const Line* reaped = otpd.event("a", "orphan_reaped");
    return reaped != nullptr && reaped->num("pid") == orphan;
  }),
                  otpd.transcript());
  // Charged to the child whose process group it was in.
  CHECK(otpd.event("a", "orphan_reaped")->str("signal") == "SIGKILL");
  CHECK(zombies_of(otpd.pid()).empty());
  CHECK(otpd.count("a", "exited") == 0);  // the child itself is unaffected
}

TEST_CASE("no zombie is left after many restarts and orphans") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  intensity: 100
  period: 10s
  children:
    - name: a
      command: [@CHILD@, --name, a, --orphan, --exit-after, 20, --code, 1]
    - name: b
      command: [@CHILD@, --name, b, --exit-after, 30, --code, 0]
)");
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "a", 10), otpd.transcript());
  REQUIRE(otpd.wait_recorded(box, "start", "b", 10));
  REQUIRE(otpd.wait_for([&] { return otpd.count("a", "orphan_reaped") >= 5; }));
  otpd.signal(SIGTERM);
  REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
  for (pid_t pid : strays()) CHECK_MESSAGE(!running(pid), "left running: " << pid);
}

TEST_CASE("an orderly stop reaps the orphans it killed before otpd exits") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a, --orphan]
)");
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "orphan", "a"), otpd.transcript());
  const pid_t orphan = std::stoi(box.recorded_value("orphan", "a"));
  otpd.signal(SIGTERM);
  REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
  // Left unreaped, it would be re-parented to this test process.
  CHECK(strays().empty());
  const Line* reaped = otpd.event("a", "orphan_reaped");
  CHECK_MESSAGE((reaped != nullptr && reaped->num("pid") == orphan), otpd.transcript());
}

TEST_CASE("children that end and their orphans leave no zombie behind") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      restart: temporary
      command: [@CHILD@, --name, a, --orphan, --exit-after, 20, --code, 1]
    - name: b
      restart: temporary
      command: [@CHILD@, --name, b, --orphan, --exit-after, 20, --code, 0]
    - name: c
      command: [@CHILD@, --name, c]
)");
  REQUIRE_MESSAGE(otpd.wait_event("a", "removed"), otpd.transcript());
  REQUIRE(otpd.wait_event("b", "removed"));
  // Removed children's leftovers are still charged to them.
  REQUIRE(otpd.wait_for(
      [&] { return otpd.count("a", "orphan_reaped") + otpd.count("b", "orphan_reaped") >= 2; }));
  CHECK(otpd.wait_for([&] { return zombies_of(otpd.pid()).empty(); }, Ms(1000)));
}

TEST_CASE("the leftover of a shell child that ended is charged to that child, not to /") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: c
      command: [@CHILD@, --name, c]
    - name: job
      restart: transient
      shell: "sleep 60 & exit 0"
)");
  REQUIRE_MESSAGE(otpd.wait_event("job", "exited"), otpd.transcript());
  // The shell's background sleep is killed with the group the shell led.
  REQUIRE_MESSAGE(otpd.wait_event("job", "orphan_reaped"), otpd.transcript());
  CHECK(otpd.event("job", "orphan_reaped")->str("signal") == "SIGKILL");
  CHECK(otpd.count("/", "orphan_reaped") == 0);
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
}

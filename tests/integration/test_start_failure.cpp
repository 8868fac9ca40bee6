// Children that cannot be started, at the first start and on a restart.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "harness.hpp"

using namespace otpd::it;
using Strings = std::vector<std::string>;

TEST_CASE("a missing program fails the tree: exit 1, naming the path to the child") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: db
      command: [@CHILD@, --name, db]
    - name: app
      children:
        - name: api
          command: [otpd-no-such-program]
)");
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK_MESSAGE(
      otpd.logged("could not start the tree: failed to start child 'app': failed to start "
                  "child 'api': command not found: otpd-no-such-program"),
      otpd.transcript());
  CHECK(otpd.count("app/api", "start_failed") == 1);
  // db had started; it is stopped again before otpd exits.
  CHECK(otpd.events({"started", "stopped"}) == Strings{"started db", "stopped db"});
  CHECK(strays().empty());
}

// A cwd missing when the config is loaded is a config error
// (test_exec_settings.cpp); one removed later fails the start.
TEST_CASE("a program that is not executable fails the start") {
  Sandbox box;
  box.write("not-executable", "#!/bin/sh\n");
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      command: [@DIR@/not-executable]
)");
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK_MESSAGE(otpd.logged("failed to start child 'a': "), otpd.transcript());
}

TEST_CASE("each failed start during a restart counts against the intensity") {
  Sandbox box;
  std::filesystem::create_directory(box.path("work"));
  Otpd otpd = Otpd::run(box, R"(
tree:
  intensity: 3
  period: 10s
  children:
    - name: a
      command: [@CHILD@, --name, a]
    - name: b
      cwd: @DIR@/work
      command: [@CHILD@, --name, b]
)");
  REQUIRE(otpd.wait_recorded(box, "start", "a"));
  REQUIRE(otpd.wait_recorded(box, "start", "b"));
  std::filesystem::remove(box.path("work"));
  kill(box.pid("b"), SIGKILL);
  // The crash is restart 1; the two retries are restarts 2 and 3; the next
  // retry would be a 4th within the period.
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK(otpd.count("b", "start_failed") == 3);
  const Line* failed = otpd.event("b", "start_failed");
  REQUIRE(failed != nullptr);
  CHECK(failed->str("reason") ==
        "cannot change directory to " + box.path("work") + ": No such file or directory");
  CHECK(otpd.count("/", "intensity_exceeded") == 1);
  CHECK(otpd.count("/", "escalated") == 1);
  CHECK(box.count_recorded("term", "a") == 1);
}

// Shutdown policies applied to real processes, and what reaches their group.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>

#include "harness.hpp"

using namespace otpd::it;
using Clock = std::chrono::steady_clock;

namespace {

// One child `a` with the given shutdown policy and test-child options; stops
// the tree and returns how long the stop took.
struct StopRun {
  Sandbox box;
  std::optional<Otpd> otpd;
  std::optional<int> code;
  Clock::duration took{};

  StopRun(std::string_view shutdown, std::string_view options) {
    otpd.emplace(Otpd::run(
        box, "tree:\n  children:\n    - name: a\n      shutdown: " + std::string(shutdown) +
                 "\n      command: [@CHILD@, --name, a" + std::string(options) + "]\n"));
    REQUIRE_MESSAGE(otpd->wait_recorded(box, "start", "a"), otpd->transcript());
    const auto began = Clock::now();
    otpd->signal(SIGTERM);
    code = otpd->wait_exit();
    took = Clock::now() - began;
    REQUIRE_MESSAGE(code == 0, otpd->transcript());
  }
  const Line& stopped() const {
    const Line* line = otpd->event("a", "stopped");
    REQUIRE(line != nullptr);
    return *line;
  }
};

}  // namespace

TEST_CASE("brutal_kill sends SIGKILL without a SIGTERM first") {
  StopRun run("brutal_kill", ", --term-delay, 5000");
  CHECK(run.box.count_recorded("term", "a") == 0);
  CHECK(run.stopped().str("signal") == "SIGKILL");
  CHECK(run.took < Ms(2000));
}

TEST_CASE("a child that ignores SIGTERM is killed when its shutdown time runs out") {
  StopRun run("300ms", ", --ignore-term");
  CHECK(run.box.count_recorded("term", "a") == 1);
  CHECK(run.stopped().str("signal") == "SIGKILL");
  CHECK(run.took >= Ms(290));
  CHECK(run.took < Ms(3000));
  CHECK(run.otpd->count("a", "stopping") == 2);  // the SIGTERM, then the SIGKILL
}

TEST_CASE("a child that exits within its shutdown time is not killed") {
  StopRun run("5s", ", --term-delay, 200");
  CHECK(run.box.count_recorded("exit", "a") == 1);
  CHECK(run.stopped().num("exit_status") == 0);
  CHECK(run.took >= Ms(190));
}

TEST_CASE("shutdown infinity waits as long as the child takes") {
  StopRun run("infinity", ", --term-delay, 1200");
  CHECK(run.box.count_recorded("exit", "a") == 1);
  CHECK(run.stopped().num("exit_status") == 0);
  CHECK(run.took >= Ms(1190));
}

TEST_CASE("stopping a child reaches its whole process group") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a, --orphan]
)");
  REQUIRE(otpd.wait_recorded(box, "orphan", "a"));
  REQUIRE(otpd.wait_recorded(box, "start", "a"));
  const pid_t grandchild = std::stoi(box.recorded_value("orphan", "a"));
  CHECK(running(grandchild));
  CHECK(getpgid(grandchild) == box.pid("a"));
  otpd.signal(SIGTERM);
  REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
  CHECK(!running(grandchild));
}

TEST_CASE("what a dead leader leaves in its group is killed before the restart") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a, --orphan]
)");
  REQUIRE(otpd.wait_recorded(box, "orphan", "a"));
  REQUIRE(otpd.wait_recorded(box, "start", "a"));
  const pid_t grandchild = std::stoi(box.recorded_value("orphan", "a"));
  kill(box.pid("a"), SIGKILL);
  REQUIRE(otpd.wait_recorded(box, "start", "a", 2));
  CHECK(otpd.wait_for([&] { return !running(grandchild); }));
}

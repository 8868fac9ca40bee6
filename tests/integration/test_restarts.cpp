// Strategies, restart types and backoff, with real processes dying.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>

#include "harness.hpp"

using namespace otpd::it;
using Strings = std::vector<std::string>;

namespace {

std::string four_children(std::string_view strategy) {
  std::string yaml = "tree:\n  strategy: " + std::string(strategy) + "\n  children:\n";
  for (const char* name : {"a", "b", "c", "d"}) {
    yaml +=
        "    - name: " + std::string(name) + "\n      command: [@CHILD@, --name, " + name + "]\n";
  }
  return yaml;
}

void boot(Otpd& otpd, const Sandbox& box, std::initializer_list<const char*> names) {
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  for (const char* name : names) REQUIRE(otpd.wait_recorded(box, "start", name));
}

}  // namespace

TEST_CASE("one_for_one restarts only the process that died") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, four_children("one_for_one"));
  boot(otpd, box, {"a", "b", "c", "d"});
  kill(box.pid("b"), SIGKILL);
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "b", 2), otpd.transcript());
  CHECK(box.recorded({"term"}).empty());
  for (const char* name : {"a", "c", "d"}) CHECK(box.count_recorded("start", name) == 1);
  // The new b's record may come before otpd's line about the old one is read.
  REQUIRE(otpd.wait_event("b", "exited"));
  CHECK(otpd.event("b", "exited")->str("signal") == "SIGKILL");
  CHECK(otpd.count("b", "restarting") == 1);
}

TEST_CASE("one_for_all stops the others in reverse and starts all again in order") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, four_children("one_for_all"));
  boot(otpd, box, {"a", "b", "c", "d"});
  kill(box.pid("b"), SIGKILL);
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "d", 2), otpd.transcript());
  CHECK(box.recorded({"term"}) == Strings{"term d", "term c", "term a"});
  CHECK(otpd.events({"starting"}) == Strings{"starting a", "starting b", "starting c", "starting d",
                                             "starting a", "starting b", "starting c",
                                             "starting d"});
}

TEST_CASE("rest_for_one restarts the dead process and the ones started after it") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, four_children("rest_for_one"));
  boot(otpd, box, {"a", "b", "c", "d"});
  kill(box.pid("b"), SIGKILL);
  for (const char* name : {"b", "c", "d"}) {
    REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", name, 2), otpd.transcript());
  }
  CHECK(box.recorded({"term"}) == Strings{"term d", "term c"});
  CHECK(box.count_recorded("start", "a") == 1);
  CHECK(box.count_recorded("start", "b") == 2);
  CHECK(box.count_recorded("start", "c") == 2);
}

TEST_CASE("restart types: permanent always, transient when abnormal, temporary never") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  intensity: 10
  children:
    - name: perm
      command: [@CHILD@, --name, perm, --term-delay, 0]
    - name: trans
      restart: transient
      command: [@CHILD@, --name, trans, --term-delay, 0]
    - name: coded
      restart: transient
      normal_exit: [3, SIGUSR1]
      command: [@CHILD@, --name, coded]
    - name: temp
      restart: temporary
      command: [@CHILD@, --name, temp]
)");
  boot(otpd, box, {"perm", "trans", "coded", "temp"});

  kill(box.pid("perm"), SIGTERM);  // exits 0: normal, yet permanent
  REQUIRE(otpd.wait_recorded(box, "start", "perm", 2));

  kill(box.pid("trans"), SIGKILL);  // abnormal
  REQUIRE(otpd.wait_recorded(box, "start", "trans", 2));
  kill(box.pid("trans", 1), SIGTERM);  // exits 0: normal, stays down
  REQUIRE(otpd.wait_event("trans", "exited", 2));

  kill(box.pid("coded"), SIGUSR1);  // listed as normal
  REQUIRE(otpd.wait_event("coded", "exited"));

  kill(box.pid("temp"), SIGKILL);
  REQUIRE(otpd.wait_event("temp", "removed"));

  // Everything above is handled in order; one more restart marks the end.
  kill(box.pid("perm", 1), SIGKILL);
  REQUIRE(otpd.wait_recorded(box, "start", "perm", 3));
  CHECK(box.count_recorded("start", "trans") == 2);
  CHECK(box.count_recorded("start", "coded") == 1);
  CHECK(box.count_recorded("start", "temp") == 1);
  CHECK(otpd.count("temp", "restarting") == 0);
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
}

TEST_CASE("backoff delays a restart by the configured time") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  backoff: {initial: 300ms, max: 1s, factor: 2, reset_after: 10s}
  children:
    - name: a
      command: [@CHILD@, --name, a]
)");
  boot(otpd, box, {"a"});
  const auto killed = std::chrono::steady_clock::now();
  kill(box.pid("a"), SIGKILL);
  REQUIRE(otpd.wait_recorded(box, "start", "a", 2));
  CHECK(std::chrono::steady_clock::now() - killed >= Ms(290));
  REQUIRE(otpd.wait_event("a", "restarting"));
  const Line* restarting = otpd.event("a", "restarting");
  REQUIRE(restarting != nullptr);
  CHECK(restarting->num("delay_ms") == 300);

  kill(box.pid("a", 1), SIGKILL);  // up for less than reset_after: the delay doubles
  REQUIRE(otpd.wait_event("a", "restarting", 2));
  CHECK(otpd.event("a", "restarting", 1)->num("delay_ms") == 600);
}

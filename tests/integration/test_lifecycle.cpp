// Starting the tree, stopping it on signals, and what otpd logs meanwhile.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>

#include "harness.hpp"

using namespace otpd::it;
using Strings = std::vector<std::string>;

namespace {

constexpr std::string_view three_children = R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
    - name: b
      command: [@CHILD@, --name, b]
    - name: c
      command: [@CHILD@, --name, c]
)";

void wait_all_running(Otpd& otpd, const Sandbox& box) {
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  for (const char* name : {"a", "b", "c"}) REQUIRE(otpd.wait_recorded(box, "start", name));
}

}  // namespace

TEST_CASE("the tree starts its children in order and says so") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, three_children);
  wait_all_running(otpd, box);
  CHECK(otpd.events({"starting", "started"}) == Strings{"starting a", "started a", "starting b",
                                                        "started b", "starting c", "started c",
                                                        "started /"});
  for (const char* name : {"a", "b", "c"}) CHECK(otpd.pid_of(name) == box.pid(name));
}

TEST_CASE("SIGTERM stops the children in reverse start order and otpd exits 0") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, three_children);
  wait_all_running(otpd, box);
  otpd.signal(SIGTERM);
  REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
  CHECK(box.recorded({"term"}) == Strings{"term c", "term b", "term a"});
  CHECK(otpd.events({"stopped"}) == Strings{"stopped c", "stopped b", "stopped a", "stopped /"});
  CHECK(otpd.wait_message("stopped"));
  CHECK(strays().empty());
}

TEST_CASE("SIGINT stops the tree like SIGTERM") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, three_children);
  wait_all_running(otpd, box);
  otpd.signal(SIGINT);
  REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
  CHECK(box.recorded({"term"}) == Strings{"term c", "term b", "term a"});
}

TEST_CASE("a second SIGINT kills every process at once") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      shutdown: 30s
      command: [@CHILD@, --name, a, --ignore-term]
    - name: b
      shutdown: 30s
      command: [@CHILD@, --name, b, --ignore-term]
)");
  REQUIRE(otpd.wait_recorded(box, "start", "a"));
  REQUIRE(otpd.wait_recorded(box, "start", "b"));
  const auto began = std::chrono::steady_clock::now();
  otpd.signal(SIGINT);
  REQUIRE(otpd.wait_recorded(box, "term", "b"));
  otpd.signal(SIGINT);
  REQUIRE_MESSAGE(otpd.wait_exit(Ms(5000)) == 0, otpd.transcript());
  CHECK(std::chrono::steady_clock::now() - began < std::chrono::seconds(5));
  CHECK(box.count_recorded("term", "a") == 0);  // killed before its turn came
  const Line* b = otpd.event("b", "stopped");
  REQUIRE(b != nullptr);
  CHECK(b->str("signal") == "SIGKILL");
  CHECK(!running(box.pid("a")));
  CHECK(!running(box.pid("b")));
}

TEST_CASE("events carry time, path, pid and the exit status") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: app
      children:
        - name: api
          restart: temporary
          command: [@CHILD@, --name, api, --exit-after, 50, --code, 7]
)");
  REQUIRE_MESSAGE(otpd.wait_event("app/api", "exited"), otpd.transcript());
  const Line* exited = otpd.event("app/api", "exited");
  CHECK(exited->num("exit_status") == 7);
  CHECK(exited->num("pid") == box.pid("api"));
  CHECK(!exited->str("time").empty());
  CHECK(!exited->str("reason").empty());
  CHECK(otpd.count("/", "started") == 1);
  CHECK(otpd.count("app", "started") == 1);
  CHECK(otpd.wait_event("app/api", "removed"));
}

TEST_CASE("--log-format human writes plain lines") {
  Sandbox box;
  const std::string config = box.write("otpd.yaml", R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
)");
  Otpd otpd({"--config", config, "--log-format", "human"},
            {.env = {"OTPD_TEST_RECORD=" + box.record_file()}});
  auto has = [&](std::string_view a, std::string_view b) {
    for (const auto& l : otpd.lines()) {
      if (l.json.is_null() && l.text.find(a) != std::string::npos &&
          l.text.find(b) != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  REQUIRE_MESSAGE(otpd.wait_for([&] { return has("tree started", ""); }), otpd.transcript());
  REQUIRE(otpd.wait_recorded(box, "start", "a"));
  CHECK(has("started", " a pid=" + std::to_string(box.pid("a"))));
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
  CHECK(has("stopped", " a pid="));
}

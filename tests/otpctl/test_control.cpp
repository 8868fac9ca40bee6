// otpctl start, stop, restart, signal and shutdown against a real otpd.
#include <doctest/doctest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "live_daemon.hpp"

using namespace otpd::ctl_test;

namespace {

std::string state_of(const LiveDaemon& live, const std::string& path) {
  const Outcome r = live.ctl({"status", path, "--json"});
  if (r.code != 0 && r.code != 3) return "(status failed: " + r.shown() + ")";
  const std::string state = nlohmann::json::parse(r.out).value("state", "(none)");
  // As systemctl status: 0 while it runs, 3 while it does not.
  if ((state == "running") != (r.code == 0)) return "(status exited " + r.shown() + ")";
  return state;
}

}  // namespace

TEST_CASE("otpctl stop keeps a child stopped through its siblings' restarts; start revives it") {
  LiveDaemon live(three_children("one_for_all"));
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "c"));

  const Outcome stop = live.ctl({"stop", "a"});
  REQUIRE_MESSAGE(stop.code == 0, stop.shown());
  CHECK(stop.out == "a: stopped\n");
  CHECK(live.box.count_recorded("term", "a") == 1);
  CHECK(state_of(live, "a") == "stopped");

  // One crash under one_for_all restarts the group, but not the held child.
  kill(live.box.pid("b"), SIGKILL);
  REQUIRE_MESSAGE(live.otpd.wait_recorded(live.box, "start", "c", 2), live.otpd.transcript());
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "b", 2));
  CHECK(live.box.count_recorded("start", "a") == 1);
  CHECK(state_of(live, "a") == "stopped");

  const Outcome start = live.ctl({"start", "a"});
  REQUIRE_MESSAGE(start.code == 0, start.shown());
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "a", 2));
  CHECK(start.out == "a: running (pid " + std::to_string(live.box.pid("a", 1)) + ")\n");
  CHECK(state_of(live, "a") == "running");
}

TEST_CASE("otpctl restart gives the child a new pid; --json prints each node") {
  LiveDaemon live(three_children("one_for_one"));
  const int old_pid = live.box.pid("b");
  const Outcome r = live.ctl({"restart", "b", "--json"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "b", 2));
  const auto node = nlohmann::json::parse(r.out);
  CHECK(node["path"] == "b");
  CHECK(node["state"] == "running");
  CHECK(node["pid"] != old_pid);
  CHECK(node["pid"] == live.box.pid("b", 1));
  CHECK(live.box.count_recorded("start", "a") == 1);  // only that child
  CHECK(live.box.count_recorded("start", "c") == 1);
}

TEST_CASE("otpctl stop goes through every path and exits 1 if any failed") {
  LiveDaemon live(three_children("one_for_one"));
  const Outcome r = live.ctl({"stop", "a", "nope", "c"});
  CHECK_MESSAGE(r.code == 1, r.shown());
  CHECK(r.out == "a: stopped\nc: stopped\n");
  CHECK(r.err.rfind("otpctl: stop nope: ", 0) == 0);
  CHECK(state_of(live, "a") == "stopped");
  CHECK(state_of(live, "c") == "stopped");
  CHECK(state_of(live, "b") == "running");
}

TEST_CASE("otpctl signal reaches the child") {
  LiveDaemon live(R"(
tree:
  children:
    - name: deaf
      command: [@CHILD@, --name, deaf, --ignore-term]
)");
  // otpd answers before the child has recorded its start.
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "deaf"));
  const int pid = live.box.pid("deaf");
  const Outcome r = live.ctl({"signal", "TERM", "deaf"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  REQUIRE(live.otpd.wait_recorded(live.box, "term", "deaf"));
  CHECK(live.box.recorded_value("term", "deaf") == std::to_string(pid));
  CHECK(r.out == "sent SIGTERM to deaf (pid " + std::to_string(pid) + " and its process group)\n");

  const Outcome number = live.ctl({"signal", "15", "deaf"});
  REQUIRE_MESSAGE(number.code == 0, number.shown());
  REQUIRE(live.otpd.wait_recorded(live.box, "term", "deaf", 2));

  const Outcome unknown = live.ctl({"signal", "TERM", "deef"});
  CHECK_MESSAGE(unknown.code == 1, unknown.shown());
  CHECK(unknown.err.find("deaf") != std::string::npos);  // the suggestion
}

TEST_CASE("otpctl signal goes where kill_mode says: the process group, or the main process alone") {
  // Each child has a copy of itself in its process group (--fork).
  LiveDaemon live(R"(
tree:
  children:
    - name: grouped
      command: [@CHILD@, --name, grouped, --fork, --catch, USR1, --ignore-term]
      shutdown: 500ms
    - name: alone
      command: [@CHILD@, --name, alone, --fork, --catch, USR1, --ignore-term]
      kill_mode: process
      shutdown: 500ms
)");
  for (const char* name : {"grouped", "grouped.child", "alone", "alone.child"}) {
    REQUIRE_MESSAGE(live.otpd.wait_recorded(live.box, "start", name), live.otpd.transcript());
  }
  const std::string alone = std::to_string(live.box.pid("alone"));
  const Outcome to_main = live.ctl({"signal", "USR1", "alone"});
  REQUIRE_MESSAGE(to_main.code == 0, to_main.shown());
  CHECK(to_main.out == "sent SIGUSR1 to alone (pid " + alone + " alone, as its kill_mode says)\n");
  REQUIRE(live.otpd.wait_recorded(live.box, "caught", "alone"));

  const std::string grouped = std::to_string(live.box.pid("grouped"));
  const Outcome to_group = live.ctl({"signal", "USR1", "grouped", "--json"});
  REQUIRE_MESSAGE(to_group.code == 0, to_group.shown());
  const auto reply = nlohmann::json::parse(to_group.out);
  CHECK(reply.value("to", "") == "group");
  CHECK(reply.value("pid", 0) == live.box.pid("grouped"));
  REQUIRE(live.otpd.wait_recorded(live.box, "caught", "grouped"));
  REQUIRE(live.otpd.wait_recorded(live.box, "caught", "grouped.child"));

  // alone's copy caught nothing from otpd: the first SIGUSR1 it records is
  // the one sent to it here, long after otpd's reached alone.
  const pid_t copy = live.box.pid("alone.child");
  REQUIRE(kill(copy, SIGUSR1) == 0);
  REQUIRE(live.otpd.wait_recorded(live.box, "caught", "alone.child"));
  CHECK(live.box.count_recorded("caught", "alone.child") == 1);
  CHECK(live.box.count_recorded("caught", "alone") == 1);
  CHECK(live.box.count_recorded("caught", "grouped.child") == 1);
}

TEST_CASE("a name unique in the tree stands for its path; others are refused with the paths") {
  LiveDaemon live(R"(
tree:
  children:
    - name: backend
      strategy: rest_for_one
      children:
        - name: redis
          command: [@CHILD@, --name, redis]
        - name: app
          command: [@CHILD@, --name, app, --print, 1]
    - name: cache
      children:
        - name: app
          command: [@CHILD@, --name, cache-app]
)");
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "cache-app"));
  const Outcome restart = live.ctl({"restart", "redis"});
  REQUIRE_MESSAGE(restart.code == 0, restart.shown());
  CHECK(restart.out.rfind("backend/redis: running", 0) == 0);
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "redis", 2));

  const Outcome status = live.ctl({"status", "redis", "--json"});
  REQUIRE_MESSAGE(status.code == 0, status.shown());
  CHECK(nlohmann::json::parse(status.out).value("path", "") == "backend/redis");
  // The last parts of a path will do too.
  const Outcome logs = live.ctl({"logs", "backend/app", "-n", "5"});
  CHECK_MESSAGE(logs.code == 0, logs.shown());
  const Outcome signal = live.ctl({"signal", "TERM", "cache/app"});
  CHECK_MESSAGE(signal.code == 0, signal.shown());

  const Outcome ambiguous = live.ctl({"stop", "app"});
  CHECK(ambiguous.code == 1);
  CHECK_MESSAGE(ambiguous.err ==
                    "otpctl: stop app: 'app' is the name of 2 children (backend/app, "
                    "cache/app): write the path of one\n",
                ambiguous.shown());
  CHECK(state_of(live, "backend/app") == "running");

  const Outcome unknown = live.ctl({"logs", "rediss"});
  CHECK(unknown.code == 1);
  CHECK_MESSAGE(unknown.err.find("no child 'rediss' in the tree (did you mean 'backend/redis'?)") !=
                    std::string::npos,
                unknown.shown());
}

TEST_CASE("otpctl shutdown stops the tree and otpd exits 0") {
  LiveDaemon live(three_children("one_for_one"));
  const Outcome r = live.ctl({"shutdown"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  CHECK(r.out.find("is stopping the tree") != std::string::npos);
  CHECK(live.otpd.wait_exit() == 0);
  CHECK(live.box.count_recorded("term", "a") == 1);
  CHECK(live.box.count_recorded("term", "c") == 1);

  const Outcome after = live.ctl({"ping"});
  CHECK_MESSAGE(after.code == 3, after.shown());
}

// In-process workers in a real otpd, driven by otpctl as an operator would.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "live_daemon.hpp"

using namespace otpd::ctl_test;
using Json = nlohmann::json;

namespace {

const char* const kAgentTree = R"(
tree:
  children:
    - name: db
      command: [@CHILD@, --name, db]
    - name: app
      children:
        - name: settings
          worker:
            kind: agent
            value: {limit: 10, features: {search: true}}
)";

Json status_json(const LiveDaemon& live, const std::string& path) {
  const Outcome r = live.ctl({"status", path, "--json"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  return Json::parse(r.out);
}

}  // namespace

TEST_CASE("a worker shows in status as a worker of its kind, without a pid") {
  LiveDaemon live(kAgentTree);
  const Json node = status_json(live, "app/settings");
  CHECK(node["kind"] == "worker");
  CHECK(node["worker_kind"] == "agent");
  CHECK(node["state"] == "running");
  CHECK(node["restarts"] == 0);
  CHECK(node["runtime_pid"].is_number_integer());
  CHECK_FALSE(node.contains("pid"));
  const Outcome tree = live.ctl({"status"}, {"LANG=C"});
  REQUIRE_MESSAGE(tree.code == 0, tree.shown());
  const auto lines = tree.out_lines();
  REQUIRE(lines.size() == 4);
  CHECK(lines[3].find("settings") != std::string::npos);
  CHECK(lines[3].find("agent") != std::string::npos);
  CHECK(lines[3].find("running") != std::string::npos);
  CHECK(lines[3].find("pid") == std::string::npos);
  CHECK(live.otpd.event("app/settings", "started") != nullptr);
}

TEST_CASE("otpctl stop, start and restart reach a worker") {
  LiveDaemon live(kAgentTree);
  const auto first = status_json(live, "app/settings")["runtime_pid"];
  const Outcome stop = live.ctl({"stop", "app/settings"});
  REQUIRE_MESSAGE(stop.code == 0, stop.shown());
  REQUIRE(live.otpd.wait_event("app/settings", "stopped"));
  CHECK(live.otpd.event("app/settings", "stopped")->str("reason") == "shutdown");
  CHECK(status_json(live, "app/settings")["state"] == "stopped");
  const Outcome start = live.ctl({"start", "app/settings"});
  REQUIRE_MESSAGE(start.code == 0, start.shown());
  const Json started = status_json(live, "app/settings");
  CHECK(started["state"] == "running");
  CHECK(started["runtime_pid"] != first);
  const Outcome restart = live.ctl({"restart", "app/settings"});
  REQUIRE_MESSAGE(restart.code == 0, restart.shown());
  CHECK(live.otpd.wait_event("app/settings", "started", 3));
}

TEST_CASE("otpctl signal refuses a worker: signals go to processes") {
  LiveDaemon live(kAgentTree);
  const Outcome r = live.ctl({"signal", "TERM", "app/settings"});
  CHECK(r.code != 0);
  CHECK_MESSAGE(r.err.find("in-process worker") != std::string::npos, r.shown());
  CHECK(status_json(live, "app/settings")["state"] == "running");
}

TEST_CASE("a reload that changes a worker's settings restarts it and nothing else") {
  LiveDaemon live(kAgentTree);
  const int db = live.box.pid("db");
  std::string changed = kAgentTree;
  changed.replace(changed.find("limit: 10"), 9, "limit: 20");
  live.box.write("otpd.yaml", changed);
  const Outcome reload = live.ctl({"reload"});
  REQUIRE_MESSAGE(reload.code == 0, reload.shown());
  CHECK(reload.out.find("~ app/settings (worker)") != std::string::npos);
  REQUIRE(live.otpd.wait_event("app/settings", "started", 2));
  CHECK(live.box.pid("db") == db);
  CHECK(live.box.count_recorded("start", "db") == 1);
}

TEST_CASE("otpd check counts workers") {
  otpd::it::Sandbox box;
  const std::string file = box.write("otpd.yaml", kAgentTree);
  const auto r = otpd::it::run_to_end({"check", file});
  CHECK(r.code == 0);
  CHECK(r.out == file + ": ok (1 processes, 1 workers, 2 supervisors)\n");
}

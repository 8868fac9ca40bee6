// In-process workers in a real otpd, driven by otpctl as an operator would.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "file_change.hpp"
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
  // 3: something shown is not running.
  REQUIRE_MESSAGE((r.code == 0 || r.code == 3), r.shown());
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
  // The tree has started once db has exec'd, which may be before it writes
  // its record.
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "db"));
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
  CHECK(r.out == file + ": ok (1 process, 1 worker, 2 supervisors)\n");
}

TEST_CASE("otpctl call reads and changes an agent's value; cast changes it without a reply") {
  LiveDaemon live(kAgentTree);
  Outcome r = live.ctl({"call", "app/settings", "get", "--json"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  CHECK(Json::parse(r.out) ==
        Json::parse(R"({"path":"app/settings","reply":{"limit":10,"features":{"search":true}}})"));

  r = live.ctl(
      {"call", "app/settings", R"({"update": {"limit": 20, "features": {"search": null}}})"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  CHECK(Json::parse(r.out) == Json::parse(R"({"limit":20,"features":{}})"));

  r = live.ctl({"call", "app/settings", R"({"get": "/limit"})"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  CHECK(r.out == "20\n");

  r = live.ctl({"cast", "app/settings", R"({"put": [1, 2]})"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  CHECK(r.out == "sent to app/settings\n");
  r = live.ctl({"call", "app/settings", "get"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  CHECK(Json::parse(r.out) == Json::parse("[1, 2]"));
}

TEST_CASE("otpctl call errors: unknown operation, not a worker, not running, not JSON") {
  LiveDaemon live(kAgentTree);
  Outcome r = live.ctl({"call", "app/settings", R"({"frobnicate": 1})"});
  CHECK(r.code == 1);
  CHECK_MESSAGE(r.err.find("unknown operation 'frobnicate'") != std::string::npos, r.shown());
  r = live.ctl({"call", "app/settings", R"({"get": "/nothing/here"})"});
  CHECK(r.code == 1);
  CHECK_MESSAGE(r.err.find("nothing at '/nothing/here'") != std::string::npos, r.shown());
  r = live.ctl({"call", "db", "get"});
  CHECK(r.code == 1);
  CHECK_MESSAGE(r.err.find("'db' is not an in-process worker") != std::string::npos, r.shown());
  r = live.ctl({"call", "app/setings", "get"});
  CHECK(r.code == 1);
  CHECK_MESSAGE(r.err.find("did you mean 'app/settings'") != std::string::npos, r.shown());
  r = live.ctl({"call", "app/settings", "{not json"});
  CHECK(r.code == 2);
  CHECK_MESSAGE(r.err.find("is not JSON") != std::string::npos, r.shown());
  REQUIRE(live.ctl({"stop", "app/settings"}).code == 0);
  r = live.ctl({"call", "app/settings", "get"});
  CHECK(r.code == 1);
  CHECK_MESSAGE(r.err.find("'app/settings' is not running") != std::string::npos, r.shown());
  // After all of it the worker still answers, and was never restarted.
  REQUIRE(live.ctl({"start", "app/settings"}).code == 0);
  CHECK(live.ctl({"call", "app/settings", "get"}).code == 0);
  CHECK(status_json(live, "app/settings")["restarts"] == 0);
}

TEST_CASE("otpctl whereis shows where a worker runs, and exits 1 when it does not") {
  LiveDaemon live(kAgentTree);
  Outcome r = live.ctl({"whereis", "app/settings", "--json"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  const Json where = Json::parse(r.out);
  CHECK(where["running"] == true);
  CHECK(where["worker_kind"] == "agent");
  CHECK(where["runtime_pid"] == status_json(live, "app/settings")["runtime_pid"]);
  r = live.ctl({"whereis", "app/settings"});
  CHECK(r.out == "app/settings: agent, runtime pid " + where["runtime_pid"].dump() + "\n");
  REQUIRE(live.ctl({"stop", "app/settings"}).code == 0);
  r = live.ctl({"whereis", "app/settings"});
  CHECK(r.code == 1);
  CHECK(r.out == "app/settings: agent, not running\n");
  r = live.ctl({"whereis", "db"});
  CHECK(r.code == 1);
  CHECK(r.err.find("not an in-process worker") != std::string::npos);
}

namespace {

// The agent parses what it is sent on its own thread: some 900 KB of JSON
// keep it busy for milliseconds.
std::string big_put() {
  std::string big = "{\"put\": [";
  for (int i = 0; i < 100'000; ++i) big += (i == 0 ? "" : ",") + std::to_string(1'000'000 + i);
  return big + "]}";
}

}  // namespace

TEST_CASE("otpctl call and cast read MESSAGE from stdin for -") {
  LiveDaemon live(kAgentTree);
  Outcome r = live.ctl_with_input({"call", "app/settings", "-"},
                                  live.box.write("put.json", "{\"put\": {\"limit\": 3}}\n"));
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  r = live.ctl_with_input({"call", "app/settings", "-", "--json"}, live.box.write("get", "get\n"));
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  CHECK(Json::parse(r.out)["reply"] == Json::parse("{\"limit\": 3}"));
  r = live.ctl_with_input({"cast", "app/settings", "-"},
                          live.box.write("cast.json", "{\"put\": {\"limit\": 4}}"));
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  r = live.ctl_with_input({"call", "app/settings", "-"}, live.box.write("bad", "{not json\n"));
  CHECK(r.code == 2);
  CHECK(r.err.find("standard input holds neither JSON") != std::string::npos);
  r = live.ctl({"call", "app/settings", "{\"get\": \"/limit\"}", "--json"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  CHECK(Json::parse(r.out)["reply"] == 4);
}

TEST_CASE("otpctl whereis and call find a restarted worker under the same name") {
  LiveDaemon live(kAgentTree);
  std::vector<long long> pids;
  for (int round = 0; round < 5; ++round) {
    if (round > 0) REQUIRE(live.ctl({"restart", "app/settings"}).code == 0);
    const Outcome r = live.ctl({"whereis", "app/settings", "--json"});
    REQUIRE_MESSAGE(r.code == 0, r.shown());
    const Json where = Json::parse(r.out);
    CHECK(where["runtime_pid"] == status_json(live, "app/settings")["runtime_pid"]);
    pids.push_back(where["runtime_pid"].get<long long>());
    const Outcome call = live.ctl({"call", "app/settings", "get", "--json"});
    REQUIRE_MESSAGE(call.code == 0, call.shown());
    CHECK(Json::parse(call.out)["reply"]["limit"] == 10);
  }
  std::sort(pids.begin(), pids.end());
  CHECK(std::unique(pids.begin(), pids.end()) == pids.end());
}

TEST_CASE("a handler that holds its thread past workers.slow_handler is reported") {
  LiveDaemon live(std::string(kAgentTree) + "workers:\n  slow_handler: 1ms\n");
  const std::string big = big_put();
  const Outcome put =
      live.ctl_with_input({"call", "app/settings", "-"}, live.box.write("big.json", big));
  REQUIRE_MESSAGE(put.code == 0, put.shown());
  REQUIRE(live.otpd.wait_event("app/settings", "slow_handler"));
  const std::string reason = live.otpd.event("app/settings", "slow_handler")->str("reason");
  CHECK(reason.find("held its thread for") != std::string::npos);
  CHECK(reason.find("limit 1ms") != std::string::npos);
  CHECK(reason.find("Agent") != std::string::npos);
  CHECK(live.ctl({"call", "app/settings", "get"}).code == 0);
}

TEST_CASE("without a slow_handler limit nothing is reported") {
  LiveDaemon live(std::string(kAgentTree) + "workers:\n  slow_handler: 0s\n  threads: 1\n");
  const std::string big = big_put();
  REQUIRE(
      live.ctl_with_input({"call", "app/settings", "-"}, live.box.write("big.json", big)).code ==
      0);
  // A report would be logged before the events of this later restart.
  REQUIRE(live.ctl({"restart", "app/settings"}).code == 0);
  REQUIRE(live.otpd.wait_event("app/settings", "started", 2));
  CHECK(live.otpd.count("app/settings", "slow_handler") == 0);
}

namespace {

// A TCP port nobody listens on now (the kernel's pick, released at once).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t size = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  return ntohs(address.sin_port);
}

std::string with_port(std::string yaml, int port) {
  for (auto at = yaml.find("PORT"); at != std::string::npos; at = yaml.find("PORT")) {
    yaml.replace(at, 4, std::to_string(port));
  }
  return yaml;
}

}  // namespace

TEST_CASE(
    "a health check kills the process it guards once it stops answering; rest_for_one "
    "restarts both") {
  const int port = free_port();
  LiveDaemon live(with_port(R"(
tree:
  strategy: rest_for_one
  intensity: 10
  children:
    - name: web
      command: [@CHILD@, --name, web, --listen, PORT, --listen-for, "1000"]
      ready: {tcp: PORT}
    - name: web-health
      worker:
        kind: health_check
        tcp: PORT
        interval: 200ms
        timeout: 1s
        failures: 3
        guards: web
)",
                            port));
  const int first = live.box.pid("web");
  // The process stays alive but closes its port: three failed probes, then
  // the check kills it and the strategy restarts it and the check after it.
  REQUIRE_MESSAGE(live.otpd.wait_event("web-health", "unhealthy"), live.otpd.transcript());
  // On a loaded machine a probe of the listening port may also time out
  // once and be followed by a success: what counts is the run of three
  // failures right before "unhealthy".
  const auto events = live.otpd.events({"health_failed", "unhealthy"});
  const auto unhealthy = std::find(events.begin(), events.end(), "unhealthy web-health");
  REQUIRE(unhealthy != events.end());
  const int failures_before = static_cast<int>(
      std::count(events.begin(), unhealthy, std::string("health_failed web-health")));
  REQUIRE(failures_before >= 3);
  for (int run = 1; run <= 3; ++run) {
    CHECK(
        live.otpd.event("web-health", "health_failed", failures_before - 4 + run)->str("reason") ==
        "tcp 127.0.0.1:" + std::to_string(port) + ": connection refused or not accepted in time (" +
            std::to_string(run) + "/3)");
  }
  CHECK(live.otpd.event("web-health", "unhealthy")->str("reason") ==
        "3 failed probes in a row; killing web");
  REQUIRE(live.otpd.wait_event("web", "exited"));
  CHECK(live.otpd.event("web", "exited")->str("reason") == "killed by SIGKILL");
  REQUIRE(live.otpd.wait_event("web-health", "started", 2));
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "web", 2));
  CHECK(live.box.pid("web", 1) != first);
  CHECK(live.box.count_recorded("unlistened", "web") >= 1);
}

TEST_CASE("a health check without guards exits abnormally: one_for_all restarts everything") {
  LiveDaemon live(R"(
tree:
  strategy: one_for_all
  intensity: 50
  children:
    - name: db
      command: [@CHILD@, --name, db]
    - name: db-health
      worker:
        kind: health_check
        exec: "test -e @DIR@/healthy && echo ok >> @DIR@/probes"
        interval: 100ms
        failures: 2
)");
  REQUIRE_MESSAGE(live.otpd.wait_event("db-health", "exited"), live.otpd.transcript());
  const auto* exited = live.otpd.event("db-health", "exited");
  CHECK(exited->str("reason").rfind("error: unhealthy: 2 failed probes in a row", 0) == 0);
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "db", 2));
  // Healthy from now on: no more restarts after the recovery of the new
  // check, over three good probes and three more.
  live.box.write("healthy", "");
  const auto good_probes = [&] {
    std::ifstream probes(live.box.path("probes"));
    return static_cast<int>(
        std::count(std::istreambuf_iterator<char>(probes), std::istreambuf_iterator<char>(), '\n'));
  };
  REQUIRE(otpd::test::wait_for_file_change(live.box.dir(), [&] { return good_probes() >= 3; }));
  const Json before = status_json(live, "db-health");
  const int seen = good_probes();
  REQUIRE(
      otpd::test::wait_for_file_change(live.box.dir(), [&] { return good_probes() >= seen + 3; }));
  const Json after = status_json(live, "db-health");
  CHECK(after["restarts"] == before["restarts"]);
  CHECK(after["state"] == "running");
}

TEST_CASE("a health check's probe command is killed when the check stops") {
  LiveDaemon live(R"(
tree:
  children:
    - name: check
      worker:
        kind: health_check
        exec: "echo $$ > @DIR@/probe.pid; exec sleep 30"
        timeout: 60s
)");
  // The check's first probe never ends on its own.
  int pid = 0;
  REQUIRE(live.otpd.wait_for([&] {
    std::ifstream(live.box.path("probe.pid")) >> pid;
    return pid > 0;
  }));
  const Outcome stop = live.ctl({"stop", "check"});
  REQUIRE_MESSAGE(stop.code == 0, stop.shown());
  REQUIRE(live.otpd.wait_event("check", "stopped"));
  CHECK(otpd::it::reaped(pid));
}

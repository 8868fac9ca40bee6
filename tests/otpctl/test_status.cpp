// otpctl status, ping and version against a real otpd.
#include <doctest/doctest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "live_daemon.hpp"

using namespace otpd::ctl_test;
using Strings = std::vector<std::string>;

namespace {

const char* const kNested = R"(
tree:
  children:
    - name: db
      command: [@CHILD@, --name, db]
    - name: app
      strategy: rest_for_one
      children:
        - name: api
          command: [@CHILD@, --name, api]
        - name: worker
          command: [@CHILD@, --name, worker]
)";

bool starts_with(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

TEST_CASE("otpctl status draws the tree, without colour when piped") {
  LiveDaemon live(kNested);
  const Outcome r = live.ctl({"status"}, {"LANG=C.UTF-8"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  CHECK(r.err.empty());
  CHECK(r.out.find('\x1b') == std::string::npos);
  const Strings lines = r.out_lines();
  REQUIRE_MESSAGE(lines.size() == 5, r.out);
  CHECK(starts_with(lines[0], "/ "));
  CHECK(starts_with(lines[1], "├─ db "));
  CHECK(starts_with(lines[2], "└─ app "));
  CHECK(starts_with(lines[3], "   ├─ api "));
  CHECK(starts_with(lines[4], "   └─ worker "));
  CHECK(lines[0].find("one_for_one") != std::string::npos);
  CHECK(lines[2].find("rest_for_one") != std::string::npos);
  CHECK(lines[0].find("intensity 0/3 per 5s") != std::string::npos);
  for (const std::string& line : lines) CHECK(line.find("running") != std::string::npos);
  CHECK(lines[1].find("pid " + std::to_string(live.box.pid("db"))) != std::string::npos);
  CHECK(lines[4].find("pid " + std::to_string(live.box.pid("worker"))) != std::string::npos);
  CHECK(lines[1].find(" up ") != std::string::npos);
  CHECK(lines[1].find("restarts 0") != std::string::npos);
}

TEST_CASE("otpctl status uses ASCII glyphs outside a UTF-8 locale, and shows a subtree") {
  LiveDaemon live(kNested);
  const Outcome all = live.ctl({"status"}, {"LANG=C"});
  REQUIRE_MESSAGE(all.code == 0, all.shown());
  const Strings lines = all.out_lines();
  REQUIRE(lines.size() == 5);
  CHECK(starts_with(lines[1], "|- db "));
  CHECK(starts_with(lines[2], "`- app "));
  CHECK(starts_with(lines[3], "   |- api "));

  const Outcome sub = live.ctl({"status", "app", "--no-color"}, {"LANG=C"});
  REQUIRE_MESSAGE(sub.code == 0, sub.shown());
  const Strings sub_lines = sub.out_lines();
  REQUIRE(sub_lines.size() == 3);
  CHECK(starts_with(sub_lines[0], "app "));
  CHECK(starts_with(sub_lines[1], "|- api "));
}

TEST_CASE("otpctl status --json prints otpd's node") {
  LiveDaemon live(kNested);
  const Outcome r = live.ctl({"status", "--json"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  const auto node = nlohmann::json::parse(r.out);
  CHECK(node["path"] == "/");
  CHECK(node["kind"] == "supervisor");
  REQUIRE(node["children"].size() == 2);
  CHECK(node["children"][0]["name"] == "db");
  CHECK(node["children"][0]["pid"] == live.box.pid("db"));
  CHECK(node["children"][1]["children"][1]["path"] == "app/worker");

  const Outcome one = live.ctl({"--json", "status", "app/api"});
  REQUIRE_MESSAGE(one.code == 0, one.shown());
  CHECK(nlohmann::json::parse(one.out)["state"] == "running");
}

TEST_CASE("otpctl status of an unknown path fails (4, unknown) with otpd's suggestion") {
  LiveDaemon live(kNested);
  const Outcome r = live.ctl({"status", "app/workr"});
  CHECK_MESSAGE(r.code == 4, r.shown());
  CHECK(r.out.empty());
  CHECK(starts_with(r.err, "otpctl: "));
  CHECK(r.err.find("app/worker") != std::string::npos);  // the suggestion
}

TEST_CASE("otpctl ping and version") {
  LiveDaemon live(kNested);
  const Outcome ping = live.ctl({"ping"});
  REQUIRE_MESSAGE(ping.code == 0, ping.shown());
  CHECK(starts_with(ping.out, "pong from otpd (pid " + std::to_string(live.otpd.pid()) + ") in "));
  CHECK(ping.out.find(" ms\n") != std::string::npos);

  const Outcome version = live.ctl({"version"});
  REQUIRE_MESSAGE(version.code == 0, version.shown());
  CHECK(version.out == "otpctl " OTPD_VERSION " (protocol 1)\notpd " OTPD_VERSION
                       " (protocol 1)\n");
  const Outcome json = live.ctl({"version", "--json"});
  REQUIRE_MESSAGE(json.code == 0, json.shown());
  CHECK(nlohmann::json::parse(json.out)["protocol"] == 1);
}

TEST_CASE("otpctl status exits 3 while a node it shows is not running, as systemctl status") {
  LiveDaemon live(kNested);
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "worker"));
  CHECK(live.ctl({"status"}).code == 0);

  REQUIRE(live.ctl({"stop", "app/worker"}).code == 0);
  const Outcome all = live.ctl({"status"});
  CHECK_MESSAGE(all.code == 3, all.shown());
  CHECK(all.out.find("worker") != std::string::npos);  // the tree is still printed
  CHECK(all.err.empty());
  CHECK(live.ctl({"status", "--json"}).code == 3);
  CHECK(live.ctl({"status", "app/worker"}).code == 3);
  // A subtree where everything runs.
  CHECK(live.ctl({"status", "db"}).code == 0);
  CHECK(live.ctl({"status", "app/api"}).code == 0);

  const Outcome unknown = live.ctl({"status", "app/nope"});
  CHECK_MESSAGE(unknown.code == 4, unknown.shown());
  CHECK(unknown.err.find("app/nope") != std::string::npos);
}

TEST_CASE("otpctl is-active prints each node's state and exits 0 only when all run") {
  LiveDaemon live(kNested);
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "worker"));
  const Outcome root = live.ctl({"is-active"});
  CHECK_MESSAGE(root.code == 0, root.shown());
  CHECK(root.out == "running\n");

  REQUIRE(live.ctl({"stop", "app/worker"}).code == 0);
  // The root and app still run: is-active does not look below them.
  CHECK(live.ctl({"is-active", "/", "app"}).code == 0);
  const Outcome both = live.ctl({"is-active", "db", "app/worker"});
  CHECK_MESSAGE(both.code == 3, both.shown());
  CHECK(both.out == "running\nstopped\n");

  const Outcome quiet = live.ctl({"is-active", "--quiet", "app/worker"});
  CHECK(quiet.code == 3);
  CHECK(quiet.out.empty());
  CHECK(quiet.err.empty());
  CHECK(live.ctl({"is-active", "-q", "db"}).code == 0);

  const Outcome json = live.ctl({"is-active", "--json", "db", "app/worker"});
  CHECK(json.code == 3);
  CHECK(json.out ==
        "{\"path\":\"db\",\"state\":\"running\"}\n"
        "{\"path\":\"app/worker\",\"state\":\"stopped\"}\n");

  const Outcome unknown = live.ctl({"is-active", "db", "nope"});
  CHECK_MESSAGE(unknown.code == 4, unknown.shown());
  CHECK(unknown.out == "running\nunknown\n");
  CHECK(unknown.err.find("nope") != std::string::npos);
}

TEST_CASE("after otpctl stop, status shows the hold and the stop as the last exit") {
  LiveDaemon live(R"(
tree:
  children:
    - name: s
      shell: "exec sleep 100"
    - name: t
      command: [@CHILD@, --name, t]
)");
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "t"));
  REQUIRE(live.ctl({"stop", "s"}).code == 0);
  const Outcome r = live.ctl({"status", "s"}, {"LANG=C"});
  CHECK(r.code == 3);
  CHECK_MESSAGE(r.out.find("stopped") != std::string::npos, r.out);
  CHECK_MESSAGE(
      r.out.find("held by otpctl stop, last exit: killed by SIGTERM") != std::string::npos, r.out);
}

TEST_CASE("siblings restarted by rest_for_one count the restart") {
  LiveDaemon live(kNested);
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "worker"));
  kill(live.box.pid("api"), SIGKILL);
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "worker", 2));
  REQUIRE(live.otpd.wait_event("app/worker", "started", 2));
  const Outcome r = live.ctl({"status", "app", "--json"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  const auto node = nlohmann::json::parse(r.out);
  CHECK(node["children"][0]["restarts"] == 1);  // api, which was killed
  CHECK(node["children"][1]["restarts"] == 1);  // worker, restarted with it
  CHECK(node["intensity_used"] == 1);
}

// Every command of docs/protocol.md against a real tree.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include "client.hpp"

using namespace otpd::it;
using namespace otpd::pt;
using nlohmann::json;

namespace {

constexpr std::string_view kTree = R"(
tree:
  strategy: one_for_all
  intensity: 10
  children:
    - name: app
      strategy: one_for_one
      children:
        - name: api
          command: [@CHILD@, --name, api, --ignore-term, --term-delay, "0"]
          shutdown: 200ms
        - name: db
          command: [@CHILD@, --name, db]
    - name: web
      command: [@CHILD@, --name, web]
)";

json error_of(const json& reply) {
  return reply.value("error", json());
}

// Started, and each child has recorded its start (so that its record of a
// later start is its second).
Otpd start_tree(const Sandbox& box) {
  Otpd otpd = start_otpd(box, kTree);
  for (const char* name : {"api", "db", "web"}) REQUIRE(otpd.wait_recorded(box, "start", name));
  return otpd;
}

}  // namespace

TEST_CASE("ping, version and hello carry the protocol version") {
  Sandbox box;
  Otpd otpd = start_tree(box);
  Client c(socket_in(box));
  REQUIRE(c.ok());
  CHECK(c.call(otpd, {{"id", 1}, {"cmd", "ping"}}) == json::parse(R"({"id":1,"result":"pong"})"));
  const json version = c.call(otpd, {{"id", "v"}, {"cmd", "version"}});
  CHECK(version["id"] == "v");
  CHECK(version["result"]["protocol"] == 1);
  CHECK(version["result"]["version"] == OTPD_VERSION);
  const json hello = c.call(otpd, {{"id", 2}, {"cmd", "hello"}, {"protocol", 1}, {"client", "t"}});
  CHECK(hello["result"]["protocol"] == 1);
  CHECK(hello["result"]["pid"] == otpd.pid());
  const json newer = c.call(otpd, {{"id", 3}, {"cmd", "hello"}, {"protocol", 2}});
  CHECK(error_of(newer)["code"] == "unsupported_version");
  CHECK(newer["id"] == 3);
}

TEST_CASE("status of the whole tree and of a subtree") {
  Sandbox box;
  Otpd otpd = start_tree(box);
  Client c(socket_in(box));
  const json all = c.call(otpd, {{"id", 1}, {"cmd", "status"}})["result"];
  CHECK(all["path"] == "/");
  CHECK(all["kind"] == "supervisor");
  CHECK(all["strategy"] == "one_for_all");
  CHECK(all["intensity"] == 10);
  CHECK(all["intensity_used"] == 0);
  REQUIRE(all["children"].size() == 2);
  CHECK(all["children"][0]["path"] == "app");
  CHECK(all["children"][1]["path"] == "web");

  const json api = c.call(otpd, {{"id", 2}, {"cmd", "status"}, {"path", "app/api"}})["result"];
  CHECK(api["kind"] == "process");
  CHECK(api["state"] == "running");
  CHECK(api["pid"] == box.pid("api"));
  CHECK(api["uptime_ms"].is_number());
  CHECK(api["restarts"] == 0);
  CHECK(api["last_exit"].is_null());
  CHECK(api["command"][0].get<std::string>().find("otpd-test-child") != std::string::npos);

  const json sub = c.call(otpd, {{"id", 3}, {"cmd", "status"}, {"path", "/app"}})["result"];
  CHECK(sub["path"] == "app");
  CHECK(sub["children"].size() == 2);

  const json missing = c.call(otpd, {{"id", 4}, {"cmd", "status"}, {"path", "app/apx"}});
  CHECK(error_of(missing)["code"] == "not_found");
  CHECK(error_of(missing)["message"] == "no child 'app/apx' in the tree (did you mean 'app/api'?)");
}

TEST_CASE("an operator stop holds a child until it is started again") {
  Sandbox box;
  Otpd otpd = start_tree(box);
  Client c(socket_in(box));
  const json stopped = c.call(otpd, {{"id", 1}, {"cmd", "stop"}, {"path", "web"}});
  CHECK(stopped["result"]["state"] == "stopped");
  CHECK(stopped["result"]["held"] == true);

  // A restart elsewhere in the tree leaves the held child alone.
  const json killed =
      c.call(otpd, {{"id", 2}, {"cmd", "signal"}, {"path", "app/db"}, {"signal", "KILL"}});
  CHECK(killed["result"] ==
        json{{"path", "app/db"}, {"pid", box.pid("db")}, {"signal", "SIGKILL"}, {"to", "group"}});
  REQUIRE(otpd.wait_event("app/db", "started", 2));
  const json root = c.call(otpd, {{"id", 3}, {"cmd", "status"}})["result"];
  CHECK(root["intensity_used"] == 0);  // db's restart is app's business: one_for_one
  const json web = c.call(otpd, {{"id", 4}, {"cmd", "status"}, {"path", "web"}})["result"];
  CHECK(web["state"] == "stopped");
  CHECK(web["held"] == true);
  CHECK(box.count_recorded("start", "web") == 1);

  const json started = c.call(otpd, {{"id", 5}, {"cmd", "start"}, {"path", "web"}});
  CHECK(started["result"]["state"] == "running");
  CHECK(started["result"]["held"] == false);
  CHECK(otpd.wait_recorded(box, "start", "web", 2));
}

TEST_CASE("an operator stop survives a one_for_all restart of its supervisor's children") {
  Sandbox box;
  Otpd otpd = start_otpd(box, R"(
tree:
  strategy: one_for_all
  intensity: 10
  children:
    - name: a
      command: [@CHILD@, --name, a]
    - name: b
      command: [@CHILD@, --name, b]
)");
  // Both: each child records its start when it runs, in no set order.
  REQUIRE(otpd.wait_recorded(box, "start", "a"));
  REQUIRE(otpd.wait_recorded(box, "start", "b"));
  Client c(socket_in(box));
  CHECK(c.call(otpd, {{"id", 1}, {"cmd", "stop"}, {"path", "b"}})["result"]["held"] == true);
  CHECK(
      c.call(otpd, {{"id", 2}, {"cmd", "signal"}, {"path", "a"}, {"signal", 9}})["result"]["pid"] ==
      box.pid("a"));
  REQUIRE(otpd.wait_recorded(box, "start", "a", 2));
  const json b = c.call(otpd, {{"id", 3}, {"cmd", "status"}, {"path", "b"}})["result"];
  CHECK(b["state"] == "stopped");
  CHECK(box.count_recorded("start", "b") == 1);
  CHECK(c.call(otpd, {{"id", 4}, {"cmd", "status"}})["result"]["intensity_used"] == 1);
}

TEST_CASE("restart and signal by path; unknown paths name the nearest") {
  Sandbox box;
  Otpd otpd = start_tree(box);
  Client c(socket_in(box));
  const pid_t first = box.pid("web");
  const json restarted = c.call(otpd, {{"id", 1}, {"cmd", "restart"}, {"path", "web"}});
  CHECK(restarted["result"]["state"] == "running");
  CHECK(restarted["result"]["pid"] != first);
  REQUIRE(otpd.wait_recorded(box, "start", "web", 2));
  CHECK(restarted["result"]["pid"] == box.pid("web", 1));

  const json hup =
      c.call(otpd, {{"id", 2}, {"cmd", "signal"}, {"path", "app/api"}, {"signal", "TERM"}});
  CHECK(hup["result"]["signal"] == "SIGTERM");
  CHECK(otpd.wait_recorded(box, "term", "api"));

  for (const char* cmd : {"start", "stop", "restart"}) {
    CAPTURE(cmd);
    const json r = c.call(otpd, {{"id", 3}, {"cmd", cmd}, {"path", "wbe"}});
    CHECK(error_of(r)["code"] == "not_found");
    CHECK(error_of(r)["message"] == "no child 'wbe' in the tree (did you mean 'web'?)");
  }
  const json sup = c.call(otpd, {{"id", 4}, {"cmd", "signal"}, {"path", "app"}, {"signal", "HUP"}});
  CHECK(error_of(sup)["code"] == "failed");
  const json root = c.call(otpd, {{"id", 5}, {"cmd", "stop"}, {"path", "/"}});
  CHECK(error_of(root)["code"] == "failed");
}

TEST_CASE("events: the backlog, then every new event while following") {
  Sandbox box;
  Otpd otpd = start_tree(box);
  Client c(socket_in(box));
  const json recent = c.call(otpd, {{"id", 1}, {"cmd", "events"}, {"backlog", 2}});
  REQUIRE(recent["result"]["events"].size() == 2);
  CHECK(recent["result"]["events"][1]["event"] == "started");
  CHECK(recent["result"]["events"][1]["path"] == "/");

  Client follower(socket_in(box));
  const json head =
      follower.call(otpd, {{"id", "f"}, {"cmd", "events"}, {"follow", true}, {"backlog", 1}});
  CHECK(head == json::parse(R"({"id":"f","result":{"stream":"events"}})"));
  const auto backlog = follower.reply(otpd);
  REQUIRE(backlog);
  CHECK((*backlog)["event"]["path"] == "/");

  c.call(otpd, {{"id", 2}, {"cmd", "stop"}, {"path", "web"}});
  const auto stopping = follower.reply(otpd);
  const auto stopped = follower.reply(otpd);
  REQUIRE(stopping);
  REQUIRE(stopped);
  CHECK((*stopping)["id"] == "f");
  CHECK((*stopping)["event"]["event"] == "stopping");
  CHECK((*stopped)["event"]["event"] == "stopped");
  CHECK((*stopped)["event"]["path"] == "web");
  CHECK((*stopped)["event"]["time"].is_string());
  // Requests on a following connection are still answered.
  CHECK(follower.call(otpd, {{"id", 9}, {"cmd", "ping"}})["result"] == "pong");
}

TEST_CASE("shutdown stops the tree in reverse order and otpd exits 0") {
  Sandbox box;
  Otpd otpd = start_otpd(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
    - name: b
      command: [@CHILD@, --name, b]
    - name: c
      command: [@CHILD@, --name, c]
)");
  Client c(socket_in(box));
  CHECK(c.call(otpd, {{"id", 1}, {"cmd", "shutdown"}}) ==
        json::parse(R"({"id":1,"result":{"stopping":true}})"));
  CHECK(otpd.wait_exit() == 0);
  CHECK(otpd.events({"stopped"}) ==
        std::vector<std::string>{"stopped c", "stopped b", "stopped a", "stopped /"});
  struct stat st {};
  CHECK(stat(socket_in(box).c_str(), &st) != 0);  // removed on the way out
}

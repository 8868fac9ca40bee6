// What a child says through sd_notify, as otpctl status shows it.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "live_daemon.hpp"

using namespace otpd::ctl_test;

namespace {

std::string notify_tree() {
  return std::string(R"(
tree:
  children:
    - name: db
      command: [)") +
         OTPD_TEST_NOTIFY_CHILD +
         R"(, --name, db, --ready-after, 100, --status, "accepting connections"]
      ready: notify
      start_timeout: 5s
)";
}

}  // namespace

TEST_CASE("otpctl status shows a child's STATUS= and MAINPID") {
  LiveDaemon live(notify_tree());
  const Outcome text = live.ctl({"status", "db"});
  REQUIRE_MESSAGE(text.code == 0, text.shown());
  CHECK_MESSAGE(text.out.find("\"accepting connections\"") != std::string::npos, text.out);
  CHECK(text.out.find("running") != std::string::npos);

  const Outcome json = live.ctl({"status", "--json", "db"});
  REQUIRE_MESSAGE(json.code == 0, json.shown());
  const auto node = nlohmann::json::parse(json.out);
  CHECK(node["ready"] == "notify");
  CHECK(node["status_text"] == "accepting connections");
  CHECK(node["main_pid"] == live.box.pid("db"));
}

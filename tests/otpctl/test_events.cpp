// otpctl events, once and --follow, against a real otpd.
#include <doctest/doctest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "live_daemon.hpp"

using namespace otpd::ctl_test;

namespace {

// Whether one of the JSON lines printed so far is `event` of `path`.
bool printed(const Outcome& outcome, std::string_view path, std::string_view event) {
  for (const std::string& line : outcome.out_lines()) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("path", "") == path && j.value("event", "") == event) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("otpctl events --json shows the events so far, one object per line") {
  LiveDaemon live(three_children("one_for_one"));
  const Outcome r = live.ctl({"events", "--json"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  bool saw_started_b = false;
  for (const std::string& line : r.out_lines()) {
    const auto event = nlohmann::json::parse(line);
    CHECK(event.contains("time"));
    CHECK(event.contains("event"));
    if (event.value("path", "") == "b" && event.value("event", "") == "started") {
      saw_started_b = true;
      CHECK(event["pid"] == live.box.pid("b"));
    }
  }
  CHECK(saw_started_b);

  const Outcome two = live.ctl({"events", "-n", "2", "--json"});
  REQUIRE_MESSAGE(two.code == 0, two.shown());
  CHECK(two.out_lines().size() == 2);
}

TEST_CASE("otpctl events prints otpd's log lines") {
  LiveDaemon live(three_children("one_for_one"));
  const Outcome r = live.ctl({"events"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  const std::string pid = std::to_string(live.box.pid("a"));
  CHECK(r.out.find("started            a pid=" + pid + "\n") != std::string::npos);
}

TEST_CASE("otpctl events --follow streams new events and ends with otpd") {
  LiveDaemon live(three_children("one_for_one"));
  Otpctl follower({"events", "--follow", "--json", "-n", "1"}, {live.socket_env()});
  // The backlog's one line shows that the subscription is in place.
  REQUIRE_MESSAGE(follower.wait_output("\n", Ms(10'000)), follower.outcome().shown());

  kill(live.box.pid("c"), SIGKILL);
  REQUIRE(live.otpd.wait_recorded(live.box, "start", "c", 2));
  const auto restarted = [](const Outcome& o) {
    return printed(o, "c", "exited") && printed(o, "c", "restarting") && printed(o, "c", "started");
  };
  CHECK_MESSAGE(follower.wait_until(restarted, Ms(10'000)), follower.outcome().shown());
  CHECK_FALSE(follower.outcome().code);  // still following

  live.otpd.signal(SIGTERM);
  CHECK(live.otpd.wait_exit() == 0);
  CHECK_MESSAGE(follower.wait_exit(Ms(10'000)) == 0, follower.outcome().shown());
}

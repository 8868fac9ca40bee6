// The cron worker in a real otpd, running real commands: repeated runs,
// the three overlap policies, timeouts, no run left behind when the worker
// ends, and `otpctl call` status and run.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "live_daemon.hpp"

using namespace otpd::ctl_test;
using Json = nlohmann::json;

namespace {

// A tree with one cron worker `job` whose settings are `settings` (YAML
// lines indented under `worker:`).
std::string job_tree(const std::string& settings) {
  return "tree:\n  children:\n    - name: job\n      worker:\n        kind: cron\n" + settings;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Waits until the file has at least `count` lines; its lines.
std::vector<std::string> wait_lines(const std::string& path, std::size_t count,
                                    Ms timeout = Ms(10'000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (lines_of(path).size() < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(Ms(20));
  }
  return lines_of(path);
}

Json call(const LiveDaemon& live, const std::string& message) {
  const Outcome r = live.ctl({"call", "job", message});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  return Json::parse(r.out);
}

// A command that records its pid, then sleeps as that same process.
std::string sleeper(const std::string& seconds) {
  return "        command: \"echo $$ >> @DIR@/pids; exec sleep " + seconds + "\"\n";
}

pid_t recorded_pid(const LiveDaemon& live, std::size_t nth) {
  const auto pids = wait_lines(live.box.path("pids"), nth + 1);
  REQUIRE(pids.size() > nth);
  return std::stoi(pids[nth]);
}

}  // namespace

TEST_CASE("every: 300ms runs the command again and again, each run reported") {
  LiveDaemon live(job_tree("        every: 300ms\n        command: \"echo ran >> @DIR@/runs\"\n"));
  const auto runs = wait_lines(live.box.path("runs"), 3);
  CHECK(runs.size() >= 3);
  REQUIRE(live.otpd.wait_event("job", "run_succeeded", 3));
  const auto* started = live.otpd.event("job", "run_started");
  REQUIRE(started != nullptr);
  CHECK(started->num("pid") > 0);
  CHECK(started->str("reason") == "scheduled");
  const auto* succeeded = live.otpd.event("job", "run_succeeded");
  CHECK(succeeded->num("exit_status") == 0);
  CHECK(succeeded->has("duration_ms"));
  CHECK(succeeded->num("pid") == started->num("pid"));
  CHECK(succeeded->str("reason").rfind("exited with status 0 after ", 0) == 0);
  CHECK(live.otpd.count("job", "run_failed") == 0);
}

TEST_CASE("a failing run is reported with its status") {
  LiveDaemon live(
      job_tree("        every: 10s\n        run_at_start: true\n        command: \"exit 3\"\n"));
  REQUIRE_MESSAGE(live.otpd.wait_event("job", "run_failed"), live.otpd.transcript());
  const auto* failed = live.otpd.event("job", "run_failed");
  CHECK(failed->num("exit_status") == 3);
  CHECK(failed->str("reason").rfind("exited with status 3 after ", 0) == 0);
  CHECK(live.otpd.event("job", "run_started")->str("reason") == "run_at_start");
}

TEST_CASE("overlap skip: runs that come due during a run are skipped, and reported") {
  LiveDaemon live(job_tree("        every: 200ms\n        overlap: skip\n" + sleeper("1")));
  REQUIRE_MESSAGE(live.otpd.wait_event("job", "run_skipped", 2), live.otpd.transcript());
  CHECK(live.otpd.event("job", "run_skipped")->str("reason") ==
        "scheduled: the previous run (pid " + std::to_string(recorded_pid(live, 0)) +
            ") is still running");
  // Only the first run has started so far.
  CHECK(live.otpd.count("job", "run_started") == 1);
  CHECK(lines_of(live.box.path("pids")).size() == 1);
  REQUIRE(live.otpd.wait_event("job", "run_succeeded"));
  REQUIRE(live.otpd.wait_event("job", "run_started", 2));
}

TEST_CASE("overlap queue: one run waits for the current one and starts when it ends") {
  LiveDaemon live(job_tree("        every: 200ms\n        overlap: queue\n" + sleeper("0.7")));
  REQUIRE_MESSAGE(live.otpd.wait_event("job", "run_queued"), live.otpd.transcript());
  // A third tick during the first run finds the queue taken.
  REQUIRE(live.otpd.wait_event("job", "run_skipped"));
  CHECK(live.otpd.event("job", "run_skipped")->str("reason").find("another run is queued") !=
        std::string::npos);
  REQUIRE(live.otpd.wait_event("job", "run_started", 2));
  // The queued run started after the first one ended, not beside it.
  const auto events = live.otpd.events({"run_started", "run_succeeded"});
  REQUIRE(events.size() >= 3);
  CHECK(events[0] == "run_started job");
  CHECK(events[1] == "run_succeeded job");
  CHECK(events[2] == "run_started job");
  CHECK(live.otpd.event("job", "run_started", 1)->str("reason") ==
        "scheduled, queued behind the previous run");
}

TEST_CASE("overlap kill: the running command is killed and reaped, then the new one starts") {
  LiveDaemon live(job_tree("        every: 400ms\n        overlap: kill\n" + sleeper("30")));
  const pid_t first = recorded_pid(live, 0);
  REQUIRE_MESSAGE(live.otpd.wait_event("job", "run_failed"), live.otpd.transcript());
  const auto* failed = live.otpd.event("job", "run_failed");
  CHECK(failed->num("pid") == first);
  CHECK(failed->str("signal") == "SIGKILL");
  CHECK(failed->str("reason").rfind("killed for overlap: a new run was due after ", 0) == 0);
  const pid_t second = recorded_pid(live, 1);
  CHECK(second != first);
  CHECK(otpd::it::reaped(first));
  REQUIRE(live.otpd.wait_event("job", "run_started", 2));
  // Never two at once: the new run started once the old one had been reaped.
  const auto events = live.otpd.events({"run_started", "run_failed"});
  CHECK(events[0] == "run_started job");
  CHECK(events[1] == "run_failed job");
  CHECK(events[2] == "run_started job");
  CHECK(live.otpd.event("job", "run_started", 1)->str("reason") ==
        "scheduled, after killing the previous run");
}

TEST_CASE("a run past its timeout is killed") {
  LiveDaemon live(job_tree(
      "        every: 1h\n        run_at_start: true\n        timeout: 300ms\n" + sleeper("30")));
  const pid_t pid = recorded_pid(live, 0);
  REQUIRE_MESSAGE(live.otpd.wait_event("job", "run_failed"), live.otpd.transcript());
  const auto* failed = live.otpd.event("job", "run_failed");
  CHECK(failed->str("reason") == "timed out: still running after 300ms, killed");
  CHECK(failed->str("signal") == "SIGKILL");
  CHECK(failed->num("duration_ms") >= 300);
  CHECK(otpd::it::reaped(pid));
}

TEST_CASE("otpctl stop kills the running command with the worker") {
  LiveDaemon live(job_tree("        every: 1h\n        run_at_start: true\n" + sleeper("30")));
  const pid_t pid = recorded_pid(live, 0);
  REQUIRE(live.otpd.wait_event("job", "run_started"));
  const Outcome stop = live.ctl({"stop", "job"});
  REQUIRE_MESSAGE(stop.code == 0, stop.shown());
  REQUIRE(live.otpd.wait_event("job", "stopped"));
  // Reported once the run has been killed and reaped.
  REQUIRE_MESSAGE(live.otpd.wait_event("job", "run_failed"), live.otpd.transcript());
  const auto* failed = live.otpd.event("job", "run_failed");
  CHECK(failed->str("reason") == "killed: the cron worker is stopping");
  CHECK(failed->str("signal") == "SIGKILL");
  CHECK(failed->num("pid") == pid);
  CHECK(otpd::it::reaped(pid));
}

TEST_CASE("a reload that removes the worker kills its running command") {
  LiveDaemon live(R"(
tree:
  children:
    - name: keep
      worker: {kind: agent}
    - name: job
      worker:
        kind: cron
        every: 1h
        run_at_start: true
        command: "echo $$ >> @DIR@/pids; exec sleep 30"
)");
  const pid_t pid = recorded_pid(live, 0);
  live.box.write("otpd.yaml",
                 "tree:\n  children:\n    - name: keep\n      worker: {kind: agent}\n");
  const Outcome reload = live.ctl({"reload"});
  REQUIRE_MESSAGE(reload.code == 0, reload.shown());
  REQUIRE(live.otpd.wait_event("job", "stopped"));
  CHECK(otpd::it::reaped(pid));
}

TEST_CASE("otpd's shutdown kills and reaps a running command") {
  LiveDaemon live(job_tree("        every: 1h\n        run_at_start: true\n" + sleeper("30")));
  const pid_t pid = recorded_pid(live, 0);
  live.otpd.signal(SIGTERM);
  REQUIRE(live.otpd.wait_exit() == 0);
  CHECK(otpd::it::reaped(pid, Ms(0)));
}

TEST_CASE("otpctl call: status before and after a run asked for with run") {
  LiveDaemon live(
      job_tree("        schedule: \"0 3 * * *\"\n        overlap: skip\n"
               "        command: \"echo $$ >> @DIR@/pids; until [ -e @DIR@/go ]; do sleep 0.02; "
               "done\"\n"));
  Json status = call(live, "status");
  CHECK(status["schedule"] == "0 3 * * *");
  CHECK(status["overlap"] == "skip");
  CHECK(status["timeout"] == "1h");
  CHECK(status["next_run"].is_string());
  CHECK(status["next_run"].get<std::string>().find("T03:00:00") != std::string::npos);
  CHECK(status["next_run_in_ms"].get<long long>() <= 24LL * 3600 * 1000);
  CHECK(status["running"].is_null());
  CHECK(status["last_run"].is_null());
  CHECK(status["runs"] == 0);

  CHECK(call(live, "run") == Json::parse(R"({"result": "started"})"));
  REQUIRE(live.otpd.wait_event("job", "run_started"));
  const auto started = std::chrono::steady_clock::now();
  CHECK(live.otpd.event("job", "run_started")->str("reason") == "requested with otpctl call");
  status = call(live, "status");
  CHECK(status["running"]["pid"] == recorded_pid(live, 0));
  CHECK(status["running"]["trigger"] == "request");
  // The overlap policy applies to asked-for runs too.
  const Json second = call(live, "run");
  CHECK(second["result"] == "skipped");
  CHECK(live.otpd.wait_event("job", "run_skipped"));

  // The run waits for this file, so it cannot end before the test has seen the skip.
  std::ofstream(live.box.path("go")).put('\n');
  const auto held_ms =
      std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - started).count();
  REQUIRE(live.otpd.wait_event("job", "run_succeeded"));
  status = call(live, "status");
  CHECK(status["running"].is_null());
  CHECK(status["runs"] == 1);
  CHECK(status["skipped"] == 1);
  CHECK(status["last_run"]["outcome"] == "succeeded");
  CHECK(status["last_run"]["exit_status"] == 0);
  CHECK(status["last_run"]["pid"] == recorded_pid(live, 0));
  CHECK(status["last_run"]["duration_ms"].get<long long>() >= held_ms);

  const Outcome bad = live.ctl({"call", "job", "launch"});
  CHECK(bad.code != 0);
  CHECK_MESSAGE(bad.err.find(R"(expected "status" or "run")") != std::string::npos, bad.shown());
}

TEST_CASE("otpctl status shows a cron worker by its kind") {
  LiveDaemon live(job_tree("        every: 1h\n        command: [true]\n"));
  const Outcome r = live.ctl({"status", "job", "--json"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  CHECK(Json::parse(r.out)["worker_kind"] == "cron");
}

TEST_CASE("a command that cannot be started is a failed run; the job goes on") {
  LiveDaemon live(job_tree("        every: 300ms\n        command: [@DIR@/no-such-program]\n"));
  REQUIRE_MESSAGE(live.otpd.wait_event("job", "run_failed", 2), live.otpd.transcript());
  const auto* failed = live.otpd.event("job", "run_failed");
  CHECK(failed->str("reason").rfind("cannot run: ", 0) == 0);
  CHECK(failed->str("reason").find("no-such-program") != std::string::npos);
  CHECK(live.otpd.count("job", "exited") == 0);
  CHECK(call(live, "status")["last_run"]["outcome"] == "failed");
}

TEST_CASE("otpctl cast JOB run starts a run without a reply") {
  LiveDaemon live(
      job_tree("        schedule: '@yearly'\n        command: \"echo ran >> @DIR@/runs\"\n"));
  const Outcome r = live.ctl({"cast", "job", "run"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  CHECK(wait_lines(live.box.path("runs"), 1).size() == 1);
  REQUIRE(live.otpd.wait_event("job", "run_succeeded"));
}

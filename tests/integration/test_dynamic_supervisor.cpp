// A dynamic supervisor against a real otpd, driven with otpctl start-child
// and terminate-child as an operator would.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "otpctl_process.hpp"

using namespace otpd::it;
using otpd::ctl_test::Otpctl;
using otpd::ctl_test::Outcome;
using otpd::ctl_test::run_otpctl;
using Json = nlohmann::json;

namespace {

std::string tree_with_jobs(std::string_view jobs_settings = "max_children: 2") {
  return "tree:\n"
         "  children:\n"
         "    - name: db\n"
         "      command: [@CHILD@, --name, db, --term-delay, 0]\n"
         "    - name: jobs\n"
         "      worker: {kind: dynamic_supervisor, " +
         std::string(jobs_settings) + "}\n";
}

// A test child's spec in JSON, as a script would write it.
std::string job_json(std::string_view name, std::string_view restart = "permanent") {
  return Json({{"name", name},
               {"command", {OTPD_TEST_CHILD_PATH, "--name", name, "--term-delay", "0"}},
               {"restart", restart}})
      .dump();
}

struct Running {
  Sandbox box;
  Otpd otpd;
  explicit Running(const std::string& yaml) : otpd(Otpd::run(box, yaml)) {
    REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  }
  Outcome ctl(std::vector<std::string> args) const {
    return run_otpctl(std::move(args), {"OTPD_SOCKET=" + box.path("otpd.sock")});
  }
  Json status(const std::string& path) const {
    const Outcome out = ctl({"status", path, "--json"});
    REQUIRE_MESSAGE(out.code == 0, out.shown());
    return Json::parse(out.out);
  }
  // The names of the children of `path`, "a b", for readable failures.
  std::string children_of(const std::string& path) const {
    std::string names;
    const Json node = status(path);
    for (const auto& child : node["children"]) {
      names += (names.empty() ? "" : " ") + child["name"].get<std::string>();
    }
    return names;
  }
};

}  // namespace

TEST_CASE("start-child adds a process that runs, is restarted when killed, and is terminated") {
  Running r(tree_with_jobs());
  const Outcome added = r.ctl({"start-child", "jobs", job_json("job1")});
  REQUIRE_MESSAGE(added.code == 0, added.shown() << r.otpd.transcript());
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "job1"));
  const pid_t first = r.box.pid("job1");
  CHECK(added.out == "jobs/job1: running (pid " + std::to_string(first) + ")\n");
  CHECK(r.otpd.wait_event("jobs/job1", "started"));

  const Json jobs = r.status("jobs");
  CHECK(jobs["dynamic"] == true);
  CHECK(jobs["max_children"] == 2);
  REQUIRE(jobs["children"].size() == 1);
  CHECK(jobs["children"][0]["path"] == "jobs/job1");
  CHECK(jobs["children"][0]["pid"] == first);

  kill(first, SIGKILL);
  REQUIRE_MESSAGE(r.otpd.wait_recorded(r.box, "start", "job1", 2), r.otpd.transcript());
  CHECK(r.box.pid("job1", 1) != first);
  CHECK(r.status("jobs/job1")["restarts"] == 1);

  const Outcome terminated = r.ctl({"terminate-child", "jobs", "job1"});
  CHECK_MESSAGE(terminated.code == 0, terminated.shown());
  CHECK(terminated.out == "jobs/job1: terminated\n");
  CHECK(!running(r.box.pid("job1", 1)));
  CHECK(r.children_of("jobs").empty());
  CHECK(r.otpd.wait_event("jobs/job1", "removed"));
  CHECK(r.otpd.event("jobs/job1", "removed")->str("reason") == "terminated by operator");

  const Outcome again = r.ctl({"terminate-child", "jobs", "job1"});
  CHECK(again.code == 1);
  CHECK(again.err == "otpctl: terminate-child jobs job1: supervisor jobs has no child 'job1'\n");
}

TEST_CASE("start-child reads YAML from a file or an argument, and --json prints the node") {
  Running r(tree_with_jobs("max_children: 5"));
  const std::string file = r.box.write(
      "job.yaml", "name: fromfile\ncommand: [@CHILD@, --name, fromfile, --term-delay, 0]\n");
  const Outcome from_file = r.ctl({"start-child", "jobs", "--file", file, "--json"});
  REQUIRE_MESSAGE(from_file.code == 0, from_file.shown());
  const Json node = Json::parse(from_file.out);
  CHECK(node["path"] == "jobs/fromfile");
  CHECK(node["state"] == "running");

  const Outcome from_argument = r.ctl(
      {"start-child", "jobs",
       "{name: inline, command: [" + std::string(OTPD_TEST_CHILD_PATH) + ", --name, inline]}"});
  CHECK_MESSAGE(from_argument.code == 0, from_argument.shown());
  CHECK(r.otpd.wait_recorded(r.box, "start", "inline"));
  CHECK(r.children_of("jobs") == "fromfile inline");
}

TEST_CASE("max_children, duplicates and a bad spec are refused with a clear error") {
  Running r(tree_with_jobs());
  REQUIRE(r.ctl({"start-child", "jobs", job_json("a")}).code == 0);
  const Outcome duplicate = r.ctl({"start-child", "jobs", job_json("a")});
  CHECK(duplicate.code == 1);
  CHECK(duplicate.err == "otpctl: start-child jobs: supervisor jobs already has a child 'a'\n");
  REQUIRE(r.ctl({"start-child", "jobs", job_json("b")}).code == 0);
  const Outcome full = r.ctl({"start-child", "jobs", job_json("c")});
  CHECK(full.code == 1);
  CHECK(full.err ==
        "otpctl: start-child jobs: supervisor jobs already has max_children (2) children\n");

  // The config file's own checks, placed in the text given.
  const std::string file = r.box.write("bad.yaml", "name: x\ncommand: [x]\nrestrat: temporary\n");
  const Outcome bad = r.ctl({"start-child", "jobs", "--file", file});
  CHECK(bad.code == 1);
  CHECK(bad.err == "otpctl: start-child jobs: " + file +
                       ":3:1: unknown key 'restrat' (did you mean 'restart'?)\n");
  const Outcome bad_json = r.ctl({"start-child", "jobs", R"({"name": "x", "command": 5})"});
  CHECK(bad_json.code == 1);
  CHECK(bad_json.err.rfind("otpctl: start-child jobs: start_child:1:", 0) == 0);

  const Outcome not_dynamic = r.ctl({"start-child", "db", job_json("x")});
  CHECK(not_dynamic.code == 1);
  CHECK(not_dynamic.err == "otpctl: start-child db: 'db' is a process, not a dynamic supervisor\n");
  const Outcome root = r.ctl({"terminate-child", "/", "db"});
  CHECK(root.code == 1);
  CHECK(root.err.find("'/' is not a dynamic supervisor") != std::string::npos);
  const Outcome missing_binary =
      r.ctl({"start-child", "jobs", "{name: nope, command: [/nonexistent/program]}"});
  CHECK(missing_binary.code == 1);
  CHECK(r.children_of("jobs") == "a b");
  const Outcome usage = r.ctl({"start-child", "jobs"});
  CHECK(usage.code == 2);
  // Nothing of it harmed otpd.
  CHECK(r.ctl({"ping"}).code == 0);
}

TEST_CASE("a reload keeps run-time children; removing the dynamic supervisor stops them") {
  Running r(tree_with_jobs("max_children: 1"));
  REQUIRE(r.ctl({"start-child", "jobs", job_json("keep")}).code == 0);
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "keep"));
  const pid_t keep = r.box.pid("keep");

  r.box.write("otpd.yaml", tree_with_jobs("max_children: 2"));
  const Outcome reload = r.ctl({"reload"});
  REQUIRE_MESSAGE(reload.code == 0, reload.shown());
  CHECK(reload.out == "~ jobs (max_children) in place\n0 added, 0 removed, 1 changed\n");
  CHECK(running(keep));
  CHECK(r.status("jobs")["max_children"] == 2);
  CHECK(r.ctl({"start-child", "jobs", job_json("second")}).code == 0);
  CHECK(r.children_of("jobs") == "keep second");

  r.box.write("otpd.yaml",
              "tree:\n  children:\n    - name: db\n"
              "      command: [@CHILD@, --name, db, --term-delay, 0]\n");
  REQUIRE(r.ctl({"reload"}).code == 0);
  CHECK(!running(keep));
  CHECK(r.otpd.wait_recorded(r.box, "term", "second"));
  const Outcome status = r.ctl({"status", "jobs"});
  CHECK(status.code == 4);  // not in the tree: unknown
}

TEST_CASE("a restart of the dynamic supervisor drops its run-time children") {
  Running r(tree_with_jobs());
  REQUIRE(r.ctl({"start-child", "jobs", job_json("job1")}).code == 0);
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "job1"));
  const pid_t job = r.box.pid("job1");
  const Outcome restart = r.ctl({"restart", "jobs"});
  CHECK_MESSAGE(restart.code == 0, restart.shown());
  CHECK(!running(job));
  CHECK(r.children_of("jobs").empty());
  CHECK(r.status("jobs")["state"] == "running");
}

namespace {

// otpd's descriptors open on the log files of the jobs' children.
int job_log_files(const Running& r) {
  int open = 0;
  for (int fd = 0; fd < 1024; ++fd) {
    if (fd_target(r.otpd.pid(), fd).find("/logs/jobs.") != std::string::npos) ++open;
  }
  return open;
}

bool job_log_files_become(const Running& r, int expected) {
  for (int i = 0; i < 500; ++i) {
    if (job_log_files(r) == expected) return true;
    usleep(10'000);
  }
  return job_log_files(r) == expected;
}

}  // namespace

TEST_CASE("a child that leaves the tree leaves no buffer or log file open behind") {
  Running r(tree_with_jobs("max_children: 3") + "logs:\n  output: file\n  dir: @DIR@/logs\n");
  for (int round = 0; round < 4; ++round) {
    const std::string name = "job" + std::to_string(round);
    REQUIRE(r.ctl({"start-child", "jobs", job_json(name)}).code == 0);
    REQUIRE(r.otpd.wait_event("jobs/" + name, "started"));
    CHECK(job_log_files(r) == 1);
    REQUIRE(r.ctl({"terminate-child", "jobs", name}).code == 0);
    REQUIRE(r.otpd.wait_event("jobs/" + name, "removed"));
    CHECK(job_log_files_become(r, 0));
    CHECK(r.ctl({"logs", "jobs/" + name}).code == 1);
  }
  // A removed supervisor takes its children's with it.
  REQUIRE(r.ctl({"start-child", "jobs", job_json("a")}).code == 0);
  REQUIRE(r.ctl({"start-child", "jobs", job_json("b")}).code == 0);
  CHECK(job_log_files_become(r, 2));
  r.box.write("otpd.yaml",
              "tree:\n  children:\n    - name: db\n"
              "      command: [@CHILD@, --name, db, --term-delay, 0]\n"
              "logs:\n  output: file\n  dir: @DIR@/logs\n");
  REQUIRE(r.ctl({"reload"}).code == 0);
  CHECK(job_log_files_become(r, 0));
  CHECK(r.otpd.wait_event("jobs", "removed"));
}

TEST_CASE("a dynamic supervisor asks all its children to stop at once, as OTP does") {
  Running r(tree_with_jobs("max_children: 3"));
  for (const std::string name : {"job1", "job2", "job3"}) {
    // Each takes 300 ms to end after SIGTERM: one after another would show
    // a stopped job before the next is asked.
    const std::string spec =
        Json({{"name", name},
              {"command", {OTPD_TEST_CHILD_PATH, "--name", name, "--term-delay", "300"}}})
            .dump();
    const Outcome added = r.ctl({"start-child", "jobs", spec});
    REQUIRE_MESSAGE(added.code == 0, added.shown() << r.otpd.transcript());
    REQUIRE(r.otpd.wait_recorded(r.box, "start", name));
  }
  r.otpd.signal(SIGTERM);
  REQUIRE(r.otpd.wait_exit() == 0);
  std::vector<std::string> jobs;
  for (const std::string& event : r.otpd.events({"stopping", "stopped"})) {
    if (event.find(" jobs/") != std::string::npos) jobs.push_back(event.substr(0, event.find(' ')));
  }
  CHECK(jobs == std::vector<std::string>{"stopping", "stopping", "stopping", "stopped", "stopped",
                                         "stopped"});
  for (const std::string name : {"job1", "job2", "job3"}) {
    CHECK(r.box.count_recorded("term", name) == 1);
  }
}

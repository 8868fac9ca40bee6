// Live reload against a real otpd: SIGHUP, otpctl reload, otpd check --diff.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "harness.hpp"
#include "otpctl_process.hpp"

using namespace otpd::it;
using otpd::ctl_test::Outcome;
using otpd::ctl_test::run_otpctl;
using Strings = std::vector<std::string>;

namespace {

std::string child(std::string_view name, std::string_view extra = "") {
  return "    - name: " + std::string(name) + "\n      command: [@CHILD@, --name, " +
         std::string(name) + ", --term-delay, 0]\n" + std::string(extra);
}

std::string tree(std::initializer_list<std::string> children, std::string_view strategy = "") {
  std::string yaml = "tree:\n";
  if (!strategy.empty()) yaml += "  strategy: " + std::string(strategy) + "\n";
  yaml += "  children:\n";
  for (const auto& c : children) yaml += c;
  return yaml;
}

const std::string kBefore =
    tree({child("a"), child("b"), child("old"), child("c")}, "rest_for_one");
const std::string kAfter = tree(
    {child("new1"), child("a"), child("b", "      env: {V: \"2\"}\n"), child("c"), child("new2")},
    "rest_for_one");

// Runs `otpd ARGS` to its end (bounded) beside the otpd under test: an Otpd
// would end every descendant of the test, that one included.
Result run_beside(std::vector<std::string> args, std::vector<std::string> env) {
  args.insert(args.begin(), OTPD_PATH);
  const Piped p = start_piped(std::move(args), environment_with(env));
  Result result;
  const auto deadline = std::chrono::steady_clock::now() + default_timeout;
  int fds[2] = {p.out_fd, p.err_fd};
  std::string* into[2] = {&result.out, &result.err};
  while ((fds[0] >= 0 || fds[1] >= 0) && std::chrono::steady_clock::now() < deadline) {
    pollfd polled[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
    poll(polled, 2, 100);
    for (int i = 0; i < 2; ++i) {
      if (fds[i] < 0) continue;
      char buffer[4096];
      const ssize_t n = read(fds[i], buffer, sizeof buffer);
      if (n > 0) into[i]->append(buffer, static_cast<std::size_t>(n));
      if (n == 0) {
        close(fds[i]);
        fds[i] = -1;
      }
    }
  }
  for (int fd : fds) {
    if (fd >= 0) close(fd);
  }
  if (fds[0] >= 0 || fds[1] >= 0) kill(p.pid, SIGKILL);
  int status = 0;
  if (waitpid(p.pid, &status, 0) == p.pid && WIFEXITED(status)) result.code = WEXITSTATUS(status);
  return result;
}

struct Running {
  Sandbox box;
  Otpd otpd;
  explicit Running(const std::string& yaml) : otpd(Otpd::run(box, yaml)) {
    REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  }
  std::string config() const { return box.path("otpd.yaml"); }
  Outcome ctl(std::vector<std::string> args) const {
    return run_otpctl(std::move(args), {"OTPD_SOCKET=" + box.path("otpd.sock")});
  }
  // otpd check ARGS against this otpd; stdout and stderr.
  Result check(std::vector<std::string> args) const {
    return run_beside(std::move(args), {"OTPD_SOCKET=" + box.path("otpd.sock")});
  }
};

bool points_at(const std::string& text, const std::string& file, int line) {
  return text.find(file + ":" + std::to_string(line) + ":") != std::string::npos;
}

}  // namespace

TEST_CASE("otpctl reload keeps unchanged pids, stops removed, restarts changed, starts added") {
  Running r(kBefore);
  for (const char* name : {"a", "b", "old", "c"})
    REQUIRE(r.otpd.wait_recorded(r.box, "start", name));
  const pid_t a = r.box.pid("a");
  const pid_t c = r.box.pid("c");
  const std::size_t before = r.otpd.lines().size();
  r.box.write("otpd.yaml", kAfter);

  const Outcome reload = r.ctl({"reload"});
  REQUIRE_MESSAGE(reload.code == 0, reload.shown() << r.otpd.transcript());
  CHECK(reload.out == "- old\n+ new1\n+ new2\n~ b (env)\n2 added, 1 removed, 1 changed\n");

  REQUIRE(r.otpd.wait_event("/", "reloaded"));
  // In order: the removed one stops first, then the new order is walked;
  // rest_for_one does not drag c down with b.
  Strings seen;
  const auto& lines = r.otpd.lines();
  for (std::size_t i = before; i < lines.size(); ++i) {
    const std::string event = lines[i].str("event");
    if (event == "stopping" || event == "starting")
      seen.push_back(event + " " + lines[i].str("path"));
  }
  CHECK(seen ==
        Strings{"stopping old", "starting new1", "stopping b", "starting b", "starting new2"});
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "new2"));
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "b", 2));
  CHECK(r.box.pid("a") == a);
  CHECK(r.box.pid("c") == c);
  CHECK(running(a));
  CHECK(running(c));
  CHECK(!running(r.box.pid("old")));

  const Line* event = r.otpd.event("/", "reloaded");
  CHECK(event->json["added"] == nlohmann::json({"new1", "new2"}));
  CHECK(event->json["removed"] == nlohmann::json({"old"}));
  CHECK(event->json["changed"] == nlohmann::json({"b"}));

  // And through otpctl events, as a line and as JSON.
  const Outcome events = r.ctl({"events", "-n", "1"});
  CHECK(events.out.find("reloaded") != std::string::npos);
  CHECK(events.out.find("2 added, 1 removed, 1 changed") != std::string::npos);

  // Status shows the new order.
  const Outcome status = r.ctl({"status", "--json"});
  const auto node = nlohmann::json::parse(status.out);
  Strings order;
  for (const auto& c : node["children"]) order.push_back(c["name"]);
  CHECK(order == Strings{"new1", "a", "b", "c", "new2"});
}

TEST_CASE("SIGHUP reloads the config file") {
  Running r(tree({child("a")}));
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "a"));
  const pid_t a = r.box.pid("a");
  r.box.write("otpd.yaml", tree({child("a"), child("b")}));
  r.otpd.signal(SIGHUP);
  REQUIRE_MESSAGE(r.otpd.wait_event("/", "reloaded"), r.otpd.transcript());
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "b"));
  CHECK(r.box.pid("a") == a);
  CHECK(r.otpd.event("/", "reloaded")->json["added"] == nlohmann::json({"b"}));
  CHECK(r.otpd.logged("reloading " + r.config() + " (SIGHUP): 1 added, 0 removed, 0 changed"));
}

TEST_CASE("a reload of an invalid file changes nothing and the caller gets FILE:LINE:COL") {
  Running r(tree({child("a"), child("b")}));
  // Both: a child that was started first may still write its line last.
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "a"));
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "b"));
  const Strings records = r.box.records();
  struct Broken {
    const char* what;
    std::string yaml;
    int line;
  };
  const Broken cases[] = {
      {"YAML syntax", "tree:\n  children: [\n    - name: a\n", 3},
      {"validation", "tree:\n  children:\n    - name: a\n      comand: [x]\n", 4},
  };
  for (const Broken& broken : cases) {
    CAPTURE(broken.what);
    r.box.write("otpd.yaml", broken.yaml);
    const Outcome reload = r.ctl({"reload"});
    CHECK(reload.code == 1);
    CHECK(reload.out.empty());
    CHECK_MESSAGE(points_at(reload.err, r.config(), broken.line), reload.shown());
    CHECK(r.otpd.wait_message(
        "reload (requested on the control socket) failed, nothing changed: " + r.config() + ":"));
    // The same through SIGHUP: logged, nothing done.
    r.otpd.signal(SIGHUP);
    CHECK(r.otpd.wait_message("reload (SIGHUP) failed, nothing changed: " + r.config() + ":"));
  }
  CHECK(r.otpd.count("/", "reloaded") == 0);
  CHECK(r.box.records() == records);
  const Outcome status = r.ctl({"status", "--json"});
  CHECK(nlohmann::json::parse(status.out)["children"].size() == 2);
}

TEST_CASE("a reload of a file with several errors reports each, a line each") {
  Running r(tree({child("a")}));
  r.box.write("otpd.yaml",
              "tree:\n  strategy: one_for_none\n  children:\n    - name: a\n      comand: [x]\n");
  const Outcome reload = r.ctl({"reload"});
  CHECK(reload.code == 1);
  CHECK_MESSAGE(reload.err == "otpctl: " + r.config() +
                                  ":2:13: strategy: expected one of one_for_one, one_for_all, "
                                  "rest_for_one, found 'one_for_none' (did you mean "
                                  "'one_for_one'?)\notpctl: " +
                                  r.config() +
                                  ":5:7: unknown key 'comand' (did you mean 'command'?)\n",
                reload.shown());
  CHECK(r.otpd.wait_message("reload (requested on the control socket) failed, nothing changed: " +
                            r.config() + ":2:13: strategy:"));
  CHECK(r.otpd.logged(r.config() + ":5:7: unknown key 'comand'"));
  CHECK(r.otpd.count("/", "reloaded") == 0);
}

TEST_CASE("otpctl reload --dry-run and otpd check --diff show the plan and change nothing") {
  Running r(kBefore);
  for (const char* name : {"a", "b", "old", "c"})
    REQUIRE(r.otpd.wait_recorded(r.box, "start", name));
  const std::string next = r.box.write("next.yaml", kAfter);
  const Result diff = r.check({"check", "--diff", next});
  REQUIRE_MESSAGE(diff.code == 0, diff.err);
  CHECK(diff.out ==
        "- old\n+ new1\n+ new2\n~ b (env)\n2 added, 1 removed, 1 changed (dry run: nothing was "
        "done)\n");

  const Result json = r.check({"check", "--diff", next, "--json"});
  REQUIRE_MESSAGE(json.code == 0, json.err);
  const auto plan = nlohmann::json::parse(json.out);
  CHECK(plan["dry_run"] == true);
  CHECK(plan["file"] == next);
  CHECK(plan["added"] == nlohmann::json({"new1", "new2"}));
  CHECK(plan["removed"] == nlohmann::json({"old"}));
  CHECK(plan["changed"][0]["path"] == "b");
  CHECK(plan["changed"][0]["what"] == nlohmann::json({"env"}));
  CHECK(plan["unchanged"] == 3);  // the root, a and c

  // --socket as otpctl takes it.
  const Result by_flag = run_beside({"check", "--diff", next, "--socket", r.box.path("otpd.sock")},
                                    {"OTPD_SOCKET=" + r.box.path("nowhere.sock")});
  CHECK(by_flag.code == 0);
  CHECK(by_flag.out.find("+ new1\n") != std::string::npos);

  r.box.write("otpd.yaml", kAfter);
  const Outcome dry = r.ctl({"reload", "--dry-run"});
  REQUIRE_MESSAGE(dry.code == 0, dry.shown());
  CHECK(dry.out == diff.out);

  CHECK(r.otpd.count("/", "reloaded") == 0);
  CHECK(r.box.count_recorded("start", "new1") == 0);
  CHECK(r.box.count_recorded("term", "old") == 0);
}

TEST_CASE("otpd check --diff: an invalid file is reported locally, a missing otpd exits 3") {
  Running r(tree({child("a")}));
  const std::string broken = r.box.write("broken.yaml", "tree:\n  strategy: one_for_none\n");
  const Result invalid = r.check({"check", "--diff", broken});
  CHECK(invalid.code == 1);
  CHECK_MESSAGE(points_at(invalid.err, broken, 2), invalid.err);

  const std::string fine = r.box.write("fine.yaml", tree({child("a")}));
  const Result nowhere =
      run_beside({"check", "--diff", fine}, {"OTPD_SOCKET=" + r.box.path("no.sock")});
  CHECK(nowhere.code == 3);
  CHECK(nowhere.err.find("no.sock") != std::string::npos);
  const Result same = r.check({"check", "--diff", fine});
  CHECK(same.code == 0);
  CHECK(same.out == "no changes: a reload would do nothing\n");

  // The file is not sent where someone else could have put a socket.
  const std::string open = r.box.path("open");
  REQUIRE(mkdir(open.c_str(), 0700) == 0);
  REQUIRE(chmod(open.c_str(), 0777) == 0);
  const Result unsafe = run_beside({"check", "--diff", fine, "--socket", open + "/otpd.sock"}, {});
  CHECK(unsafe.code == 3);
  CHECK_MESSAGE(unsafe.err.find("refusing to use the socket " + open +
                                "/otpd.sock: its directory " + open) != std::string::npos,
                unsafe.err);
}

TEST_CASE("otpd check --diff of a copy in another directory shows only what differs") {
  Running r(tree({child("a"), child("b")}));
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "b"));
  // Relative paths (here the default cwd) start where otpd's own file is,
  // as if the copy were installed there.
  Sandbox elsewhere;
  const std::string same = elsewhere.write("copy.yaml", tree({child("a"), child("b")}));
  const Result unchanged = r.check({"check", "--diff", same});
  CHECK_MESSAGE(unchanged.code == 0, unchanged.err);
  CHECK(unchanged.out == "no changes: a reload would do nothing\n");

  const std::string edited =
      elsewhere.write("edited.yaml", tree({child("a"), child("b", "      env: {V: \"2\"}\n")}));
  const Result diff = r.check({"check", "--diff", edited});
  CHECK_MESSAGE(diff.code == 0, diff.err);
  CHECK(diff.out == "~ b (env)\n0 added, 0 removed, 1 changed (dry run: nothing was done)\n");
}

TEST_CASE("an added child that cannot start is reported by otpctl reload with exit 1") {
  Running r(tree({child("a")}));
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "a"));
  r.box.write("otpd.yaml",
              tree({child("a"), "    - name: ghost\n      command: [@DIR@/no-such-program]\n"}));
  const Outcome reload = r.ctl({"reload"});
  CHECK(reload.code == 1);
  CHECK(reload.out.find("+ ghost\n") != std::string::npos);
  CHECK_MESSAGE(reload.err.find("ghost failed to start: ") != std::string::npos, reload.shown());
  CHECK(r.otpd.wait_event("ghost", "start_failed"));
}

TEST_CASE("a change of the control section is not applied, and says so") {
  Running r(tree({child("a")}));
  r.box.write("otpd.yaml",
              tree({child("a")}) + "control:\n  socket: " + r.box.path("other.sock") + "\n");
  const Outcome reload = r.ctl({"reload"});
  CHECK(reload.code == 0);
  CHECK_MESSAGE(reload.err.find("warning: the control section changed") != std::string::npos,
                reload.shown());
  CHECK(r.otpd.wait_message("the control section changed"));
  // Still on the socket it started with.
  CHECK(r.ctl({"ping"}).code == 0);
}

TEST_CASE("a file dropped into an included directory is added by a reload, a broken one is not") {
  Running r(tree({child("a"), "    - include: conf.d/*.yaml\n"}));
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "a"));
  // The directory does not exist yet: it includes nothing.
  REQUIRE(mkdir(r.box.path("conf.d").c_str(), 0755) == 0);
  const std::string pkg =
      r.box.write("conf.d/pkg.yaml",
                  "children:\n  - name: p\n    command: [@CHILD@, --name, p, --term-delay, 0]\n");
  const Result diff = r.check({"check", "--diff", r.config()});
  CHECK_MESSAGE(diff.code == 0, diff.err);
  CHECK(diff.out == "+ p\n1 added, 0 removed, 0 changed (dry run: nothing was done)\n");
  const Outcome added = r.ctl({"reload"});
  CHECK_MESSAGE(added.code == 0, added.shown());
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "p"));
  REQUIRE(r.otpd.wait_event("/", "reloaded"));

  r.box.write("conf.d/pkg.yaml",
              "children:\n  - name: p\n    command: [@CHILD@, --name, p]\n    restart: x\n"
              "  - name: q\n    command: [@CHILD@, --name, q]\n");
  const Outcome broken = r.ctl({"reload"});
  CHECK(broken.code == 1);
  CHECK_MESSAGE(broken.err.starts_with("otpctl: " + pkg +
                                       ":4:14: restart: expected one of permanent, transient, "
                                       "temporary, found 'x'"),
                broken.shown());
  const Result invalid = r.check({"check", "--diff", r.config()});
  CHECK(invalid.code == 1);
  CHECK_MESSAGE(points_at(invalid.err, pkg, 4), invalid.err);
  // Nothing changed: p still runs as it was, q was not started.
  CHECK(r.otpd.wait_message(
      "reload (requested on the control socket) failed, nothing changed: " + pkg + ":4:14:"));
  CHECK(r.otpd.count("/", "reloaded") == 1);
  CHECK(r.box.count_recorded("start", "p") == 1);
  CHECK(r.box.count_recorded("term", "p") == 0);
  CHECK(r.box.count_recorded("start", "q") == 0);
}

TEST_CASE("instances: the copies run, and a reload adds or removes copies at the end") {
  const auto web = [](int copies) {
    return tree(
        {child("a"), "    - name: web\n      instances: " + std::to_string(copies) +
                         "\n      command: [@CHILD@, --name, \"w{{i}}\", --term-delay, 0]\n"});
  };
  Running r(web(2));
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "w1"));
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "w2"));
  const Outcome status = r.ctl({"status", "--json"});
  REQUIRE(status.code == 0);
  const auto children = nlohmann::json::parse(status.out)["children"];
  REQUIRE(children.size() == 3);
  CHECK(children[1]["name"] == "web-1");
  CHECK(children[2]["name"] == "web-2");

  const std::string three = r.box.write("three.yaml", web(3));
  const Result diff = r.check({"check", "--diff", three});
  CHECK_MESSAGE(diff.code == 0, diff.err);
  CHECK(diff.out == "+ web-3\n1 added, 0 removed, 0 changed (dry run: nothing was done)\n");
  r.box.write("otpd.yaml", web(3));
  const Outcome grown = r.ctl({"reload"});
  CHECK_MESSAGE(grown.code == 0, grown.shown());
  REQUIRE(r.otpd.wait_recorded(r.box, "start", "w3"));

  r.box.write("otpd.yaml", web(1));
  const Outcome shrunk = r.ctl({"reload"});
  CHECK_MESSAGE(shrunk.code == 0, shrunk.shown());
  CHECK(shrunk.out.find("- web-2\n") != std::string::npos);
  CHECK(shrunk.out.find("- web-3\n") != std::string::npos);
  CHECK(r.otpd.wait_recorded(r.box, "term", "w3"));
  CHECK(r.otpd.wait_recorded(r.box, "term", "w2"));
  // The first copy ran through it all.
  CHECK(r.box.count_recorded("start", "w1") == 1);
  CHECK(r.box.count_recorded("term", "w1") == 0);
}

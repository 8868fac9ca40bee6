// The dynamic supervisor in YAML, and child specs read on their own as
// `otpctl start-child` sends them.
#include <doctest/doctest.h>

#include <string>

#include "config/diff.hpp"
#include "config/loader.hpp"

using namespace otpd::config;
using namespace std::chrono_literals;

namespace {

Config load(const std::string& yaml) {
  return load_string(yaml, "t.yaml", "/srv/app");
}

ChildSpec child_of(const std::string& text) {
  return load_child_string(text, "spec", "/srv/app", Output::discard);
}

// The message of the ConfigError that `read` throws.
template <typename Read>
std::string error_from(Read read) {
  try {
    read();
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(loaded without error)";
}

std::string error_of(const std::string& yaml) {
  return error_from([&] { load(yaml); });
}

std::string child_error(const std::string& text) {
  return error_from([&] { child_of(text); });
}

}  // namespace

TEST_SUITE("loader: dynamic supervisor") {
  TEST_CASE("worker kind dynamic_supervisor makes a dynamic supervisor with no children") {
    const Config config = load(
        "tree:\n"
        "  children:\n"
        "    - name: jobs\n"
        "      restart: transient\n"
        "      worker:\n"
        "        kind: dynamic_supervisor\n"
        "        max_children: 10\n"
        "        intensity: 5\n"
        "        period: 30s\n"
        "        backoff: {initial: 1s, max: 10s}\n");
    REQUIRE(config.tree.children.size() == 1);
    const ChildSpec& jobs = config.tree.children.front();
    CHECK(jobs.name == "jobs");
    CHECK(jobs.restart == RestartType::transient);
    REQUIRE(jobs.is_supervisor());
    const SupervisorSpec& spec = jobs.supervisor();
    CHECK(spec.dynamic);
    CHECK(spec.strategy == Strategy::one_for_one);
    CHECK(spec.max_children == 10);
    CHECK(spec.intensity == 5);
    CHECK(spec.period == 30s);
    REQUIRE(spec.backoff);
    CHECK(spec.backoff->initial == 1s);
    CHECK(spec.children.empty());
    // A supervisor's default shutdown: wait for its children.
    CHECK(jobs.shutdown == Shutdown::infinity());
  }

  TEST_CASE("OTP's defaults") {
    const SupervisorSpec spec =
        load("tree: {children: [{name: jobs, worker: {kind: dynamic_supervisor}}]}\n")
            .tree.children.front()
            .supervisor();
    CHECK(spec.dynamic);
    CHECK_FALSE(spec.max_children);
    CHECK(spec.intensity == 3);
    CHECK(spec.period == 5s);
    CHECK_FALSE(spec.backoff);
  }

  TEST_CASE("errors name the place and the valid keys") {
    CHECK(error_of("tree:\n"
                   "  children:\n"
                   "    - name: jobs\n"
                   "      worker: {kind: dynamic_supervisor, max_childs: 3}\n") ==
          "t.yaml:4:42: unknown key 'max_childs' (did you mean 'max_children'?)");
    CHECK(
        error_of("tree:\n"
                 "  children:\n"
                 "    - name: jobs\n"
                 "      worker: {kind: dynamic_supervisr}\n") ==
        "t.yaml:4:22: worker.kind: expected one of agent, cron, dynamic_supervisor, file_watch or "
        "health_check, found "
        "'dynamic_supervisr' (did "
        "you mean 'dynamic_supervisor'?)");
    CHECK(error_of("tree:\n"
                   "  children:\n"
                   "    - name: jobs\n"
                   "      worker: {max_children: 3}\n") ==
          "t.yaml:4:15: worker: needs a 'kind': one of agent, cron, dynamic_supervisor, file_watch "
          "or "
          "health_check");
    CHECK(error_of("tree:\n"
                   "  children:\n"
                   "    - name: jobs\n"
                   "      worker: {kind: dynamic_supervisor, max_children: 0}\n") ==
          "t.yaml:4:56: worker.max_children: must be at least 1, found '0'");
    CHECK(error_of("tree:\n"
                   "  children:\n"
                   "    - name: jobs\n"
                   "      worker: {kind: dynamic_supervisor, strategy: one_for_all}\n") ==
          "t.yaml:4:42: 'strategy': a dynamic supervisor is always one_for_one and starts with "
          "no children; add them at run time with 'otpctl start-child'");
    CHECK(error_of("tree:\n"
                   "  children:\n"
                   "    - name: jobs\n"
                   "      worker: {kind: dynamic_supervisor}\n"
                   "      children: []\n") ==
          "t.yaml:5:7: 'children' cannot be combined with 'worker': a child has exactly one of "
          "'command', 'shell', 'children' or 'worker'");
    CHECK(error_of("tree:\n"
                   "  children:\n"
                   "    - name: jobs\n"
                   "      worker: {kind: dynamic_supervisor}\n"
                   "      intensity: 4\n") ==
          "t.yaml:5:7: 'intensity' applies only to supervisors, not to a dynamic supervisor "
          "(its settings go under 'worker')");
  }

  TEST_CASE("a reload compares the settings and treats dynamic and static as different kinds") {
    const Config before =
        load("tree: {children: [{name: jobs, worker: {kind: dynamic_supervisor}}]}\n");
    const Config more = load(
        "tree: {children: [{name: jobs, worker: {kind: dynamic_supervisor, max_children: 2}}]}\n");
    const LevelDiff changed = diff_level(before.tree, more.tree);
    CHECK(changed.nested == std::vector<std::string>{"jobs"});
    const ChildSpec& old_jobs = before.tree.children.front();
    const ChildSpec& new_jobs = more.tree.children.front();
    CHECK(what_differs(old_jobs, new_jobs) == std::vector<std::string>{"max_children"});

    const Config static_one = load("tree: {children: [{name: jobs, children: []}]}\n");
    const LevelDiff replaced = diff_level(before.tree, static_one.tree);
    CHECK(replaced.removed == std::vector<std::string>{"jobs"});
    CHECK(replaced.added == std::vector<std::string>{"jobs"});
  }
}

TEST_SUITE("loader: a child spec on its own") {
  TEST_CASE("YAML and JSON give the same child") {
    const ChildSpec yaml = child_of("name: job1\ncommand: [sleep, '60']\nrestart: transient\n");
    const ChildSpec json =
        child_of(R"({"name": "job1", "command": ["sleep", "60"], "restart": "transient"})");
    CHECK(yaml.name == "job1");
    CHECK(yaml.process().argv == std::vector<std::string>{"sleep", "60"});
    CHECK(yaml.restart == RestartType::transient);
    CHECK(yaml.process().cwd == "/srv/app");
    CHECK(yaml.process().output == Output::discard);
    CHECK(yaml.where == SourceLocation{"spec", 1, 1});
    CHECK(json.name == yaml.name);
    CHECK(json.process() == yaml.process());
  }

  TEST_CASE("a supervisor with children can be added too") {
    const ChildSpec group = child_of(
        "name: pair\n"
        "strategy: one_for_all\n"
        "children:\n"
        "  - {name: a, command: [a]}\n"
        "  - {name: b, command: [b], output: log}\n");
    REQUIRE(group.is_supervisor());
    REQUIRE(group.supervisor().children.size() == 2);
    CHECK(group.supervisor().children[0].process().output == Output::discard);
    CHECK(group.supervisor().children[1].process().output == Output::log);
  }

  TEST_CASE("errors are the config file's, placed in the given text") {
    CHECK(child_error("name: job1\ncommand: [sleep]\nrestrat: temporary\n") ==
          "spec:3:1: unknown key 'restrat' (did you mean 'restart'?)");
    CHECK(child_error(R"({"name": "job1", "command": ["sleep"], "restart": "sometimes"})") ==
          "spec:1:51: restart: expected one of permanent, transient, temporary, found "
          "'sometimes'");
    CHECK(child_error(R"({"name": "job1", "command": "sleep 1"})") ==
          "spec:1:29: command: expected a list of strings, found a string (write [program, arg, "
          "...], or use 'shell' for a command line)");
    CHECK(child_error("command: [a]\n") == "spec:1:1: a child needs a 'name'");
    CHECK(child_error("name: a\n") ==
          "spec:1:1: child 'a' needs one of 'command', 'shell', 'children' or 'worker'");
    CHECK(child_error("") ==
          "spec: the child spec is empty; it needs at least a 'name' and a 'command'");
    CHECK(child_error("[a, b]\n") ==
          "spec:1:1: expected a mapping with the child's 'name' and settings, found a list");
    CHECK(child_error("name: [a\n").rfind("spec:", 0) == 0);
    CHECK(child_error("name: a\ncommand: [a]\nrestart: transient\nsignificant: true\n") ==
          "spec:4:1: significant: a dynamic supervisor has no auto_shutdown, so a significant "
          "child would change nothing");
  }
}

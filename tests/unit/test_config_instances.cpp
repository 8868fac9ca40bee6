// `instances: N`: N copies of a process, {{i}} in their values, names,
// errors reported once, bounds.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/diff.hpp"
#include "config/loader.hpp"

using namespace otpd::config;
using Names = std::vector<std::string>;

namespace {

Config load(const std::string& yaml) {
  return load_string(yaml, "t.yaml", "/tmp");
}

std::string error_of(const std::string& yaml) {
  try {
    load(yaml);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(loaded)";
}

Names names(const SupervisorSpec& supervisor) {
  Names result;
  for (const ChildSpec& child : supervisor.children) result.push_back(child.name);
  return result;
}

}  // namespace

TEST_SUITE("config: instances") {
  TEST_CASE("N copies named NAME-1..NAME-N, {{i}} in their values, in the child's place") {
    const Config config = load(R"(tree:
  children:
    - {name: db, command: [db]}
    - name: web
      instances: 3
      command: [web, --port, "80{{i}}"]
      env: {WORKER: "{{i}}"}
      normal_exit: ["4{{i}}"]
    - {name: last, command: [l]}
)");
    CHECK(names(config.tree) == Names{"db", "web-1", "web-2", "web-3", "last"});
    for (int i = 1; i <= 3; ++i) {
      const ProcessSpec& p = config.tree.children.at(static_cast<std::size_t>(i)).process();
      CHECK(p.argv == std::vector<std::string>{"web", "--port", "80" + std::to_string(i)});
      CHECK(p.env ==
            std::vector<std::pair<std::string, std::string>>{{"WORKER", std::to_string(i)}});
      CHECK(p.normal_exit_codes == std::vector<int>{40 + i});
    }
  }

  TEST_CASE("{{i}} in the name names the copies; shell scripts get {{i}} too") {
    const Config config = load(R"(tree:
  children:
    - name: "q{{i}}.worker"
      instances: 2
      shell: "exec worker --id {{i}} --pid $$"
)");
    CHECK(names(config.tree) == Names{"q1.worker", "q2.worker"});
    CHECK(config.tree.children.at(1).process().argv.back() == "exec worker --id 2 --pid $$");
  }

  TEST_CASE("one instance is still a copy, so that adding more renames nothing") {
    const Config one = load("tree:\n  children:\n    - {name: w, instances: 1, command: [w]}\n");
    const Config two = load("tree:\n  children:\n    - {name: w, instances: 2, command: [w]}\n");
    CHECK(names(one.tree) == Names{"w-1"});
    const TreeDiff plan = diff(one, two);
    CHECK(plan.of(Change::added) == Names{"w-2"});
    CHECK(plan.of(Change::changed).empty());
  }

  TEST_CASE("an error of the copies is reported once") {
    CHECK(error_of(R"(tree:
  children:
    - name: w
      instances: 5
      command: [w]
      restart: sometimes
)") == "t.yaml:6:16: restart: expected one of permanent, transient, temporary, found "
       "'sometimes'");
    // Only some copies are wrong: the first of them says so.
    CHECK(error_of(R"(tree:
  children:
    - name: w
      instances: 8
      command: [w]
      normal_exit: ["25{{i}}"]
)") == "t.yaml:6:21: normal_exit: must be at most 255, found '256'");
    // Copies that clash with a sibling.
    CHECK(error_of(R"(tree:
  children:
    - {name: w-2, command: [x]}
    - {name: w, instances: 2, command: [w]}
)") == "t.yaml:4:14: duplicate child name 'w-2' (first used at line 3)");
  }

  TEST_CASE("only processes have instances, and only in the file") {
    CHECK(error_of("tree:\n  children:\n    - {name: s, instances: 2, children: []}\n") ==
          "t.yaml:3:17: 'instances' applies only to processes, not to a supervisor (a child with "
          "'children')");
    CHECK_THROWS_WITH_AS(
        load_child_string("{name: j, instances: 2, command: [j]}", "spec", "/tmp", Output::log),
        "spec:1:11: instances: a child spec starts one child; start each copy under its own name",
        ConfigError);
  }

  TEST_CASE("at most 1000 copies, and copies count against the file's values") {
    CHECK(error_of("tree:\n  children:\n    - {name: w, instances: 1001, command: [w]}\n") ==
          "t.yaml:3:28: instances: must be at most 1000, found '1001'");
    CHECK(error_of("tree:\n  children:\n    - {name: w, instances: 0, command: [w]}\n") ==
          "t.yaml:3:28: instances: must be at least 1, found '0'");
    std::string env;
    for (int i = 0; i < 1500; ++i) env += "V" + std::to_string(i) + ": x, ";
    CHECK(error_of("tree:\n  children:\n    - {name: w, instances: 1000, command: [w], env: {" +
                   env + "}}\n") ==
          "t.yaml:3:28: instances: 1000 copies of this child take the config past 2000000 values");
  }
}

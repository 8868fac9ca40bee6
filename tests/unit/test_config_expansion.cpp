// ${NAME} in config values: from otpd's environment and the child's
// env_file and env, $$ for a '$', shell scripts left to the shell, errors
// at the place of the reference, and bounds on what expansion may make.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <string>

#include "config/diff.hpp"
#include "config/loader.hpp"
#include "temp_dir.hpp"

using namespace otpd::config;

namespace {

// A variable of otpd's own environment for the length of a test.
struct OwnVariable {
  std::string name;
  OwnVariable(std::string n, const std::string& value) : name(std::move(n)) {
    setenv(name.c_str(), value.c_str(), 1);
  }
  ~OwnVariable() { unsetenv(name.c_str()); }
};

Config load(const std::string& yaml, const std::string& dir = "/tmp") {
  return load_string(yaml, "t.yaml", dir);
}

std::string error_of(const std::string& yaml, const std::string& dir = "/tmp") {
  try {
    load(yaml, dir);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(loaded)";
}

const ProcessSpec& process(const Config& config, std::size_t i = 0) {
  return config.tree.children.at(i).process();
}

std::string env_value(const ProcessSpec& p, const std::string& name) {
  for (const auto& [n, v] : p.env) {
    if (n == name) return v;
  }
  return "(unset)";
}

}  // namespace

TEST_SUITE("config: ${VAR}") {
  TEST_CASE("values take variables of otpd's environment; $$ is a '$'; a default for the unset") {
    const OwnVariable port("OTPD_TEST_PORT", "8080");
    const OwnVariable dir("OTPD_TEST_DIR", "/tmp");
    const Config config = load(R"(tree:
  intensity: ${OTPD_TEST_PORT}
  children:
    - name: api
      command: [api, "--port=${OTPD_TEST_PORT}", "$${OTPD_TEST_PORT}", "${OTPD_TEST_UNSET:-none}", "a$b$", "$$$$"]
      cwd: ${OTPD_TEST_DIR}
      env: {LISTEN: ":${OTPD_TEST_PORT}"}
)");
    CHECK(config.tree.intensity == 8080);
    CHECK(process(config).argv == std::vector<std::string>{"api", "--port=8080",
                                                           "${OTPD_TEST_PORT}", "none", "a$b$",
                                                           "$$"});
    CHECK(process(config).cwd == "/tmp");
    CHECK(env_value(process(config), "LISTEN") == ":8080");
  }

  TEST_CASE("a process's env_file and env are variables for its other values, wherever written") {
    otpd::test::TempDir dir;
    dir.write("app.env", "ROLE=primary\nPORT=5432\n");
    const OwnVariable home("OTPD_TEST_HOME", "/srv");
    const Config config = load(R"(tree:
  children:
    - name: db
      command: [db, "--role=${ROLE}", "--port=${PORT}", "--data=${DATA}"]
      env:
        DATA: "${OTPD_TEST_HOME}/db-${ROLE}"
        PORT: "6000"
      env_file: app.env
    - name: other
      command: [other, "${ROLE:-none}"]
)",
                               dir.dir());
    // env wins over the env file; an env value sees the env file and otpd's
    // environment.
    CHECK(process(config).argv == std::vector<std::string>{"db", "--role=primary", "--port=6000",
                                                           "--data=/srv/db-primary"});
    // A sibling does not see them.
    CHECK(process(config, 1).argv == std::vector<std::string>{"other", "none"});
  }

  TEST_CASE("shell scripts are left to the shell, which expands them from the child's env") {
    const OwnVariable v("OTPD_TEST_V", "x");
    const Config config = load(R"(tree:
  children:
    - name: s
      shell: 'echo ${OTPD_TEST_V} $$ ${UNSET_IN_OTPD}'
      ready: {exec: 'test -n "${UNSET_TOO}"'}
)");
    CHECK(process(config).argv.back() == "echo ${OTPD_TEST_V} $$ ${UNSET_IN_OTPD}");
    CHECK(process(config).ready->argv.back() == "test -n \"${UNSET_TOO}\"");
  }

  TEST_CASE("an unset variable is an error at its place inside the value") {
    CHECK(error_of(R"(tree:
  children:
    - name: api
      command: [api, "--port=${OTPD_TEST_NOPE}"]
)") == "t.yaml:4:30: command: ${OTPD_TEST_NOPE} is not set in otpd's environment, nor by the "
       "child's env_file or env; write ${OTPD_TEST_NOPE:-DEFAULT} for a default, or "
       "$${OTPD_TEST_NOPE} for the text itself");
    CHECK(error_of("tree:\n  period: ${OTPD_TEST_NOPE}\n") ==
          "t.yaml:2:11: period: ${OTPD_TEST_NOPE} is not set in otpd's environment; write "
          "${OTPD_TEST_NOPE:-DEFAULT} for a default, or $${OTPD_TEST_NOPE} for the text itself");
    // In a block, on the line of the reference.
    CHECK(error_of("tree:\n  children:\n    - name: a\n      command:\n        - a\n"
                   "        - >-\n          one\n          two ${OTPD_TEST_NOPE}\n")
              .starts_with("t.yaml:8:15: command: ${OTPD_TEST_NOPE} is not set"));
  }

  TEST_CASE("what is not a variable says how to write a '$'") {
    CHECK(error_of("tree:\n  children:\n    - {name: a, command: [a, \"x${1x}\"]}\n") ==
          "t.yaml:3:32: command: '${1x}' does not name a variable (letters, digits and '_', not "
          "starting with a digit; write $$ for a '$')");
    CHECK(error_of("tree:\n  children:\n    - {name: a, command: [a, \"x${OPEN\"]}\n") ==
          "t.yaml:3:32: command: '${' without its closing '}' (write $$ for a '$')");
  }

  TEST_CASE("a value of the wrong kind shows what it was expanded from") {
    const OwnVariable n("OTPD_TEST_N", "many");
    CHECK(error_of("tree:\n  intensity: ${OTPD_TEST_N}\n") ==
          "t.yaml:2:14: intensity: expected a whole number >= 0, found 'many' (from "
          "'${OTPD_TEST_N}')");
  }

  TEST_CASE("a start_child spec expands as the file does") {
    const OwnVariable v("OTPD_TEST_JOB", "nightly");
    const ChildSpec child = load_child_string("{name: j, command: [run, '${OTPD_TEST_JOB}']}",
                                              "spec", "/tmp", Output::log);
    CHECK(child.process().argv == std::vector<std::string>{"run", "nightly"});
  }

  TEST_CASE("a reload sees what the env files say now") {
    otpd::test::TempDir dir;
    dir.write("app.env", "MODE=a\n");
    const std::string yaml =
        "tree:\n  children:\n    - name: app\n      env_file: app.env\n"
        "      command: [app, \"${MODE}\"]\n";
    const Config before = load(yaml, dir.dir());
    dir.write("app.env", "MODE=b\n");
    const Config after = load(yaml, dir.dir());
    CHECK(diff(before, after).of(Change::changed) == std::vector<std::string>{"app"});
  }

  TEST_CASE("{{i}} outside a child with instances is left as written") {
    CHECK(process(load("tree:\n  children:\n    - {name: a, command: [a, \"{{i}}\"]}\n")).argv ==
          std::vector<std::string>{"a", "{{i}}"});
  }
}

TEST_SUITE("config bounds") {
  TEST_CASE("expansion may not make a value longer than 1 MiB") {
    const OwnVariable big("OTPD_TEST_BIG", std::string(100'000, 'x'));
    std::string refs;
    for (int i = 0; i < 11; ++i) refs += "${OTPD_TEST_BIG}";
    const std::string error =
        error_of("tree:\n  children:\n    - {name: a, command: [a, \"" + refs + "\"]}\n");
    CHECK(error.starts_with("t.yaml:3:"));
    CHECK(error.find("command: expanding ${OTPD_TEST_BIG} makes the value longer than 1 MiB") !=
          std::string::npos);
  }

  TEST_CASE("nor the values of a config longer than 64 MiB in all") {
    otpd::test::TempDir dir;
    dir.write("big.env", "BIG=" + std::string(1000'000, 'x') + "\n");
    std::string args;
    for (int i = 0; i < 70; ++i) args += ", \"${BIG}\"";
    const std::string error = error_of(
        "tree:\n  children:\n    - {name: a, env_file: big.env, command: [a" + args + "]}\n",
        dir.dir());
    CHECK_MESSAGE(error.find("command: expanding its variables makes the values of the config "
                             "longer than 64 MiB in all") != std::string::npos,
                  error.substr(0, 300));
  }

  TEST_CASE("env files hold at most 16 MiB together, however often they are named") {
    otpd::test::TempDir dir;
    dir.write("big.env", "BIG=" + std::string(1000'000, 'x') + "\n");
    std::string children;
    for (int i = 0; i < 20; ++i) {
      children += "    - {name: c" + std::to_string(i) + ", env_file: big.env, command: [c]}\n";
    }
    const std::string error = error_of("tree:\n  children:\n" + children, dir.dir());
    CHECK(
        error.starts_with("t.yaml:19:29: env_file: the env files of this config hold more "
                          "than 16 MiB together\n"));
  }
}

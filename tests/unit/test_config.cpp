#include <doctest/doctest.h>
#include <pwd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/loader.hpp"
#include "config/signals.hpp"
#include "protocol/suggest.hpp"

using namespace otpd::config;
using namespace otpd::protocol;
using namespace std::chrono_literals;

namespace doctest {
template <>
struct StringMaker<SourceLocation> {
  static String convert(const SourceLocation& where) {
    const std::string text =
        where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
    return text.c_str();
  }
};
}  // namespace doctest

namespace {

const char* const kBaseDir = "/srv/app";

// Test YAML is written starting on the line after R"( for readability; that
// first newline is not part of the file.
std::string strip_first_newline(const std::string& yaml) {
  return !yaml.empty() && yaml.front() == '\n' ? yaml.substr(1) : yaml;
}

Config load(const std::string& yaml) {
  return load_string(strip_first_newline(yaml), "t.yaml", kBaseDir);
}

std::string error_of(const std::string& yaml) {
  try {
    load(yaml);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(loaded without error)";
}

const ChildSpec& only_child(const Config& config) {
  REQUIRE(config.tree.children.size() == 1);
  return config.tree.children.front();
}

// For a config nobody keeps: the child by value, so that a reference bound
// to the result outlives the temporary config.
ChildSpec only_child(Config&& config) {
  REQUIRE(config.tree.children.size() == 1);
  return std::move(config.tree.children.front());
}

// The examples live in the source tree. A relative __FILE__ is relative to
// the build directory, which is where `meson test` runs tests from; running
// the binary by hand from elsewhere works through its location in
// BUILD/tests/unit, or by setting OTPD_SOURCE_ROOT.
std::filesystem::path examples_dir() {
  if (const char* root = std::getenv("OTPD_SOURCE_ROOT")) {
    return std::filesystem::path(root) / "config" / "examples";
  }
  const auto from_source =
      std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "config" / "examples";
  if (from_source.is_absolute() || std::filesystem::is_directory(from_source)) return from_source;
  std::error_code ignored;
  const auto build_root = std::filesystem::canonical("/proc/self/exe", ignored)
                              .parent_path()
                              .parent_path()
                              .parent_path();
  return build_root / from_source;
}

}  // namespace

TEST_SUITE("loader: values") {
  TEST_CASE("an empty tree takes every supervisor default") {
    const Config config = load(R"(
tree:
  children: []
)");
    CHECK(config.file == "t.yaml");
    CHECK(config.tree.strategy == Strategy::one_for_one);
    CHECK(config.tree.intensity == 3);
    CHECK(config.tree.period == 5s);
    CHECK_FALSE(config.tree.backoff.has_value());
    CHECK(config.tree.children.empty());
    CHECK(load("tree: {}").tree.children.empty());
  }

  TEST_CASE("root supervisor keys") {
    const Config config = load(R"(
tree:
  strategy: rest_for_one
  intensity: 0
  period: 1m30s
  backoff: {initial: 1s, max: 1m, factor: 1.5, reset_after: 2m}
)");
    CHECK(config.tree.strategy == Strategy::rest_for_one);
    CHECK(config.tree.intensity == 0);
    CHECK(config.tree.period == 90s);
    REQUIRE(config.tree.backoff.has_value());
    CHECK(*config.tree.backoff == Backoff{1s, 1min, 1.5, 2min});
  }

  TEST_CASE("a process child with every key") {
    const Config config = load(R"(
tree:
  children:
    - name: db
      command: [/usr/bin/redis-server, --port, "6390", 42, true]
      restart: transient
      shutdown: 250ms
      normal_exit: [0, 3, SIGTERM, usr1, 3, TERM]
      env: {Z_LAST: 1, A_FIRST: "two", EMPTY: ''}
      cwd: /usr/lib/../bin/
      backoff: {initial: 2s}
)");
    const ChildSpec& db = only_child(config);
    CHECK(db.name == "db");
    CHECK_FALSE(db.is_supervisor());
    CHECK(db.restart == RestartType::transient);
    CHECK(db.shutdown == Shutdown::after(250ms));
    CHECK(db.where == SourceLocation{"t.yaml", 3, 7});
    REQUIRE(db.backoff.has_value());
    CHECK(*db.backoff == Backoff{2s, 30s, 2.0, 30s});
    const ProcessSpec& process = db.process();
    CHECK(process.argv ==
          std::vector<std::string>{"/usr/bin/redis-server", "--port", "6390", "42", "true"});
    CHECK_FALSE(process.via_shell);
    CHECK(process.normal_exit_codes == std::vector<int>{0, 3});
    CHECK(process.normal_exit_signals == std::vector<int>{15, 10});
    CHECK(process.env == std::vector<std::pair<std::string, std::string>>{
                             {"Z_LAST", "1"}, {"A_FIRST", "two"}, {"EMPTY", ""}});
    CHECK(process.cwd == "/usr/bin");
  }

  TEST_CASE("process defaults") {
    const ChildSpec& child = only_child(load(R"(
tree:
  children:
    - {name: x, command: [sleep, "1"]}
)"));
    CHECK(child.restart == RestartType::permanent);
    CHECK(child.shutdown == Shutdown::after(5s));
    CHECK_FALSE(child.backoff.has_value());
    CHECK(child.process().cwd == kBaseDir);
    CHECK(child.process().env.empty());
    CHECK(child.process().normal_exit_codes.empty());
    CHECK(child.process().normal_exit_signals.empty());
    CHECK(child.where == SourceLocation{"t.yaml", 3, 7});
  }

  TEST_CASE("shell runs its script with /bin/sh -c") {
    const ChildSpec& child = only_child(load(R"(
tree:
  children:
    - name: job
      shell: "echo hi; sleep 1"
)"));
    CHECK(child.process().argv == std::vector<std::string>{"/bin/sh", "-c", "echo hi; sleep 1"});
    CHECK(child.process().via_shell);
  }

  TEST_CASE("shutdown policies") {
    const Config config = load(R"(
tree:
  children:
    - {name: a, command: [a], shutdown: brutal_kill}
    - {name: b, command: [b], shutdown: infinity}
    - {name: c, command: [c], shutdown: 1m30s}
)");
    CHECK(config.tree.children[0].shutdown == Shutdown::brutal_kill());
    CHECK(config.tree.children[1].shutdown == Shutdown::infinity());
    CHECK(config.tree.children[2].shutdown == Shutdown::after(90s));
  }

  TEST_CASE("cwd resolution") {
    // Directories every system has: a cwd must exist when the file is loaded.
    const Config config = load_string(R"(
tree:
  children:
    - {name: a, command: [a], cwd: /usr/share/}
    - {name: b, command: [b], cwd: .}
    - {name: c, command: [c], cwd: ../bin}
)",
                                      "t.yaml", "/usr/lib");
    CHECK(config.tree.children[0].process().cwd == "/usr/share");
    CHECK(config.tree.children[1].process().cwd == "/usr/lib");
    CHECK(config.tree.children[2].process().cwd == "/usr/bin");
  }

  TEST_CASE("a relative base_dir is made absolute") {
    const Config config =
        load_string("tree: {children: [{name: a, command: [a]}]}", "t.yaml", "conf");
    const std::string expected = (std::filesystem::current_path() / "conf").string();
    CHECK(only_child(config).process().cwd == expected);
  }

  TEST_CASE("a nested supervisor") {
    const Config config = load(R"(
tree:
  backoff: {initial: 1s}
  children:
    - name: app
      strategy: one_for_all
      intensity: 7
      period: 10s
      restart: transient
      backoff: {initial: 5s, max: 1m}
      children:
        - name: api
          command: [api]
        - name: inner
          shutdown: 30s
          children: []
)");
    REQUIRE(config.tree.backoff.has_value());
    CHECK(config.tree.backoff->initial == 1s);
    CHECK(config.tree.backoff->reset_after == 30s);
    const ChildSpec& app = only_child(config);
    REQUIRE(app.is_supervisor());
    CHECK(app.restart == RestartType::transient);
    CHECK(app.shutdown == Shutdown::infinity());
    CHECK_FALSE(app.backoff.has_value());
    const SupervisorSpec& sup = app.supervisor();
    CHECK(sup.strategy == Strategy::one_for_all);
    CHECK(sup.intensity == 7);
    CHECK(sup.period == 10s);
    REQUIRE(sup.backoff.has_value());
    CHECK(*sup.backoff == Backoff{5s, 1min, 2.0, 1min});
    REQUIRE(sup.children.size() == 2);
    CHECK(sup.children[0].name == "api");
    CHECK(sup.children[0].where == SourceLocation{"t.yaml", 11, 11});
    CHECK(sup.children[1].is_supervisor());
    CHECK(sup.children[1].shutdown == Shutdown::after(30s));
    CHECK(sup.children[1].supervisor().children.empty());
  }

  TEST_CASE("backoff defaults: reset_after follows max") {
    const Config config = load(R"(
tree:
  children:
    - {name: a, command: [a], backoff: {}}
    - {name: b, command: [b], backoff: {max: 2m}}
    - {name: c, command: [c], backoff: {initial: 3s, max: 3s, factor: 1}}
)");
    CHECK(*config.tree.children[0].backoff == Backoff{100ms, 30s, 2.0, 30s});
    CHECK(*config.tree.children[1].backoff == Backoff{100ms, 2min, 2.0, 2min});
    CHECK(*config.tree.children[2].backoff == Backoff{3s, 3s, 1.0, 3s});
  }

  TEST_CASE("names may repeat in different supervisors") {
    const Config config = load(R"(
tree:
  children:
    - {name: a, command: [a]}
    - name: b
      children:
        - {name: a, command: [a]}
)");
    CHECK(config.tree.children.size() == 2);
  }

  TEST_CASE("valid names") {
    for (const char* name : {"a", "A1", "9lives", "web_api", "worker.1", "x-y.z_0"}) {
      CAPTURE(name);
      const std::string yaml =
          std::string("tree: {children: [{name: '") + name + "', command: [a]}]}";
      CHECK(only_child(load(yaml)).name == name);
    }
  }

  TEST_CASE("anchors and aliases can share values") {
    const Config config = load(R"(
tree:
  children:
    - {name: a, command: [a], env: &common {LANG: C.UTF-8}}
    - {name: b, command: [b], env: *common}
)");
    CHECK(config.tree.children[1].process().env ==
          std::vector<std::pair<std::string, std::string>>{{"LANG", "C.UTF-8"}});
  }
}

TEST_SUITE("loader: errors") {
  TEST_CASE("ConfigError carries the place and the message apart") {
    try {
      load("tree: {children: [{name: a, shell: x, restart: sometimes}]}");
      FAIL("expected a ConfigError");
    } catch (const ConfigError& error) {
      CHECK(error.where() == SourceLocation{"t.yaml", 1, 48});
      CHECK(error.message() ==
            "restart: expected one of permanent, transient, temporary, found 'sometimes'");
    }
    CHECK(std::string(ConfigError({"f.yaml", 0, 0}, "m").what()) == "f.yaml: m");
  }

  TEST_CASE("YAML syntax errors are reported 1-based") {
    CHECK(error_of("tree: [\n") == "t.yaml:2:1: invalid YAML: end of sequence flow not found");
    CHECK(error_of(R"(
tree:
  children:
    - a
     -b: c: d
)") == "t.yaml:4:8: invalid YAML: illegal map value");
    CHECK(error_of("tree: *nowhere\n") ==
          "t.yaml:1:7: invalid YAML: the referenced anchor is not defined");
  }

  TEST_CASE("top level") {
    CHECK(error_of("") == "t.yaml: the file is empty; it needs a top-level 'tree'");
    CHECK(error_of("# only a comment\n") ==
          "t.yaml: the file is empty; it needs a top-level 'tree'");
    CHECK(error_of("- tree\n") ==
          "t.yaml:1:1: expected a mapping with a top-level 'tree', found a list");
    CHECK(error_of("{}") == "t.yaml:1:1: missing the top-level key 'tree'");
    CHECK(error_of("version: 1\n") ==
          "t.yaml:1:1: unknown key 'version' (valid keys: tree, control, logs, workers, http, "
          "hooks)");
    CHECK(error_of("tree: {}\ntrees: {}\n") ==
          "t.yaml:2:1: unknown key 'trees' (did you mean 'tree'?)");
    CHECK(error_of("tre: {}\n") == "t.yaml:1:1: unknown key 'tre' (did you mean 'tree'?)");
    CHECK(error_of("tree: {}\ntree: {}\n") == "t.yaml:2:1: duplicate key 'tree' (first at line 1)");
    CHECK(error_of("tree: {}\n---\ntree: {}\n") ==
          "t.yaml:3:1: only one YAML document is allowed; remove this second one");
    CHECK(error_of("tree:\n") ==
          "t.yaml:1:1: tree: expected a mapping with the root supervisor's children, found "
          "nothing");
    CHECK(error_of("tree: [a]\n") ==
          "t.yaml:1:7: tree: expected a mapping with the root supervisor's children, found a "
          "list");
    CHECK(error_of("? [a]\n: 1\n") == "t.yaml:1:3: a key must be a plain word, found a list");
  }

  TEST_CASE("unknown keys suggest the nearest valid key") {
    CHECK(error_of(R"(
tree:
  children:
    - name: web
      comand: [a]
)") == "t.yaml:4:7: unknown key 'comand' (did you mean 'command'?)");
    CHECK(error_of(R"(
tree:
  stratgy: one_for_all
)") == "t.yaml:2:3: unknown key 'stratgy' (did you mean 'strategy'?)");
    CHECK(error_of(R"(
tree:
  children:
    - {name: a, command: [a], enviroment: {}}
)") == "t.yaml:3:31: unknown key 'enviroment' (valid keys: name, command, shell, children, "
       "worker, restart, shutdown, backoff, strategy, intensity, period, auto_shutdown, "
       "significant, env, "
       "cwd, normal_exit, user, group, groups, umask, rlimits, env_file, inherit_env, "
       "stop_signal, kill_mode, ready, start_timeout, watchdog, output, streams, memory_max, "
       "cpu_max, pids_max, instances)");
    CHECK(error_of(R"(
tree:
  children:
    - {name: a, command: [a], backoff: {inital: 1s}}
)") == "t.yaml:3:41: unknown key 'inital' (did you mean 'initial'?)");
    CHECK(error_of("tree: {children: [{name: a, command: [a], env: &e {A: b}}, {<<: *e}]}\n") ==
          "t.yaml:1:61: merge keys ('<<') are not supported: alias a whole value instead");
    CHECK(error_of("tree: {nme: x}\n") ==
          "t.yaml:1:8: unknown key 'nme' (valid keys: children, backoff, strategy, intensity, "
          "period, auto_shutdown)");
  }

  TEST_CASE("duplicate keys point at the second one") {
    CHECK(error_of(R"(
tree:
  children:
    - name: a
      command: [a]
      name: b
)") == "t.yaml:5:7: duplicate key 'name' (first at line 3)");
    CHECK(error_of(R"(
tree:
  children:
    - {name: a, command: [a], env: {X: 1, Y: 2, X: 3}}
)") == "t.yaml:3:49: duplicate key 'X' (first at line 3)");
  }

  TEST_CASE("a child is exactly one of command, shell, children") {
    CHECK(error_of(R"(
tree:
  children:
    - name: a
      command: [a]
      shell: b
)") == "t.yaml:5:7: 'shell' cannot be combined with 'command': a child has exactly one of "
       "'command', 'shell', 'children' or 'worker'");
    CHECK(error_of(R"(
tree:
  children:
    - name: a
      children: []
      command: [a]
)") == "t.yaml:5:7: 'command' cannot be combined with 'children': a child has exactly one of "
       "'command', 'shell', 'children' or 'worker'");
    CHECK(error_of(R"(
tree:
  children:
    - name: a
      restart: permanent
)") == "t.yaml:3:7: child 'a' needs one of 'command', 'shell', 'children' or 'worker'");
  }

  TEST_CASE("keys that belong to another kind of node") {
    CHECK(error_of(R"(
tree:
  children:
    - name: app
      env: {A: b}
      children: []
)") == "t.yaml:4:7: 'env' applies only to processes, not to a supervisor (a child with "
       "'children')");
    CHECK(error_of(R"(
tree:
  children:
    - name: a
      command: [a]
      strategy: one_for_all
)") == "t.yaml:5:7: 'strategy' applies only to supervisors, not to a process");
    CHECK(error_of(R"(
tree:
  children:
    - {name: a, shell: a, intensity: 1}
)") == "t.yaml:3:27: 'intensity' applies only to supervisors, not to a process");
    CHECK(error_of(R"(
tree:
  name: root
)") == "t.yaml:2:3: 'name' applies only to children, not to the root 'tree'");
    CHECK(error_of("tree: {restart: permanent}\n") ==
          "t.yaml:1:8: 'restart' applies only to children, not to the root 'tree'");
    CHECK(error_of("tree: {cwd: /}\n") ==
          "t.yaml:1:8: 'cwd' applies only to processes, not to the root 'tree'");
  }

  TEST_CASE("children") {
    CHECK(error_of("tree: {children: }\n") ==
          "t.yaml:1:8: children: expected a list of children, found nothing (write [] for none)");
    CHECK(error_of("tree: {children: {a: 1}}\n") ==
          "t.yaml:1:18: children: expected a list of children, found a mapping");
    CHECK(error_of("tree: {children: [web]}\n") ==
          "t.yaml:1:19: children: expected a mapping for each child, found a string");
    CHECK(error_of(R"(
tree:
  children:
    - command: [a]
)") == "t.yaml:3:7: a child needs a 'name'");
  }

  TEST_CASE("names") {
    CHECK(error_of("tree: {children: [{name: my app, command: [a]}]}\n") ==
          "t.yaml:1:26: name: expected letters, digits, '_', '.' and '-', starting with a letter "
          "or digit, found 'my app'");
    CHECK(error_of("tree: {children: [{name: -x, command: [a]}]}\n") ==
          "t.yaml:1:26: name: expected letters, digits, '_', '.' and '-', starting with a letter "
          "or digit, found '-x'");
    CHECK(error_of("tree: {children: [{name: '', command: [a]}]}\n") ==
          "t.yaml:1:26: name: expected letters, digits, '_', '.' and '-', starting with a letter "
          "or digit, found ''");
    CHECK(error_of("tree: {children: [{name: [a], command: [a]}]}\n") ==
          "t.yaml:1:26: name: expected a string, found a list");
    CHECK(error_of(R"(
tree:
  children:
    - name: db
      command: [a]
    - name: web
      command: [b]
    - name: db
      shell: c
)") == "t.yaml:7:13: duplicate child name 'db' (first used at line 3)");
  }

  TEST_CASE("enumerations suggest the nearest value") {
    CHECK(error_of(R"(
tree:
  children:
    - name: web
      command: [a]
      restart: permanant
)") == "t.yaml:5:16: restart: expected one of permanent, transient, temporary, found "
       "'permanant' (did you mean 'permanent'?)");
    CHECK(error_of("tree: {strategy: one_for_al}\n") ==
          "t.yaml:1:18: strategy: expected one of one_for_one, one_for_all, rest_for_one, found "
          "'one_for_al' (did you mean 'one_for_all'?)");
    CHECK(error_of("tree: {strategy: [one_for_all]}\n") ==
          "t.yaml:1:18: strategy: expected one of one_for_one, one_for_all, rest_for_one, found "
          "a list");
    CHECK(error_of("tree: {strategy: }\n") ==
          "t.yaml:1:8: strategy: expected one of one_for_one, one_for_all, rest_for_one, found "
          "nothing");
  }

  TEST_CASE("command") {
    CHECK(error_of("tree: {children: [{name: a, command: redis-server --port 1}]}\n") ==
          "t.yaml:1:38: command: expected a list of strings, found a string (write [program, "
          "arg, ...], or use 'shell' for a command line)");
    CHECK(error_of("tree: {children: [{name: a, command: {a: b}}]}\n") ==
          "t.yaml:1:38: command: expected a list of strings, found a mapping");
    CHECK(error_of("tree: {children: [{name: a, command: []}]}\n") ==
          "t.yaml:1:38: command: must name at least the program to run");
    CHECK(error_of("tree: {children: [{name: a, command: [a, [b]]}]}\n") ==
          "t.yaml:1:42: command: expected a string, found a list");
    CHECK(error_of("tree: {children: [{name: a, command: ['', b]}]}\n") ==
          "t.yaml:1:39: command: the program name must not be empty");
    CHECK(error_of("tree: {children: [{name: a, shell: ''}]}\n") ==
          "t.yaml:1:36: shell: must not be empty");
    CHECK(error_of("tree: {children: [{name: a, shell: [a]}]}\n") ==
          "t.yaml:1:36: shell: expected a string, found a list");
  }

  TEST_CASE("integers and durations") {
    CHECK(error_of("tree: {intensity: -1}\n") ==
          "t.yaml:1:19: intensity: must be at least 0, found '-1'");
    CHECK(error_of("tree: {intensity: three}\n") ==
          "t.yaml:1:19: intensity: expected a whole number >= 0, found 'three'");
    CHECK(error_of("tree: {intensity: 2.5}\n") ==
          "t.yaml:1:19: intensity: expected a whole number >= 0, found '2.5'");
    CHECK(error_of("tree: {intensity: 99999999999999999999}\n") ==
          "t.yaml:1:19: intensity: too large, found '99999999999999999999'");
    CHECK(error_of("tree: {period: 5}\n") ==
          "t.yaml:1:16: period: expected a duration such as 5s, 250ms or 1m30s, found '5' (a "
          "bare number needs a unit: write 5s or 5000ms)");
    CHECK(error_of("tree: {period: 0s}\n") ==
          "t.yaml:1:16: period: must be longer than 0s, found '0s'");
    CHECK(error_of("tree: {period: 5 seconds}\n") ==
          "t.yaml:1:16: period: expected a duration such as 5s, 250ms or 1m30s, found '5 "
          "seconds' (remove the spaces: write e.g. 5s or 1m30s)");
    CHECK(error_of("tree: {period: [5s]}\n") ==
          "t.yaml:1:16: period: expected a duration such as 5s, 250ms or 1m30s, found a list");
  }

  TEST_CASE("shutdown") {
    const std::string prefix = "tree: {children: [{name: a, command: [a], shutdown: ";
    CHECK(error_of(prefix + "brutalkill}]}") ==
          "t.yaml:1:53: shutdown: expected brutal_kill, infinity or a duration such as 5s, "
          "found 'brutalkill' (did you mean 'brutal_kill'?)");
    CHECK(error_of(prefix + "never}]}") ==
          "t.yaml:1:53: shutdown: expected brutal_kill, infinity or a duration such as 5s, "
          "found 'never'");
    CHECK(error_of(prefix + "infinte}]}") ==
          "t.yaml:1:53: shutdown: expected brutal_kill, infinity or a duration such as 5s, "
          "found 'infinte' (did you mean 'infinity'?)");
    CHECK(error_of(prefix + "5}]}") ==
          "t.yaml:1:53: shutdown: expected a duration such as 5s, 250ms or 1m30s, found '5' (a "
          "bare number needs a unit: write 5s or 5000ms)");
    CHECK(error_of(prefix + "0ms}]}") ==
          "t.yaml:1:53: shutdown: must be longer than 0s (write brutal_kill to kill at once)");
    CHECK(error_of(prefix + "[5s]}]}") ==
          "t.yaml:1:53: shutdown: expected brutal_kill, infinity or a duration such as 5s, "
          "found a list");
  }

  TEST_CASE("normal_exit") {
    const std::string prefix = "tree: {children: [{name: a, command: [a], normal_exit: ";
    CHECK(error_of(prefix + "[256]}]}") ==
          "t.yaml:1:57: normal_exit: must be at most 255, found '256'");
    CHECK(error_of(prefix + "[-1]}]}") ==
          "t.yaml:1:57: normal_exit: must be at least 0, found '-1'");
    CHECK(error_of(prefix + "[SIGTREM]}]}") ==
          "t.yaml:1:57: normal_exit: expected an exit code (0-255) or a signal name such as "
          "SIGTERM, found 'SIGTREM' (did you mean 'SIGTERM'?)");
    CHECK(error_of(prefix + "[hup2]}]}") ==
          "t.yaml:1:57: normal_exit: expected an exit code (0-255) or a signal name such as "
          "SIGTERM, found 'hup2' (did you mean 'SIGHUP'?)");
    CHECK(error_of(prefix + "3}]}") ==
          "t.yaml:1:56: normal_exit: expected a list of exit codes and signal names, found a "
          "number (write [3])");
    CHECK(error_of(prefix + "{a: 1}}]}") ==
          "t.yaml:1:56: normal_exit: expected a list of exit codes and signal names, found a "
          "mapping");
  }

  TEST_CASE("env") {
    const std::string prefix = "tree: {children: [{name: a, command: [a], env: ";
    CHECK(error_of(prefix + "[A=1]}]}") ==
          "t.yaml:1:48: env: expected a mapping of NAME: value, found a list");
    CHECK(error_of(prefix + "{A=1: x}}]}") ==
          "t.yaml:1:49: env: 'A=1' is not a variable name (it must be non-empty, without '=')");
    CHECK(error_of(prefix + "{'': x}}]}") ==
          "t.yaml:1:49: env: '' is not a variable name (it must be non-empty, without '=')");
    CHECK(error_of(prefix + "{A: }}]}") ==
          "t.yaml:1:49: env.A: expected a string, found nothing (write '' for an empty value)");
    CHECK(error_of(prefix + "{A: [1]}}]}") ==
          "t.yaml:1:52: env.A: expected a string, found a list");
  }

  TEST_CASE("cwd") {
    const std::string prefix = "tree: {children: [{name: a, command: [a], cwd: ";
    CHECK(error_of(prefix + "~/srv}]}") ==
          "t.yaml:1:48: cwd: '~' is not expanded: write an absolute path");
    CHECK(error_of(prefix + "''}]}") == "t.yaml:1:48: cwd: must not be empty");
    CHECK(error_of(prefix + "[a]}]}") == "t.yaml:1:48: cwd: expected a string, found a list");
  }

  TEST_CASE("backoff") {
    const std::string prefix = "tree: {backoff: ";
    CHECK(error_of(prefix + "fast}") ==
          "t.yaml:1:17: backoff: expected a mapping with initial, max, factor and reset_after, "
          "found a string");
    CHECK(error_of(prefix + "{initial: 0s}}") ==
          "t.yaml:1:27: backoff.initial: must be longer than 0s, found '0s'");
    CHECK(error_of(prefix + "{initial: 1s, max: 500ms}}") ==
          "t.yaml:1:36: backoff.max: must not be shorter than initial (1s), found '500ms'");
    CHECK(error_of(prefix + "{initial: 1m}}") ==
          "t.yaml:1:27: backoff.initial: longer than the default max (30s): set max too");
    CHECK(error_of(prefix + "{factor: 0.5}}") ==
          "t.yaml:1:26: backoff.factor: must be at least 1, found '0.5'");
    CHECK(error_of(prefix + "{factor: double}}") ==
          "t.yaml:1:26: backoff.factor: expected a number, found 'double'");
    CHECK(error_of(prefix + "{reset_after: 0s}}") ==
          "t.yaml:1:31: backoff.reset_after: must be longer than 0s, found '0s'");
    CHECK(error_of(prefix + "{max: 10}}") ==
          "t.yaml:1:23: backoff.max: expected a duration such as 5s, 250ms or 1m30s, found '10' "
          "(a bare number needs a unit: write 10s or 10000ms)");
  }

  TEST_CASE("errors deep in the tree keep their position") {
    CHECK(error_of(R"(
tree:
  children:
    - name: app
      children:
        - name: inner
          children:
            - name: leaf
              command: [a]
              restart: temporry
)") == "t.yaml:9:24: restart: expected one of permanent, transient, temporary, found "
       "'temporry' (did you mean 'temporary'?)");
  }
}

TEST_SUITE("loader: files") {
  TEST_CASE("unreadable files") {
    CHECK_THROWS_WITH_AS(load_file("/nonexistent/otpd.yaml"),
                         "/nonexistent/otpd.yaml: cannot read: No such file or directory",
                         ConfigError);
    CHECK_THROWS_WITH_AS(load_file("/"), "/: cannot read: Is a directory", ConfigError);
  }

  TEST_CASE("load_file resolves cwd against the file's directory and names the file") {
    const auto dir = std::filesystem::temp_directory_path() / "otpd-test-config";
    std::filesystem::create_directories(dir / "sub");
    const auto path = dir / "x.yaml";
    std::ofstream(path) << "tree:\n  children:\n    - {name: a, command: [a], cwd: sub}\n"
                           "    - {name: b, command: [b], restart: bogus}\n";
    try {
      load_file(path.string());
      FAIL("expected a ConfigError");
    } catch (const ConfigError& error) {
      CHECK(error.where() == SourceLocation{path.string(), 4, 40});
    }
    std::ofstream(path) << "tree:\n  children:\n    - {name: a, command: [a], cwd: sub}\n";
    const Config config = load_file(path.string());
    CHECK(config.file == path.string());
    CHECK(only_child(config).process().cwd == (dir / "sub").string());
    std::filesystem::remove_all(dir);
  }

  TEST_CASE("every example loads") {
    const auto dir = examples_dir();
    REQUIRE(std::filesystem::is_directory(dir));
    int loaded = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".yaml") continue;
      // Its servers' users come with their packages (scripts/install-deps --tests).
      if (entry.path().filename() == "stack.yaml" &&
          (getpwnam("redis") == nullptr || getpwnam("postgres") == nullptr)) {
        MESSAGE("stack.yaml not loaded: no user redis or postgres here");
        continue;
      }
      CAPTURE(entry.path().string());
      CHECK_NOTHROW(load_file(entry.path().string()));
      ++loaded;
    }
    CHECK(loaded >= 4);
  }

  TEST_CASE("demo.yaml is the tree the README describes") {
    const Config config = load_file((examples_dir() / "demo.yaml").string());
    const auto& children = config.tree.children;
    REQUIRE(children.size() == 5);
    CHECK(children[0].process().env ==
          std::vector<std::pair<std::string, std::string>>{{"TZ", "UTC"}});
    CHECK(children[2].restart == RestartType::transient);
    CHECK(children[2].process().cwd == "/tmp");
    CHECK(children[3].restart == RestartType::temporary);
    REQUIRE(children[4].is_supervisor());
    CHECK(children[4].supervisor().strategy == Strategy::rest_for_one);
    CHECK(children[4].supervisor().children.size() == 3);
  }

  TEST_CASE("web.yaml") {
    const Config config = load_file((examples_dir() / "web.yaml").string());
    const auto& db = config.tree.children.at(0);
    CHECK(db.process().argv == std::vector<std::string>{"/usr/bin/redis-server", "--port", "6390"});
    CHECK(db.process().normal_exit_codes == std::vector<int>{0, 3});
    CHECK(db.process().normal_exit_signals == std::vector<int>{signal_number("SIGTERM")});
    const auto& app = config.tree.children.at(2);
    REQUIRE(app.is_supervisor());
    CHECK(app.supervisor().strategy == Strategy::rest_for_one);
    const auto api_cwd = std::filesystem::path(app.supervisor().children.at(0).process().cwd.str());
    CHECK(api_cwd.is_absolute());
    CHECK(api_cwd.filename() == "examples");
  }
}

TEST_SUITE("suggest") {
  TEST_CASE("edit distance counts a swap of neighbours as one edit") {
    CHECK(edit_distance("command", "command") == 0);
    CHECK(edit_distance("comand", "command") == 1);
    CHECK(edit_distance("cmomand", "command") == 1);
    CHECK(edit_distance("Command", "command") == 0);
    CHECK(edit_distance("", "abc") == 3);
    CHECK(edit_distance("kitten", "sitting") == 3);
  }

  TEST_CASE("nearest gives up when nothing is close") {
    const std::vector<std::string_view> keys{"name", "command", "shell", "children"};
    CHECK(nearest("comand", keys) == "command");
    CHECK(nearest("nmae", keys) == "name");
    CHECK(nearest("childern", keys) == "children");
    CHECK_FALSE(nearest("xyz", keys).has_value());
    CHECK_FALSE(nearest("ab", {"xy"}).has_value());
    CHECK_FALSE(nearest("anything", {}).has_value());
    // Within max(2, length / 3) edits: 4 edits are allowed for 12 letters, not 5.
    CHECK(nearest("abcdefghijkl", {"abcdefghwxyz"}) == "abcdefghwxyz");
    CHECK_FALSE(nearest("abcdefghijkl", {"abcdefgvwxyz"}).has_value());
    CHECK(did_you_mean("shel", keys) == " (did you mean 'shell'?)");
    CHECK(did_you_mean("qqqq", keys) == "");
  }
}

TEST_SUITE("signals") {
  TEST_CASE("names and numbers") {
    CHECK(signal_name(15) == "SIGTERM");
    CHECK(signal_name(9) == "SIGKILL");
    CHECK(signal_name(1) == "SIGHUP");
    CHECK(signal_name(31) == "SIGSYS");
    CHECK(signal_name(64) == "signal 64");
    CHECK(signal_name(0) == "signal 0");
    CHECK(signal_number("SIGTERM") == 15);
    CHECK(signal_number("term") == 15);
    CHECK(signal_number("SigUsr1") == 10);
    CHECK(signal_number("15") == 15);
    CHECK(signal_number("SIGIOT") == 6);
    CHECK(signal_number("SIGRTMIN") == SIGRTMIN);
    CHECK(signal_number("RTMIN+2") == SIGRTMIN + 2);
    CHECK(signal_number("SIGRTMAX-1") == SIGRTMAX - 1);
    CHECK(signal_number("SIGRTMIN+99") == 0);
    CHECK(signal_number("0") == 0);
    CHECK(signal_number("65") == 0);
    CHECK(signal_number("SIGNOPE") == 0);
    CHECK(signal_number("") == 0);
  }

  TEST_CASE("every standard signal round-trips") {
    for (int signo = 1; signo <= 31; ++signo) {
      CAPTURE(signo);
      CHECK(signal_number(signal_name(signo)) == signo);
    }
  }
}

TEST_SUITE("spec") {
  TEST_CASE("to_string") {
    CHECK(std::string(to_string(Strategy::rest_for_one)) == "rest_for_one");
    CHECK(std::string(to_string(RestartType::transient)) == "transient");
    CHECK(to_string(Shutdown::brutal_kill()) == "brutal_kill");
    CHECK(to_string(Shutdown::infinity()) == "infinity");
    CHECK(to_string(Shutdown::after(1500ms)) == "1s500ms");
  }
}

TEST_SUITE("control") {
  const char* const kTree = "tree:\n  children: []\n";

  TEST_CASE("absent: the default socket and no groups") {
    const Config config = load(kTree);
    CHECK(config.control == ControlSpec{});
  }

  TEST_CASE("socket, group and read_group") {
    const Config config = load(std::string(kTree) + R"(control:
  socket: /run/app/otpd.sock
  group: ops
  read_group: monitoring
)");
    CHECK(config.control.socket == "/run/app/otpd.sock");
    REQUIRE(config.control.group);
    CHECK(config.control.group->name == "ops");
    CHECK(config.control.group->where == SourceLocation{"t.yaml", 5, 10});
    REQUIRE(config.control.read_group);
    CHECK(config.control.read_group->name == "monitoring");
  }

  TEST_CASE("a relative socket path is relative to the config file") {
    const Config config = load(std::string(kTree) + "control: {socket: run/../otpd.sock}\n");
    CHECK(config.control.socket == "/srv/app/otpd.sock");
  }

  TEST_CASE("errors name the place and what was expected") {
    CHECK(error_of(std::string(kTree) + "control: /run/otpd.sock\n") ==
          "t.yaml:3:10: control: expected a mapping with socket, group and read_group, found "
          "a string");
    CHECK(error_of(std::string(kTree) + "control:\n  sokcet: /x\n") ==
          "t.yaml:4:3: unknown key 'sokcet' (did you mean 'socket'?)");
    CHECK(error_of(std::string(kTree) + "control:\n  group: ''\n") ==
          "t.yaml:4:10: control.group: must not be empty");
    CHECK(error_of(std::string(kTree) + "control:\n  read_group: [a]\n") ==
          "t.yaml:4:15: control.read_group: expected a string, found a list");
  }

  TEST_CASE("a socket path longer than sun_path allows is refused") {
    const std::string path = "/" + std::string(120, 'x');
    CHECK(error_of(std::string(kTree) + "control:\n  socket: " + path + "\n") ==
          "t.yaml:4:11: control.socket: '" + path +
              "' is 121 bytes long; a Unix socket path may have at most 107");
  }
}

TEST_SUITE("auto_shutdown") {
  TEST_CASE("significant children of an auto_shutdown supervisor") {
    const Config config = load(R"(
tree:
  auto_shutdown: any_significant
  children:
    - {name: main, command: [a], restart: temporary, significant: true}
    - {name: side, command: [b]}
    - name: inner
      auto_shutdown: all_significant
      restart: transient
      significant: true
      children:
        - {name: x, command: [x], restart: transient, significant: true}
)");
    CHECK(config.tree.auto_shutdown == AutoShutdown::any_significant);
    CHECK(config.tree.children[0].significant);
    CHECK_FALSE(config.tree.children[1].significant);
    CHECK(config.tree.children[2].significant);
    CHECK(config.tree.children[2].supervisor().auto_shutdown == AutoShutdown::all_significant);
    CHECK(load("tree: {children: []}\n").tree.auto_shutdown == AutoShutdown::never);
  }

  TEST_CASE("auto_shutdown may be written after the children") {
    const Config config = load(R"(
tree:
  children:
    - {name: main, command: [a], restart: transient, significant: true}
  auto_shutdown: all_significant
)");
    CHECK(config.tree.children[0].significant);
  }

  TEST_CASE("significant: false is allowed anywhere") {
    CHECK_FALSE(only_child(load("tree: {children: [{name: a, command: [a], significant: "
                                "false}]}\n"))
                    .significant);
  }

  TEST_CASE("errors") {
    CHECK(error_of(R"(
tree:
  auto_shutdown: any_significant
  children:
    - {name: a, command: [a], significant: true}
)") == "t.yaml:4:31: significant: a permanent child is always restarted, so its end can "
       "never shut the supervisor down (make it transient or temporary)");
    CHECK(error_of(R"(
tree:
  children:
    - name: a
      command: [a]
      restart: temporary
      significant: true
)") == "t.yaml:6:7: significant: the supervisor's auto_shutdown is 'never', so a significant "
       "child would change nothing (set auto_shutdown to any_significant or all_significant "
       "on the supervisor)");
    CHECK(error_of("tree: {auto_shutdown: any_signficant, children: []}\n") ==
          "t.yaml:1:23: auto_shutdown: expected one of never, any_significant, all_significant, "
          "found 'any_signficant' (did you mean 'any_significant'?)");
    CHECK(error_of(R"(
tree:
  auto_shutdown: any_significant
  children:
    - {name: a, command: [a], restart: temporary, significant: yes}
)") == "t.yaml:4:64: significant: expected true or false, found 'yes'");
    CHECK(error_of("tree: {significant: true}\n") ==
          "t.yaml:1:8: 'significant' applies only to children, not to the root 'tree'");
  }
}

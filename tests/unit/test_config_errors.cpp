// Every error of a file in one run, up to a bound, without errors that only
// repeat another; indentation mistakes explained in the file's own words.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "config/loader.hpp"

using namespace otpd::config;

namespace {

std::string strip_first_newline(const std::string& yaml) {
  return !yaml.empty() && yaml.front() == '\n' ? yaml.substr(1) : yaml;
}

std::string errors_of(const std::string& yaml) {
  try {
    load_string(strip_first_newline(yaml), "t.yaml", "/tmp");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(loaded without error)";
}

}  // namespace

TEST_SUITE("config: all errors") {
  TEST_CASE("every error of a file is reported in one run, in file order") {
    CHECK(errors_of(R"(
tree:
  strategy: one_for_none
  children:
    - name: a
      comand: [x]
    - name: b
      command: [y]
      restart: permanant
    - name: c
      command: z
    - name: d
      command: [d]
)") == "t.yaml:2:13: strategy: expected one of one_for_one, one_for_all, rest_for_one, "
       "found 'one_for_none' (did you mean 'one_for_one'?)\n"
       "t.yaml:5:7: unknown key 'comand' (did you mean 'command'?)\n"
       "t.yaml:8:16: restart: expected one of permanent, transient, temporary, found "
       "'permanant' (did you mean 'permanent'?)\n"
       "t.yaml:10:16: command: expected a list of strings, found a string (write [program, "
       "arg, ...], or use 'shell' for a command line)");
  }

  TEST_CASE("the errors of nested supervisors and of other sections come too") {
    const std::string all = errors_of(R"(
logs: {keep: -1}
tree:
  children:
    - name: app
      strategy: rest_for_none
      children:
        - name: api
          command: [api]
          shutdown: never
)");
    CHECK(all.find("t.yaml:1:14: logs.keep:") != std::string::npos);
    CHECK(all.find("t.yaml:5:17: strategy:") != std::string::npos);
    CHECK(all.find("t.yaml:9:21: shutdown:") != std::string::npos);
    CHECK(std::count(all.begin(), all.end(), '\n') == 2);
  }

  TEST_CASE("at most 20 errors, then a line that says reading stopped") {
    std::string yaml = "tree:\n  children:\n";
    for (int i = 0; i < 50; ++i) {
      yaml += "    - name: c" + std::to_string(i) + "\n      comand: [x]\n";
    }
    const std::string all = errors_of(yaml);
    CHECK(std::count(all.begin(), all.end(), '\n') == 20);
    CHECK(all.find("t.yaml:4:7: unknown key 'comand'") == 0);
    CHECK(all.substr(all.rfind('\n') + 1) == "t.yaml: too many errors; stopped after 20");
  }

  TEST_CASE("a mistake is reported once, not again through what it left out") {
    // A misspelt 'command' is not also a child without a command.
    CHECK(errors_of(R"(
tree:
  children:
    - name: web
      comand: [a]
)") == "t.yaml:4:7: unknown key 'comand' (did you mean 'command'?)");
    // A misspelt 'tree' is not also a missing 'tree'.
    CHECK(errors_of("tre: {}\n") == "t.yaml:1:1: unknown key 'tre' (did you mean 'tree'?)");
    // A supervisor whose auto_shutdown is wrong: its significant child is
    // not blamed for it.
    CHECK(errors_of(R"(
tree:
  auto_shutdown: any_signficant
  children:
    - name: app
      command: [app]
      restart: temporary
      significant: true
)") == "t.yaml:2:18: auto_shutdown: expected one of never, any_significant, all_significant, "
       "found 'any_signficant' (did you mean 'any_significant'?)");
    // A sibling with errors is not reported missing by a reference to it.
    const std::string refs = errors_of(R"(
tree:
  children:
    - name: web
      command: [web]
      restart: sometimes
    - name: watch
      worker: {kind: health_check, guards: web, tcp: 8080}
)");
    CHECK(refs.find("restart:") != std::string::npos);
    CHECK(refs.find("guards") == std::string::npos);
  }

  TEST_CASE("a start_child spec reports all of its errors too") {
    try {
      load_child_string("{name: j, command: x, restart: sometimes}", "spec", "/tmp", Output::log);
      FAIL("loaded");
    } catch (const ConfigError& error) {
      const std::string all = error.what();
      CHECK(all.find("spec:1:20: command:") != std::string::npos);
      CHECK(all.find("spec:1:32: restart:") != std::string::npos);
    }
  }
}

TEST_SUITE("config: indentation") {
  TEST_CASE("a key indented between two levels names both") {
    CHECK(errors_of(R"(
tree:
  children:
    - name: a
      command: [x]
     restart: transient
)") == "t.yaml:5:6: invalid YAML: line 5 is indented 5 spaces, which lines up with no line "
       "above it; did you mean 6 spaces, like 'command' on line 4 or 4 spaces, like '- name' "
       "on line 3?");
  }

  TEST_CASE("a key indented under a complete value") {
    CHECK(errors_of(R"(
tree:
  children:
    - name: a
      command: [x]
       restart: transient
)") == "t.yaml:5:8: invalid YAML: line 5 is indented more than 'command' on line 4, whose "
       "value is complete; to add it to the same mapping, line it up with 'command' (6 "
       "spaces)");
  }

  TEST_CASE("a list entry at the indentation of a mapping's keys") {
    CHECK(errors_of(R"(
tree:
  children:
  - name: a
    command: [x]
    - name: b
      command: [y]
)") == "t.yaml:5:5: invalid YAML: a list entry at the indentation of 'command' on line 4, a "
       "key of a mapping, not an entry of a list; to add an entry to the list of line 3, "
       "indent it like that one (2 spaces)");
  }

  TEST_CASE("a key at the '-' of a list entry") {
    CHECK(errors_of(R"(
tree:
  children:
    - name: a
      command: [x]
    command: [y]
)") == "t.yaml:5:5: invalid YAML: 'command' lines up with the '-' of the list entry on line "
       "3; a key of that entry lines up with its first key (6 spaces)");
  }

  TEST_CASE("a top-level section indented by one") {
    CHECK(errors_of("tree:\n  strategy: one_for_one\n children: []\n") ==
          "t.yaml:3:2: invalid YAML: line 3 is indented 1 space, which lines up with no line "
          "above it; did you mean 2 spaces, like 'strategy' on line 2 or 0 spaces, like 'tree' "
          "on line 1?");
  }

  TEST_CASE("a tab") {
    CHECK(errors_of("tree:\n\tchildren: []\n") ==
          "t.yaml:2:1: invalid YAML: a tab in the indentation of line 2; YAML indents with "
          "spaces only");
  }

  TEST_CASE("a key meant under an empty value above it") {
    const std::string all = errors_of(R"(
tree:
  children:
    - name: a
      command: [x]
      env:
      FOO: bar
)");
    CHECK(all ==
          "t.yaml:5:7: env: expected a mapping of NAME: value, found nothing\n"
          "t.yaml:6:7: unknown key 'FOO' (to put it under 'env' on line 5, indent it more than "
          "'env')");
  }

  TEST_CASE("comments and blank lines do not count") {
    CHECK(errors_of(R"(
tree:
  children:

    # the only child
    - name: a
      command: [x]
        # an aside
     restart: transient
)")
              .find("line 8 is indented 5 spaces") != std::string::npos);
  }
}

// Config text nobody vouches for: every input ends in a ConfigError with a
// place, within limits of memory and time, never an abort or a hang.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <string>

#include "config/loader.hpp"
#include "config/suggest.hpp"
#include "temp_dir.hpp"

using namespace otpd::config;

namespace {

std::string error_of(const std::string& yaml) {
  try {
    load_string(yaml, "t.yaml", "/srv/app");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(loaded)";
}

std::string spec_error_of(const std::string& text) {
  try {
    load_child_string(text, "spec", "/srv/app", Output::discard);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(loaded)";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string agent_with_value(const std::string& value) {
  return "tree:\n  children:\n    - name: w\n      worker: {kind: agent, value: " + value + "}\n";
}

// Nine levels of ten aliases each: 10^9 values once expanded.
std::string alias_bomb() {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level < 9; ++level) {
    const std::string below = "*a" + std::to_string(level - 1);
    text += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [";
    for (int i = 0; i < 10; ++i) text += (i ? ", " : "") + below;
    text += "]\n";
  }
  return text;
}

}  // namespace

TEST_SUITE("config bounds") {
  TEST_CASE("misplaced commas that yaml-cpp reads forever are errors at their place") {
    CHECK(error_of(",") == "t.yaml:1:1: invalid YAML: unexpected ','");
    CHECK(error_of("{a: b},c") == "t.yaml:1:7: invalid YAML: unexpected ','");
    CHECK(error_of("tree:\n  children: []\n,\n") ==
          "t.yaml:3:1: invalid YAML: end of map not found");
    CHECK(spec_error_of(",") == "spec:1:1: invalid YAML: unexpected ','");
    CHECK(spec_error_of("{name: a, command: [a]},") == "spec:1:24: invalid YAML: unexpected ','");
  }

  TEST_CASE("a second document is refused, a stuck one is not taken for it") {
    CHECK(error_of("tree: {children: []}\n---\ntree: {children: []}\n") ==
          "t.yaml:3:1: only one YAML document is allowed; remove this second one");
  }

  TEST_CASE("aliases may not expand beyond a bound") {
    const std::string bomb = alias_bomb();
    CHECK(contains(error_of(bomb + "tree: {children: []}\n"),
                   "invalid YAML: the document holds more than 2000000 values once its aliases "
                   "are expanded"));
    // The same bomb for an agent's value, and in a spec sent to start_child.
    CHECK(contains(error_of(bomb + "tree:\n  children:\n    - name: w\n"
                                   "      worker: {kind: agent, value: *a8}\n"),
                   "values once its aliases are expanded"));
    CHECK(contains(spec_error_of(bomb), "more than 100000 values once its aliases are expanded"));
  }

  TEST_CASE("shared values within the bound still load") {
    std::string text = "defaults: &d {command: [x], restart: transient}\n";
    CHECK(contains(error_of(text + "tree: {children: []}"), "unknown key 'defaults'"));
  }

  TEST_CASE("an alias inside the value it names is refused, not followed round") {
    CHECK(error_of("tree: &t {children: [*t]}") ==
          "t.yaml:1:22: invalid YAML: this alias refers to a value that contains it");
    CHECK(error_of(agent_with_value("&v [1, *v]")) ==
          "t.yaml:4:43: invalid YAML: this alias refers to a value that contains it");
  }

  TEST_CASE("nesting is bounded before yaml-cpp or a reader recurses") {
    const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
    CHECK(error_of(deep) ==
          "t.yaml:1:129: invalid YAML: mappings and lists are nested more than "
          "128 deep");
    CHECK(contains(error_of(agent_with_value(std::string(200, '[') + std::string(200, ']'))),
                   "nested more than 128 deep"));
    std::string block;
    for (int level = 0; level < 300; ++level) block += std::string(level, ' ') + "a:\n";
    CHECK(contains(error_of(block), "nested more than 128 deep"));
  }

  TEST_CASE("text beyond the size limits is refused unread") {
    CHECK(spec_error_of(std::string((1 << 20) + 1, '#')) ==
          "spec: the text is larger than 1 MiB; nothing was read");
    CHECK(error_of(std::string((16 << 20) + 1, '#')) ==
          "t.yaml: the text is larger than 16 MiB; nothing was read");
  }

  TEST_CASE("a JSON value must be UTF-8, and says where it is not") {
    CHECK(error_of(agent_with_value("{limit: \"\xff\xfe\"}")) ==
          "t.yaml:4:44: worker.value.limit: not valid UTF-8 text, which a JSON value must be");
    CHECK(error_of(agent_with_value("{\"\xc0\xaf\": 1}")) ==
          "t.yaml:4:37: worker.value.\xc0\xaf: not valid UTF-8 text, which a JSON value must be");
    // Overlong forms, surrogates and truncated sequences.
    for (const char* bad : {"\xe0\x80\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
      CHECK(contains(error_of(agent_with_value(std::string("[\"") + bad + "\"]")),
                     "not valid UTF-8"));
    }
    CHECK(error_of(agent_with_value("{name: \"caf\xc3\xa9 \xf0\x9f\x98\x80\"}")) == "(loaded)");
  }

  // Checked pair by pair, these would take hours; the test's time limit
  // ends them.
  TEST_CASE("a mapping of 100,000 keys is checked for duplicates in one pass") {
    std::string env;
    for (int i = 0; i < 100'000; ++i) env += "        V" + std::to_string(i) + ": x\n";
    const std::string head = "tree:\n  children:\n    - name: a\n      command: [a]\n      env:\n";
    const Config config = load_string(head + env, "t.yaml", "/srv/app");
    CHECK(config.tree.children.front().process().env.size() == 100'000);
    CHECK(error_of(head + env + "        V7: y\n") ==
          "t.yaml:100006:9: duplicate key 'V7' (first at line 13)");
  }

  TEST_CASE("ten thousand file watches are checked against their siblings in one pass") {
    std::string children;
    for (int i = 0; i < 10'000; ++i) {
      const std::string n = std::to_string(i);
      children += "    - {name: p" + n + ", command: [p]}\n";
      children += "    - {name: w" + n + ", worker: {kind: file_watch, paths: [/], target: p" + n +
                  ", action: {signal: HUP}}}\n";
    }
    const Config config = load_string("tree:\n  children:\n" + children, "t.yaml", "/srv/app");
    CHECK(config.tree.children.size() == 20'000);
    CHECK(
        contains(error_of("tree:\n  children:\n" + children +
                          "    - {name: w, worker: {kind: file_watch, paths: [/], target: q1}}\n"),
                 "t.yaml:20003:64: worker.target: 'q1' is not a child beside 'w'"));
  }

  // A "did you mean" compares every pair of characters: over megabytes of
  // key, gigabytes and minutes.
  TEST_CASE("a key of any length is named cut short and taken for no typo") {
    const std::string key(4 << 20, 'k');
    CHECK(error_of("tree: {children: []}\n? " + key + "\n: 1\n") ==
          "t.yaml:2:3: unknown key '" + std::string(40, 'k') +
              "...' (valid keys: tree, control, logs, workers, http, hooks)");
    const std::string name(200, 'n');
    CHECK_FALSE(nearest(name + "a", {name + "b"}));
    CHECK(nearest(std::string(100, 'n') + "a", {std::string(100, 'n') + "b"}));
  }

  TEST_CASE("an indentation mistake after a million lines is explained all the same") {
    std::string text = "tree:\n  children:\n    - name: a\n      shell: >\n";
    for (int i = 0; i < 1'000'000; ++i) text += "        x\n";
    text += "     restart: transient\n";
    CHECK(error_of(text) ==
          "t.yaml:1000005:6: invalid YAML: line 1000005 is indented 5 spaces, which lines up "
          "with no line above it; did you mean 6 spaces, like 'shell' on line 4 or 4 spaces, "
          "like '- name' on line 3?");
  }

  TEST_CASE("env files: only regular files, and not too large") {
    otpd::test::TempDir dir;
    const std::string fifo = dir.path("fifo");
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    const std::string head = "tree:\n  children:\n    - name: a\n      command: [a]\n";
    CHECK(error_of(head + "      env_file: " + fifo + "\n") ==
          "t.yaml:5:17: env_file: cannot read " + fifo + ": not a regular file");
    CHECK(error_of(head + "      env_file: /dev/zero\n") ==
          "t.yaml:5:17: env_file: cannot read /dev/zero: not a regular file");
    dir.write("big.env", std::string((1 << 20) + 1, '#'));
    CHECK(error_of(head + "      env_file: " + dir.path("big.env") + "\n") ==
          "t.yaml:5:17: env_file: cannot read " + dir.path("big.env") + ": larger than 1 MiB");
  }

  TEST_CASE("a config file that is a FIFO or a device is refused, not waited on") {
    otpd::test::TempDir dir;
    const std::string fifo = dir.path("fifo.yaml");
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH_AS(load_file(fifo), (fifo + ": cannot read: not a regular file").c_str(),
                         ConfigError);
    CHECK_THROWS_WITH_AS(load_file("/dev/zero"), "/dev/zero: cannot read: not a regular file",
                         ConfigError);
  }
}

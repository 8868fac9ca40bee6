// The `logs:` section and the per-process `output` and `streams` keys.
#include <doctest/doctest.h>

#include <string>

#include "config/loader.hpp"
#include "config/logs_reader.hpp"

using namespace otpd::config;

namespace {

Config load(const std::string& yaml) {
  return load_string(yaml, "t.yaml", "/srv/app");
}

const ProcessSpec& process(const Config& config, std::size_t i) {
  return config.tree.children.at(i).process();
}

std::string error_of(const std::string& yaml) {
  try {
    load(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_SUITE("logs config") {
  TEST_CASE("sizes with units") {
    CHECK(parse_size("4096") == 4096u);
    CHECK(parse_size("10B") == 10u);
    CHECK(parse_size("512KiB") == 512u * 1024);
    CHECK(parse_size("512K") == 512u * 1024);
    CHECK(parse_size("2KB") == 2000u);
    CHECK(parse_size("10MiB") == 10u * 1024 * 1024);
    CHECK(parse_size("10 MiB") == 10u * 1024 * 1024);
    CHECK(parse_size("3MB") == 3'000'000u);
    CHECK(parse_size("1G") == 1024ull * 1024 * 1024);
    CHECK(parse_size("1GiB") == 1024ull * 1024 * 1024);
    CHECK_FALSE(parse_size(""));
    CHECK_FALSE(parse_size("MiB"));
    CHECK_FALSE(parse_size("10 parsecs"));
    CHECK_FALSE(parse_size("-1K"));
    CHECK_FALSE(parse_size("1.5M"));
    CHECK_FALSE(parse_size("99999999999999999999"));
    CHECK_FALSE(parse_size("99999999999G"));
  }

  TEST_CASE("defaults without a logs section") {
    const Config config = load("tree:\n  children:\n    - name: a\n      command: [x]\n");
    CHECK(config.logs.dir.empty());
    CHECK(config.logs.max_size == 10u * 1024 * 1024);
    CHECK(config.logs.keep == 5);
    CHECK(config.logs.buffer == 1000);
    CHECK(config.logs.output == Output::log);
    CHECK(config.logs.streams == Streams::merged);
    CHECK(process(config, 0).output == Output::log);
    CHECK(process(config, 0).streams == Streams::merged);
  }

  TEST_CASE("streams: merged by default, apart for a child that asks, or for all") {
    const std::string children =
        "tree:\n"
        "  children:\n"
        "    - name: a\n      command: [x]\n"
        "    - name: b\n      command: [x]\n      streams: separate\n"
        "    - name: s\n      children:\n        - name: c\n          command: [x]\n";
    const Config merged = load(children);
    CHECK(process(merged, 0).streams == Streams::merged);
    CHECK(process(merged, 1).streams == Streams::separate);
    const Config apart = load(children + "logs:\n  streams: separate\n");
    CHECK(apart.logs.streams == Streams::separate);
    CHECK(process(apart, 0).streams == Streams::separate);
    CHECK(apart.tree.children.at(2).supervisor().children.at(0).process().streams ==
          Streams::separate);
    // A change of streams is a change of the process (a reload restarts it).
    CHECK_FALSE(merged.tree == apart.tree);
    CHECK(error_of(children + "logs:\n  streams: seperate\n").find("did you mean 'separate'") !=
          std::string::npos);
    CHECK(error_of("tree:\n  children:\n    - name: a\n      command: [x]\n      streams: 2\n")
              .starts_with("t.yaml:5:16: streams: expected one of merged, separate"));
  }

  TEST_CASE("every logs key, and the default output filled in after the tree") {
    const Config config = load(
        "tree:\n"
        "  children:\n"
        "    - name: a\n      command: [x]\n"
        "    - name: b\n      command: [x]\n      output: inherit\n"
        "    - name: s\n      children:\n        - name: c\n          command: [x]\n"
        "logs:\n  dir: var/log\n  max_size: 1MiB\n  keep: 3\n  output: file\n  buffer: 50\n");
    CHECK(config.logs.dir == "/srv/app/var/log");
    CHECK(config.logs.max_size == 1024u * 1024);
    CHECK(config.logs.keep == 3);
    CHECK(config.logs.buffer == 50);
    CHECK(process(config, 0).output == Output::file);
    CHECK(process(config, 1).output == Output::inherit);
    CHECK(config.tree.children.at(2).supervisor().children.at(0).process().output == Output::file);
  }

  TEST_CASE("a different output makes a different process spec") {
    const Config a = load("tree:\n  children:\n    - name: a\n      command: [x]\n");
    const Config b =
        load("tree:\n  children:\n    - name: a\n      command: [x]\n      output: discard\n");
    CHECK_FALSE(a.tree == b.tree);
  }

  TEST_CASE("errors point at the value and suggest") {
    const std::string tree = "tree:\n  children: []\n";
    CHECK(error_of(tree + "logs:\n  max_size: 10 parsecs\n") ==
          "t.yaml:4:13: logs.max_size: expected a size such as 10MiB, 512KiB or 1G, found "
          "'10 parsecs'");
    CHECK(error_of(tree + "logs:\n  max_size: 100\n") ==
          "t.yaml:4:13: logs.max_size: must be at least 1KiB, found '100'");
    CHECK(error_of(tree + "logs:\n  keeep: 3\n").find("did you mean 'keep'") != std::string::npos);
    CHECK(error_of(tree + "logs:\n  output: files\n").find("did you mean 'file'") !=
          std::string::npos);
    CHECK(error_of(tree + "logs:\n  keep: -1\n").starts_with("t.yaml:4:9: logs.keep"));
    CHECK(error_of("tree:\n  children:\n    - name: a\n      command: [x]\n      output: lg\n")
              .find("did you mean 'log'") != std::string::npos);
    CHECK(error_of("tree:\n  output: log\n  children: []\n").starts_with("t.yaml:2:3:"));
    CHECK(error_of(tree + "logs: [x]\n").starts_with("t.yaml:3:"));
  }
}

// The command line: `otpd check`, usage errors and their exit codes.
#include <doctest/doctest.h>
#include <pwd.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "harness.hpp"

using namespace otpd::it;

namespace {

// Whether `err` starts with "FILE:LINE:COLUMN: " for the given line.
bool points_at(const std::string& err, const std::string& file, int line) {
  const std::regex where(std::regex_replace(file, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                         ":" + std::to_string(line) + R"(:[1-9][0-9]*: \S)");
  return std::regex_search(err, where, std::regex_constants::match_continuous);
}

}  // namespace

TEST_CASE("otpd check accepts every example config") {
  int checked = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(OTPD_SOURCE_DIR "/config/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    // Its servers' users come with their packages (scripts/install-deps --tests).
    if (entry.path().filename() == "stack.yaml" &&
        (getpwnam("redis") == nullptr || getpwnam("postgres") == nullptr)) {
      MESSAGE("stack.yaml not checked: no user redis or postgres here");
      continue;
    }
    const Result r = run_to_end({"check", entry.path().string()});
    const std::string shown = entry.path().string() + ": " + r.err;
    CHECK_MESSAGE(r.code == 0, shown);
    ++checked;
  }
  CHECK(checked > 0);
}

TEST_CASE("otpd check rejects a broken config with file:line:column") {
  Sandbox box;
  struct Broken {
    const char* what;
    const char* yaml;
    int line;
  };
  const Broken cases[] = {
      {"unknown strategy", "tree:\n  strategy: one_for_none\n  children: []\n", 2},
      {"bad duration", "tree:\n  period: 5 parsecs\n  children: []\n", 2},
      {"unknown key", "tree:\n  children:\n    - name: a\n      comand: [x]\n", 4},
      {"child without a name",
       "tree:\n  children:\n    - name: a\n      command: [x]\n    - command: [y]\n", 5},
      {"two bodies", "tree:\n  children:\n    - name: a\n      command: [x]\n      shell: y\n", 5},
      {"duplicate names",
       "tree:\n  children:\n    - name: a\n      command: [x]\n    - name: a\n      command: [y]\n",
       5},
      {"bad restart type",
       "tree:\n  children:\n    - name: a\n      command: [x]\n      restart: sometimes\n", 5},
      {"bad normal_exit",
       "tree:\n  children:\n    - name: a\n      command: [x]\n      normal_exit: [SIGNOPE]\n", 5},
      {"yaml syntax", "tree:\n  children: [\n", 0},
  };
  for (const Broken& c : cases) {
    const std::string what = c.what;
    CAPTURE(what);
    const std::string file = box.write("broken.yaml", c.yaml);
    const Result r = run_to_end({"check", file});
    CHECK(r.code == 1);
    if (c.line > 0) {
      CHECK_MESSAGE(points_at(r.err, file, c.line), r.err);
    } else {
      CHECK_MESSAGE(r.err.rfind(file + ":", 0) == 0, r.err);
    }
  }
}

TEST_CASE("a broken config keeps otpd from starting: exit 2") {
  Sandbox box;
  const std::string file = box.write("broken.yaml", "tree:\n  intensity: lots\n  children: []\n");
  const Result r = run_to_end({"--config", file, "--log-format", "json"});
  CHECK(r.code == 2);
  CHECK_MESSAGE(r.err.find(file + ":2:") != std::string::npos, r.err);
  CHECK(run_to_end({"--config", box.path("absent.yaml")}).code == 2);
}

TEST_CASE("usage errors exit 2") {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"--no-such-flag"},
           {"--config"},
           {"--config", "x.yaml", "--log-format", "xml"},
           {"check"},
           {"check", "a.yaml", "b.yaml"},
           {"--config", "x.yaml", "extra"},
       }) {
    const Result r = run_to_end(args);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    CHECK_MESSAGE(r.code == 2, shown);
    CHECK_MESSAGE(r.err.rfind("otpd: ", 0) == 0, shown << r.err);
    CHECK(r.out.empty());
    // The message and the usage lines, not the whole help.
    CHECK_MESSAGE(std::count(r.err.begin(), r.err.end(), '\n') <= 7, shown << r.err);
    CHECK_MESSAGE(r.err.find("Usage: otpd --config FILE") != std::string::npos, r.err);
    CHECK_MESSAGE(r.err.find("Run 'otpd --help'") != std::string::npos, r.err);
  }
}

TEST_CASE("--help and --version succeed") {
  const Result help = run_to_end({"--help"});
  CHECK(help.code == 0);
  CHECK(help.out.find("otpd --config FILE") != std::string::npos);
  const Result version = run_to_end({"--version"});
  CHECK(version.code == 0);
  CHECK(version.out.rfind("otpd ", 0) == 0);
}

TEST_CASE("otpd check reports every error of a file, and warns of programs it cannot run") {
  Sandbox box;
  const std::string broken = box.write("broken.yaml", R"(tree:
  strategy: one_for_none
  children:
    - name: a
      comand: [x]
    - name: b
      command: [y]
      restart: sometimes
)");
  const Result bad = run_to_end({"check", broken});
  CHECK(bad.code == 1);
  CHECK(bad.out.empty());
  CHECK_MESSAGE(
      bad.err == broken +
                     ":2:13: strategy: expected one of one_for_one, one_for_all, "
                     "rest_for_one, found 'one_for_none' (did you mean 'one_for_one'?)\n" +
                     broken + ":5:7: unknown key 'comand' (did you mean 'command'?)\n" + broken +
                     ":8:16: restart: expected one of permanent, transient, temporary, "
                     "found 'sometimes'\n",
      bad.err);

  box.write("script.sh", "#!/bin/sh\n");  // not executable
  const std::string valid = box.write("valid.yaml", R"(tree:
  children:
    - name: gone
      command: [otpd-no-such-program, --flag]
    - name: plain
      command: [./script.sh]
    - name: fine
      command: [sleep, "1"]
    - name: sh
      shell: "exec no-such-thing"
    - name: nightly
      worker: {kind: cron, every: 1h, command: [/nonexistent/backup]}
)");
  const Result warned = run_to_end({"check", valid});
  CHECK(warned.code == 0);  // valid all the same
  CHECK(warned.out == valid + ": ok (4 processes, 1 worker, 1 supervisor)\n");
  CHECK_MESSAGE(
      warned.err == valid +
                        ":3:7: warning: gone: command not found: otpd-no-such-program in the "
                        "child's PATH; it will fail to start\n" +
                        valid +
                        ":5:7: warning: plain: './script.sh' is not executable; it will fail to "
                        "start\n" +
                        valid +
                        ":11:7: warning: nightly: '/nonexistent/backup' does not exist; it will "
                        "fail to run\n",
      warned.err);
}

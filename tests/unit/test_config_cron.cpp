// `worker: {kind: cron}`: its settings, defaults, and errors at the line and
// column of the mistake (inside a schedule, at the offending field).
#include <doctest/doctest.h>

#include <string>

#include "config/loader.hpp"

using namespace otpd::config;
using namespace std::chrono_literals;

namespace {

// A tree whose one child `job` has the cron worker settings in `lines`, each
// written on its own line below `worker:` (line 5, `kind: cron`, comes first).
std::string cron_tree(const std::string& lines) {
  std::string yaml = "tree:\n  children:\n    - name: job\n      worker:\n";
  std::size_t start = 0;
  while (start < lines.size()) {
    const std::size_t end = lines.find('\n', start);
    yaml += "        " + lines.substr(start, end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return yaml;
}

CronSettings cron_of(const std::string& lines) {
  const Config config = load_string(cron_tree("kind: cron\n" + lines), "t.yaml", "/srv/app");
  const WorkerSpec& worker = config.tree.children.front().worker();
  REQUIRE(worker.kind() == WorkerKind::cron);
  return std::get<CronSettings>(worker.settings);
}

std::string cron_error(const std::string& lines) {
  try {
    load_string(cron_tree("kind: cron\n" + lines), "t.yaml", "/srv/app");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(loaded without error)";
}

}  // namespace

TEST_SUITE("config cron") {
  TEST_CASE("a schedule and a command, with the defaults") {
    const CronSettings cron = cron_of("schedule: \"*/5 * * * *\"\ncommand: [./backup, --quick]");
    REQUIRE(cron.schedule.has_value());
    CHECK(cron.schedule->text == "*/5 * * * *");
    CHECK(cron.command.argv == std::vector<std::string>{"./backup", "--quick"});
    CHECK_FALSE(cron.command.via_shell);
    CHECK(cron.command.cwd == "/srv/app");
    CHECK(cron.command.output == Output::log);
    CHECK(cron.timeout == Duration{1h});
    CHECK(cron.overlap == CronSettings::Overlap::skip);
    CHECK_FALSE(cron.run_at_start);
  }

  TEST_CASE("every, a shell command line, and every other setting") {
    const CronSettings cron = cron_of(
        "every: 30s\ncommand: \"date >> stamps\"\ntimeout: 10s\noverlap: queue\n"
        "run_at_start: true\ncwd: /tmp\nenv: {MODE: nightly}\noutput: discard");
    CHECK_FALSE(cron.schedule.has_value());
    CHECK(cron.every == Duration{30s});
    CHECK(cron.command.argv == std::vector<std::string>{"/bin/sh", "-c", "date >> stamps"});
    CHECK(cron.command.via_shell);
    CHECK(cron.timeout == Duration{10s});
    CHECK(cron.overlap == CronSettings::Overlap::queue);
    CHECK(cron.run_at_start);
    CHECK(cron.command.cwd == "/tmp");
    CHECK(cron.command.env ==
          std::vector<std::pair<std::string, std::string>>{{"MODE", "nightly"}});
    CHECK(cron.command.output == Output::discard);
  }

  TEST_CASE("timeout: infinity; overlap: kill; a macro") {
    const CronSettings cron = cron_of(
        "schedule: '@daily'\ncommand: [true]\ntimeout: infinity\n"
        "overlap: kill");
    CHECK_FALSE(cron.timeout.has_value());
    CHECK(cron.overlap == CronSettings::Overlap::kill);
    CHECK(cron.schedule->text == "@daily");
  }

  TEST_CASE("a schedule's error names the field and points at it") {
    // Line 7 is `schedule: ...`; its value starts at column 19.
    CHECK(cron_error("command: [true]\nschedule: \"*/5 61 * * *\"") ==
          "t.yaml:7:24: worker.schedule: hour field: 61 is out of range 0-23");
    CHECK(cron_error("command: [true]\nschedule: 0 0 * * fri-mon") ==
          "t.yaml:7:27: worker.schedule: day-of-week field: the range fri-mon goes backwards (5 "
          "is after 1); write it as two ranges");
    CHECK(cron_error("command: [true]\nschedule: '@dayly'") ==
          "t.yaml:7:20: worker.schedule: unknown macro @dayly; expected one of @yearly, "
          "@annually, @monthly, @weekly, @daily, @midnight or @hourly (did you mean '@daily'?)");
    CHECK(cron_error("command: [true]\nschedule: [0, 0]") ==
          "t.yaml:7:19: worker.schedule: expected a cron expression such as \"*/5 * * * *\" or "
          "a macro such as @daily, found a list");
  }

  TEST_CASE("schedule or every, exactly one; a command is required") {
    CHECK(cron_error("command: [true]\nschedule: '@daily'\nevery: 1m") ==
          "t.yaml:8:9: worker.every: cannot be combined with 'schedule': a cron job runs on a "
          "schedule or at an interval");
    CHECK(cron_error("command: [true]") ==
          "t.yaml:5:9: worker: a cron job needs 'schedule' (a cron expression such as \"0 3 * * "
          "*\") or 'every' (an interval such as 30s)");
    CHECK(cron_error("every: 1m") ==
          "t.yaml:5:9: worker: a cron job needs a 'command': [program, arg, ...] or a shell "
          "command line");
  }

  TEST_CASE("bad values") {
    CHECK(cron_error("command: [true]\nevery: 10ms") ==
          "t.yaml:7:16: worker.every: must be at least 100ms");
    CHECK(cron_error("command: [true]\nevery: 1m\noverlap: wait") ==
          "t.yaml:8:18: worker.overlap: expected one of skip, queue, kill, found 'wait'");
    CHECK(cron_error("command: []\nevery: 1m") ==
          "t.yaml:6:18: worker.command: must name at least the program to run");
    CHECK(cron_error("command: [true]\nevery: 1m\nshedule: '@daily'") ==
          "t.yaml:8:9: unknown key 'shedule' (did you mean 'schedule'?)");
  }

  TEST_CASE("a reload sees a changed schedule as a change") {
    CHECK(cron_of("schedule: '0 3 * * *'\ncommand: [true]") ==
          cron_of("schedule: '0 3 * * *'\ncommand: [true]"));
    CHECK_FALSE(cron_of("schedule: '0 3 * * *'\ncommand: [true]") ==
                cron_of("schedule: '0 4 * * *'\ncommand: [true]"));
  }
}

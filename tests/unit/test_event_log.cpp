// otpd's log lines, and their journal priorities under systemd.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "log/event_log.hpp"
#include "output/output_line.hpp"

using otpd::log::EventLog;
using otpd::log::Format;
using otpd::supervise::Event;
using otpd::supervise::EventKind;
using otpd::supervise::ExitStatus;

namespace {

// A pipe standing in for stderr; JOURNAL_STREAM names it, or not.
struct Stream {
  int fds[2] = {-1, -1};
  explicit Stream(bool is_journal) {
    REQUIRE(pipe(fds) == 0);
    struct stat st {};
    REQUIRE(fstat(fds[1], &st) == 0);
    const std::string id =
        std::to_string(st.st_dev) + ":" + std::to_string(is_journal ? st.st_ino : st.st_ino + 1);
    setenv("JOURNAL_STREAM", id.c_str(), 1);
  }
  ~Stream() {
    unsetenv("JOURNAL_STREAM");
    close(fds[0]);
    close(fds[1]);
  }
  std::string written() {
    char buffer[4096];
    const ssize_t n = read(fds[0], buffer, sizeof buffer);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  }
};

}  // namespace

TEST_CASE("under the journal each line carries its syslog priority") {
  Stream stream(true);
  EventLog log(Format::human, stream.fds[1]);
  log.error("boom");
  CHECK(stream.written().rfind("<3>", 0) == 0);
  log.warning("hmm");
  CHECK(stream.written().rfind("<4>", 0) == 0);
  log.info("fine");
  CHECK(stream.written().rfind("<6>", 0) == 0);
  log.emit({.kind = EventKind::exited, .path = "a", .status = ExitStatus::exited(1)});
  CHECK(stream.written().rfind("<4>", 0) == 0);
  log.emit({.kind = EventKind::started, .path = "a", .pid = 7});
  CHECK(stream.written().rfind("<6>", 0) == 0);
}

TEST_CASE("lines passed on are written whole, each with priority info under the journal") {
  Stream journal(true);
  EventLog in_journal(Format::human, journal.fds[1]);
  in_journal.pass_on("a[7] out: one\na[7] err: two\n");
  CHECK(journal.written() == "<6>a[7] out: one\n<6>a[7] err: two\n");
}

TEST_CASE("lines passed on elsewhere are written as they are") {
  Stream plain(false);
  EventLog log(Format::human, plain.fds[1]);
  log.pass_on("a[7] out: one\na[7] err: two\n");
  CHECK(plain.written() == "a[7] out: one\na[7] err: two\n");
}

TEST_CASE("elsewhere lines carry no priority, also when JOURNAL_STREAM names another stream") {
  Stream stream(false);
  EventLog log(Format::json, stream.fds[1]);
  log.error("boom");
  const std::string line = stream.written();
  CHECK(line.rfind("{\"time\":", 0) == 0);
  CHECK(line.find("\"level\":\"error\"") != std::string::npos);
}

TEST_CASE("a human event line names the event, the path, the pid and the reason") {
  EventLog log(Format::human, -1);
  const std::string line = log.format({.kind = EventKind::exited,
                                       .path = "app/api",
                                       .pid = 42,
                                       .status = ExitStatus::exited(3),
                                       .reason = "exited with status 3"},
                                      "2026-11-24T12:00:00.000Z");
  CHECK(line == "2026-11-24T12:00:00.000Z exited             app/api pid=42: exited with status 3");
}

TEST_CASE("event lines and child output lines carry one timestamp form, in milliseconds") {
  Stream stream(false);
  EventLog log(Format::human, stream.fds[1]);
  log.emit({.kind = EventKind::started, .path = "a", .pid = 7});
  const std::string event = stream.written();
  otpd::output::OutputLine output;
  output.pid = 7;
  output.text = "hello";
  output.time_us = otpd::output::realtime_us();
  std::string lines;
  otpd::output::append_log_line(lines, "a", output);
  log.pass_on(lines + '\n');
  const std::string line = stream.written();
  // "2026-11-24T12:00:00.123Z " in both: 24 characters and a blank.
  auto is_timestamp = [](const std::string& text) {
    if (text.size() < 25 || text[10] != 'T' || text[19] != '.' || text[23] != 'Z' ||
        text[24] != ' ') {
      return false;
    }
    for (int i : {20, 21, 22}) {
      if (text[i] < '0' || text[i] > '9') return false;
    }
    return true;
  };
  CHECK_MESSAGE(is_timestamp(event), event);
  CHECK_MESSAGE(is_timestamp(line), line);
  CHECK(line.substr(25) == "a[7] out: hello\n");
}

TEST_CASE("a message of several lines (every error of a config) is a log line each") {
  Stream stream(false);
  EventLog log(Format::human, stream.fds[1]);
  log.error("reload failed: a.yaml:2:3: one\na.yaml:5:7: two\n");
  const std::string text = stream.written();
  const std::size_t second = text.find('\n') + 1;
  CHECK(text.substr(24, second - 24) == " otpd: error: reload failed: a.yaml:2:3: one\n");
  CHECK(text.substr(second + 24) == " otpd: error: a.yaml:5:7: two\n");
}

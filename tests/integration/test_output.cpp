// Child output against a real otpd: files with timestamps and rotation,
// otpd's own log, the in-memory buffer through `otpctl logs`, following
// across restarts, fast writers, binary data, and a supervisor that stays
// responsive while a child writes as fast as it can.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "live_daemon.hpp"

using namespace otpd::ctl_test;
using otpd::it::Line;

namespace {

std::vector<std::string> file_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::uintmax_t size_of(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

// Whether otpd's log holds the JSON line of `path`'s output `text` on `stream`.
bool logged_output(const otpd::it::Otpd& otpd, std::string_view path, std::string_view stream,
                   std::string_view text) {
  for (const Line& line : otpd.lines()) {
    if (line.str("path") == path && line.str("stream") == stream && line.str("line") == text) {
      return true;
    }
  }
  return false;
}

const std::regex kFileLine(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (out|err)\+? (.*)$)");

// The sequence number of a spew line "NAME spew I xxx", from a file line.
long spew_number(const std::string& file_line) {
  const auto at = file_line.find(" spew ");
  if (at == std::string::npos) return -1;
  return std::stol(file_line.substr(at + 6));
}

}  // namespace

TEST_CASE("output: file writes each line with its time and stream to DIR/PATH.log") {
  LiveDaemon live(R"(
logs:
  dir: logs
tree:
  children:
    - name: app
      children:
        - name: web
          output: file
          streams: separate
          command: [@CHILD@, --name, web, --print, 3]
)");
  const std::string file = live.box.path("logs/app.web.log");
  REQUIRE(live.otpd.wait_recorded(live.box, "printed", "web"));
  REQUIRE_MESSAGE(live.otpd.wait_for([&] { return file_lines(file).size() == 6; }),
                  file_text(file));
  std::vector<std::string> out;
  std::vector<std::string> err;
  for (const std::string& line : file_lines(file)) {
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_match(line, m, kFileLine), line);
    CHECK(m[2].str().starts_with("web " + m[1].str() + " "));
    (m[1] == "out" ? out : err).push_back(m[2]);
  }
  CHECK(out == std::vector<std::string>{"web out 1", "web out 2", "web out 3"});
  CHECK(err == std::vector<std::string>{"web err 1", "web err 2", "web err 3"});

  struct stat st {};
  REQUIRE(stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  // Nothing of it in otpd's own log.
  CHECK_FALSE(logged_output(live.otpd, "app/web", "stdout", "web out 1"));
}

TEST_CASE("output: file rotates at max_size and keeps `keep` files") {
  LiveDaemon live(R"(
logs:
  dir: logs
  max_size: 1KiB
  keep: 2
tree:
  children:
    - name: web
      output: file
      command: [@CHILD@, --name, web, --spew, 20000]
)");
  const std::string file = live.box.path("logs/web.log");
  REQUIRE(live.otpd.wait_recorded(live.box, "printed", "web"));
  // 200 lines of 100 bytes, 132 bytes each in the file: 7 to a file.
  REQUIRE_MESSAGE(live.otpd.wait_for([&] {
    const auto lines = file_lines(file);
    return !lines.empty() && spew_number(lines.back()) == 200;
  }),
                  file_text(file));
  CHECK(std::filesystem::exists(file + ".1"));
  CHECK(std::filesystem::exists(file + ".2"));
  CHECK_FALSE(std::filesystem::exists(file + ".3"));
  for (const std::string& p : {file + ".2", file + ".1"}) {
    CHECK(size_of(p) <= 1024);
    CHECK(size_of(p) > 1024 - 132);
    CHECK(file_lines(p).size() == 7);
  }
  CHECK(size_of(file) <= 1024);
  // Consecutive across the files, oldest in .2.
  std::vector<std::string> all = file_lines(file + ".2");
  for (const std::string& p : {file + ".1", file}) {
    for (const std::string& line : file_lines(p)) all.push_back(line);
  }
  for (std::size_t i = 1; i < all.size(); ++i) {
    CHECK(spew_number(all[i]) == spew_number(all[i - 1]) + 1);
  }
}

TEST_CASE("output: log prefixes lines in otpd's log; otpctl logs -n shows the last N") {
  LiveDaemon live(R"(
tree:
  children:
    - name: a
      streams: separate
      command: [@CHILD@, --name, a, --print, 20]
)");
  REQUIRE_MESSAGE(live.otpd.wait_for([&] {
    return logged_output(live.otpd, "a", "stdout", "a out 20") &&
           logged_output(live.otpd, "a", "stderr", "a err 20");
  }),
                  live.otpd.transcript());
  for (const Line& line : live.otpd.lines()) {
    if (line.str("path") != "a" || !line.has("stream")) continue;
    CHECK(line.num("pid") == live.box.pid("a"));
    CHECK(std::regex_match(line.str("time"),
                           std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  }

  const Outcome five = live.ctl({"logs", "a", "-n", "5", "--stdout"});
  REQUIRE_MESSAGE(five.code == 0, five.shown());
  const auto lines = five.out_lines();
  REQUIRE(lines.size() == 5);
  for (int i = 0; i < 5; ++i) {
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_match(lines[i], m, kFileLine), lines[i]);
    CHECK(m[1] == "out");
    CHECK(m[2] == "a out " + std::to_string(16 + i));
  }

  const Outcome both = live.ctl({"logs", "a", "-n", "4"});
  REQUIRE_MESSAGE(both.code == 0, both.shown());
  CHECK(both.out_lines().size() == 4);

  const Outcome json = live.ctl({"logs", "a", "-n", "2", "--stderr", "--json"});
  REQUIRE_MESSAGE(json.code == 0, json.shown());
  REQUIRE(json.out_lines().size() == 2);
  const auto last = nlohmann::json::parse(json.out_lines()[1]);
  CHECK(last["path"] == "a");
  CHECK(last["stream"] == "stderr");
  CHECK(last["line"] == "a err 20");
  CHECK(last["pid"] == live.box.pid("a"));
}

TEST_CASE("output: stdout and stderr are one stream unless a child asks for them apart") {
  LiveDaemon live(R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a, --print, 2]
)");
  // Both streams' lines, in one pipe, marked as the child's stdout.
  REQUIRE_MESSAGE(live.otpd.wait_for([&] {
    return logged_output(live.otpd, "a", "stdout", "a out 2") &&
           logged_output(live.otpd, "a", "stdout", "a err 2");
  }),
                  live.otpd.transcript());
  const Outcome json = live.ctl({"logs", "a", "--json"});
  REQUIRE_MESSAGE(json.code == 0, json.shown());
  REQUIRE(json.out_lines().size() == 4);
  for (const std::string& line : json.out_lines()) {
    CHECK(nlohmann::json::parse(line)["stream"] == "stdout");
  }
  // One of two streams that are one cannot be read: otpctl says what to change.
  for (const char* only : {"--stderr", "--stdout"}) {
    const Outcome refused = live.ctl({"logs", "a", only});
    CHECK(refused.code != 0);
    CHECK(refused.err.find("are one stream ('streams: merged', the default); give it "
                           "'streams: separate'") != std::string::npos);
  }
}

TEST_CASE("otpctl logs --follow prints new lines, also of the next incarnation") {
  LiveDaemon live(R"(
tree:
  children:
    - name: a
      streams: separate
      command: [@CHILD@, --name, a, --print, 2, --term-delay, 0]
)");
  REQUIRE(live.otpd.wait_for([&] { return logged_output(live.otpd, "a", "stderr", "a err 2"); }));
  Otpctl follower({"logs", "a", "--follow", "-n", "1", "--json", "--stderr"}, {live.socket_env()});
  // The buffered line comes with the subscription: from here on it follows.
  REQUIRE_MESSAGE(follower.wait_output("\"a err 2\"", otpd::it::default_timeout),
                  follower.outcome().shown());

  const Outcome restart = live.ctl({"restart", "a"});
  REQUIRE_MESSAGE(restart.code == 0, restart.shown());
  REQUIRE(live.otpd.wait_recorded(live.box, "printed", "a", 2));
  const pid_t second = live.box.pid("a", 1);
  REQUIRE_MESSAGE(follower.wait_until([](const Outcome& o) { return o.out_lines().size() >= 3; },
                                      otpd::it::default_timeout),
                  follower.outcome().shown());
  const auto lines = follower.outcome().out_lines();
  const auto first_new = nlohmann::json::parse(lines[1]);
  CHECK(first_new["line"] == "a err 1");
  CHECK(first_new["pid"] == second);
  CHECK(nlohmann::json::parse(lines[2])["line"] == "a err 2");
  // --stderr: nothing of stdout.
  for (const std::string& line : lines) CHECK(nlohmann::json::parse(line)["stream"] == "stderr");
}

TEST_CASE("a fast writer's lines all arrive, complete and in order") {
  LiveDaemon live(R"(
logs:
  dir: logs
  max_size: 1G
tree:
  children:
    - name: fast
      output: file
      command: [@CHILD@, --name, fast, --spew, 20000000]
)");
  constexpr long kLines = 200'000;
  constexpr std::uintmax_t kFileLine = 129;  // time, " out ", 99 bytes, newline
  const std::string file = live.box.path("logs/fast.log");
  REQUIRE(live.otpd.wait_recorded(live.box, "printed", "fast", 1, otpd::it::Ms(60'000)));
  REQUIRE_MESSAGE(
      live.otpd.wait_for([&] { return size_of(file) >= kLines * kFileLine; }, otpd::it::Ms(60'000)),
      size_of(file));
  CHECK(size_of(file) == kLines * kFileLine);
  const auto lines = file_lines(file);
  REQUIRE(lines.size() == kLines);
  long bad = 0;
  for (long i = 0; i < kLines; ++i) {
    const std::string& line = lines[i];
    const bool ok = line.size() == kFileLine - 1 && line.compare(24, 5, " out ") == 0 &&
                    spew_number(line) == i + 1 && line.back() == 'x';
    if (!ok && ++bad < 5) FAIL_CHECK("line " << i + 1 << ": " << line);
  }
  CHECK(bad == 0);

  const Outcome tail = live.ctl({"logs", "fast", "-n", "1"});
  REQUIRE_MESSAGE(tail.code == 0, tail.shown());
  REQUIRE(tail.out_lines().size() == 1);
  CHECK(spew_number(tail.out_lines()[0]) == kLines);
}

TEST_CASE("binary output and a line without a newline do not break anything") {
  LiveDaemon live(R"(
logs:
  dir: logs
tree:
  children:
    - name: bin
      command: [@CHILD@, --name, bin, --binary]
    - name: raw
      output: file
      command: [@CHILD@, --name, raw, --binary]
)");
  // Flushed after about a second without a newline, marked as continued.
  REQUIRE_MESSAGE(live.otpd.wait_for([&] {
    for (const Line& line : live.otpd.lines()) {
      if (line.str("path") == "bin" && line.has("continued")) return true;
    }
    return false;
  }),
                  live.otpd.transcript());
  const Outcome json = live.ctl({"logs", "bin", "--json"});
  REQUIRE_MESSAGE(json.code == 0, json.shown());
  REQUIRE(json.out_lines().size() == 1);
  const auto line = nlohmann::json::parse(json.out_lines()[0]);
  CHECK(line["continued"] == true);
  const std::string text = line["line"];
  CHECK(text.find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD for invalid bytes
  CHECK(text.find("ABCxyz") == std::string::npos);
  CHECK(text.find("ABC") != std::string::npos);

  // The file keeps the bytes as they were.
  std::string expected;
  for (int b = 0; b < 256; ++b) {
    if (b != '\n') expected += static_cast<char>(b);
  }
  expected += "\xc3\x28";
  const std::string file = live.box.path("logs/raw.log");
  REQUIRE(live.otpd.wait_for([&] { return size_of(file) > 0; }));
  const std::string written = file_text(file);
  REQUIRE(written.size() > 28);
  CHECK(written.substr(24, 6) == " out+ ");
  CHECK(written.substr(30) == expected + "\n");

  CHECK(live.ctl({"ping"}).code == 0);
  CHECK(live.ctl({"status"}).code == 0);
}

TEST_CASE("a child writing as fast as it can does not stall the supervisor") {
  LiveDaemon live(R"(
logs:
  dir: logs
  max_size: 1MiB
  keep: 1
tree:
  intensity: 1000
  period: 10s
  children:
    - name: chatty
      output: file
      command: [@CHILD@, --name, chatty, --spew, 100000000000]
    - name: crasher
      command: [@CHILD@, --name, crasher, --exit-after, 20, --code, 1]
)");
  // Restarts of another child go on at their pace...
  REQUIRE_MESSAGE(live.otpd.wait_event("crasher", "started", 20, otpd::it::Ms(10'000)),
                  live.otpd.transcript());
  // ...the control socket answers, and restarts go on after the pings...
  for (int i = 0; i < 10; ++i) REQUIRE(live.ctl({"ping"}).code == 0);
  CHECK_MESSAGE(live.otpd.wait_event("crasher", "started", 30, otpd::it::Ms(20'000)),
                live.otpd.transcript());
  // ...while the chatty child is still writing.
  CHECK(live.box.count_recorded("printed", "chatty") == 0);
  CHECK(size_of(live.box.path("logs/chatty.log.1")) > 1000 * 1000);
}

TEST_CASE("otpctl logs: not captured, unknown paths, supervisors") {
  LiveDaemon live(R"(
tree:
  children:
    - name: quiet
      output: inherit
      command: [@CHILD@, --name, quiet]
    - name: gone
      output: discard
      command: [@CHILD@, --name, gone, --print, 2]
    - name: group
      children:
        - name: x
          command: [@CHILD@, --name, x]
)");
  const Outcome inherit = live.ctl({"logs", "quiet"});
  CHECK(inherit.code == 1);
  CHECK(inherit.err.find("not captured (output: inherit)") != std::string::npos);
  const Outcome discard = live.ctl({"logs", "gone"});
  CHECK(discard.code == 1);
  CHECK(discard.err.find("not captured (output: discard)") != std::string::npos);
  const Outcome unknown = live.ctl({"logs", "nope"});
  CHECK(unknown.code == 1);
  CHECK(unknown.err.find("no child 'nope'") != std::string::npos);
  const Outcome supervisor = live.ctl({"logs", "group"});
  CHECK(supervisor.code == 1);
  CHECK(supervisor.err.find("is a supervisor") != std::string::npos);
  const Outcome usage = live.ctl({"logs"});
  CHECK(usage.code == 2);
  // discard: the child's output reached nobody, the child ran fine.
  CHECK(live.otpd.wait_recorded(live.box, "printed", "gone"));
  CHECK_FALSE(logged_output(live.otpd, "gone", "stdout", "gone out 1"));
}

TEST_CASE("an unusable log directory is reported, and output goes to otpd's log") {
  LiveDaemon live(R"(
logs:
  dir: /dev/null/logs
tree:
  children:
    - name: a
      output: file
      command: [@CHILD@, --name, a, --print, 1]
)");
  CHECK_MESSAGE(live.otpd.logged("log directory /dev/null/logs: cannot create /dev/null/logs: "
                                 "Not a directory"),
                live.otpd.transcript());
  CHECK(live.otpd.wait_for([&] { return logged_output(live.otpd, "a", "stdout", "a out 1"); }));
  const Outcome logs = live.ctl({"logs", "a"});
  CHECK(logs.code == 0);
  CHECK(logs.out.find("a out 1") != std::string::npos);
}

TEST_CASE("with no share of descriptors for children, they run with otpd's output") {
  // otpd keeps at least 64 descriptors for itself: under a hard limit of
  // 64 no child's output is captured, and none fails to start.
  std::string yaml = "tree:\n  children:\n";
  for (int i = 0; i < 30; ++i) {
    yaml += "    - {name: c" + std::to_string(i) + ", command: [@CHILD@, --name, c" +
            std::to_string(i) + "]}\n";
  }
  otpd::it::Sandbox box;
  otpd::it::Otpd otpd =
      otpd::it::Otpd::run(box, yaml, {.wrapper = {"/usr/bin/prlimit", "--nofile=64:64", "--"}});
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  CHECK(
      otpd.logged("the output of c0 is not captured: otpd's share of the open-file limit for "
                  "children's descriptors (0 of 64) was used up"));
  CHECK(otpd.count("c29", "started") == 1);
  CHECK(otpd.events({"start_failed"}).empty());
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
}

// Children's log files in a directory others may write to: what is planted
// in a log file's place (a link to another file, a FIFO) is refused and the
// child's output goes to otpd's own log instead, loudly; otpd itself never
// writes through it nor waits on it.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "harness.hpp"

using otpd::it::Line;
using otpd::it::Otpd;
using otpd::it::Sandbox;

namespace {

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool logged_output(const Otpd& otpd, std::string_view path, std::string_view text) {
  for (const Line& line : otpd.lines()) {
    if (line.str("path") == path && line.str("line") == text) return true;
  }
  return false;
}

// A log directory anyone may write to, as an attacker would want it.
std::string open_logs(const Sandbox& box) {
  const std::string logs = box.path("logs");
  REQUIRE(mkdir(logs.c_str(), 0700) == 0);
  REQUIRE(chmod(logs.c_str(), 01777) == 0);
  return logs;
}

constexpr std::string_view kTree = R"(
logs:
  dir: logs
  output: file
tree:
  children:
    - name: w
      command: [@CHILD@, --name, w, --print, 2]
    - name: v
      command: [@CHILD@, --name, v, --print, 2]
)";

}  // namespace

TEST_CASE("a log file planted as a link is not written through; the output goes to otpd's log") {
  Sandbox box;
  const std::string logs = open_logs(box);
  // Stands for a file of root's elsewhere, such as /etc/shadow.
  const std::string precious = box.path("precious");
  { std::ofstream(precious) << "root:secret\n"; }
  REQUIRE(symlink(precious.c_str(), (logs + "/w.log").c_str()) == 0);

  Otpd otpd = Otpd::run(box, kTree);
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  REQUIRE(otpd.wait_recorded(box, "printed", "w"));
  CHECK_MESSAGE(otpd.wait_for([&] { return logged_output(otpd, "w", "w out 2"); }),
                otpd.transcript());
  CHECK(otpd.logged("output of w: cannot open " + logs +
                    "/w.log: it is a symbolic link; otpd writes only to a regular file of its "
                    "own; it goes to otpd's own log instead"));
  CHECK(file_text(precious) == "root:secret\n");
  // The other child's file is unaffected.
  REQUIRE(otpd.wait_recorded(box, "printed", "v"));
  CHECK(otpd.wait_for(
      [&] { return file_text(logs + "/v.log").find("v out 2") != std::string::npos; }));
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
  CHECK(file_text(precious) == "root:secret\n");
}

TEST_CASE("a FIFO planted as a log file does not stall otpd") {
  Sandbox box;
  const std::string logs = open_logs(box);
  // Opening a FIFO for writing waits for a reader: otpd must not.
  REQUIRE(mkfifo((logs + "/w.log").c_str(), 0666) == 0);

  Otpd otpd = Otpd::run(box, kTree);
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  CHECK(otpd.logged("output of w: cannot open " + logs + "/w.log: it is a FIFO"));
  CHECK(otpd.wait_for([&] { return logged_output(otpd, "w", "w out 2"); }));
  CHECK(otpd.wait_recorded(box, "printed", "v"));
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
}

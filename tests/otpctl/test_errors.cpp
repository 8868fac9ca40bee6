// otpctl's exit codes when it cannot do what it was asked: usage errors,
// no otpd, an otpd that does not answer, is busy or speaks another
// protocol, a socket in a directory others may write to.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "../helpers/reachable.hpp"
#include "harness.hpp"
#include "live_daemon.hpp"
#include "otpctl_process.hpp"

using namespace otpd::ctl_test;

namespace {

// A listening socket in a sandbox that answers each connection's first line
// with `reply` (or never, when empty), as a foreign or broken server would.
class FakeServer {
 public:
  // `at_once`: the reply is sent as soon as the client connects, and the
  // connection closed without reading, as otpd does when it is busy.
  FakeServer(const otpd::it::Sandbox& box, std::string reply, bool at_once = false)
      : path_(box.path("fake.sock")), reply_(std::move(reply)), at_once_(at_once) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(listen(fd_, 4) == 0);
    if (!reply_.empty()) thread_ = std::thread([this] { serve_one(); });
  }
  ~FakeServer() {
    shutdown(fd_, SHUT_RDWR);  // wakes accept() if no client came
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  const std::string& path() const { return path_; }

 private:
  void serve_one() {
    const int client = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    char buffer[4096];
    std::string line;
    while (!at_once_ && line.find('\n') == std::string::npos) {
      const ssize_t n = read(client, buffer, sizeof buffer);
      if (n <= 0) break;
      line.append(buffer, static_cast<std::size_t>(n));
    }
    const std::string answer = reply_ + "\n";
    (void)!write(client, answer.data(), answer.size());
    close(client);
  }

  std::string path_;
  std::string reply_;
  bool at_once_;
  int fd_ = -1;
  std::thread thread_;
};

}  // namespace

TEST_CASE("otpctl exits 3 and names the socket when nothing listens there") {
  otpd::it::Sandbox box;
  const std::string missing = box.path("none.sock");
  const Outcome by_flag = run_otpctl({"--socket", missing, "ping"});
  CHECK_MESSAGE(by_flag.code == 3, by_flag.shown());
  CHECK(by_flag.out.empty());
  CHECK(by_flag.err == "otpctl: cannot connect to " + missing +
                           ": No such file or directory (is otpd running? use --socket or "
                           "OTPD_SOCKET)\n");

  const Outcome by_env = run_otpctl({"ping"}, {"OTPD_SOCKET=" + missing});
  CHECK(by_env.code == 3);
  CHECK(by_env.err.find("cannot connect to " + missing + ": ") != std::string::npos);

  const Outcome version = run_otpctl({"version"}, {"OTPD_SOCKET=" + missing});
  CHECK(version.code == 3);
  CHECK(version.out == "otpctl " OTPD_VERSION " (protocol 1)\n");
}

TEST_CASE("status and is-active exit 4 (unknown) when otpd cannot be reached, as systemctl") {
  otpd::it::Sandbox box;
  const std::string missing = box.path("none.sock");
  for (const char* command : {"status", "is-active"}) {
    CAPTURE(command);
    const Outcome r = run_otpctl({"--socket", missing, command});
    CHECK_MESSAGE(r.code == 4, r.shown());
    CHECK(r.err.find("cannot connect to " + missing) != std::string::npos);
  }
  const std::string open = box.path("open");
  REQUIRE(mkdir(open.c_str(), 0700) == 0);
  REQUIRE(chmod(open.c_str(), 0777) == 0);
  const Outcome refused = run_otpctl({"--socket", open + "/otpd.sock", "is-active", "-q"});
  CHECK_MESSAGE(refused.code == 4, refused.shown());
}

TEST_CASE("otpctl exits 3 when otpd does not answer in time") {
  otpd::it::Sandbox box;
  FakeServer silent(box, "");
  const Outcome r = run_otpctl({"--socket", silent.path(), "--timeout", "300ms", "ping"});
  CHECK_MESSAGE(r.code == 3, r.shown());
  CHECK(r.err.find("did not answer within 300ms") != std::string::npos);
}

TEST_CASE("otpctl exits 1 when otpd refuses the conversation, 3 when it is not otpd") {
  otpd::it::Sandbox box;
  SUBCASE("otpd refuses the client's protocol") {
    FakeServer old(
        box,
        R"({"id":1,"error":{"code":"unsupported_version","message":"protocol 1 is newer than this otpd's 0"}})");
    const Outcome r = run_otpctl({"--socket", old.path(), "status"});
    CHECK_MESSAGE(r.code == 1, r.shown());
    CHECK(r.err.find("does not speak protocol 1") != std::string::npos);
  }
  SUBCASE("otpd answers in another protocol") {
    FakeServer other(box, R"({"id":1,"result":{"protocol":7,"server":"otpd 9.0","pid":1}})");
    const Outcome r = run_otpctl({"--socket", other.path(), "status"});
    CHECK_MESSAGE(r.code == 1, r.shown());
    CHECK(r.err.find("speaks protocol 7, this otpctl speaks protocol 1") != std::string::npos);
  }
  SUBCASE("otpd refuses this user at the door") {
    FakeServer closed(
        box,
        R"({"id":null,"error":{"code":"forbidden","message":"this user may not use otpd's control socket"}})");
    const Outcome r = run_otpctl({"--socket", closed.path(), "status"});
    CHECK_MESSAGE(r.code == 1, r.shown());
    CHECK(r.err.find("this user may not use otpd's control socket") != std::string::npos);
  }
  SUBCASE("something else answers") {
    FakeServer http(box, "HTTP/1.1 400 Bad Request");
    const Outcome r = run_otpctl({"--socket", http.path(), "ping"});
    CHECK_MESSAGE(r.code == 3, r.shown());
    CHECK(r.err.find("does not speak otpd's protocol") != std::string::npos);
  }
}

TEST_CASE("otpctl exits 3 and says why when otpd is out of file descriptors") {
  otpd::it::Sandbox box;
  const std::string busy =
      R"({"id":null,"error":{"code":"busy","message":"otpd is out of file descriptors; try again"}})";
  SUBCASE("the answer comes after the request") {
    FakeServer server(box, busy);
    const Outcome r = run_otpctl({"--socket", server.path(), "ping"});
    CHECK_MESSAGE(r.code == 3, r.shown());
    CHECK(r.err == "otpctl: otpd at " + server.path() +
                       " is busy: otpd is out of file descriptors; try again\n");
  }
  SUBCASE("the answer comes and the connection closes before the request is sent") {
    FakeServer server(box, busy, /*at_once=*/true);
    const Outcome r = run_otpctl({"--socket", server.path(), "ping"});
    CHECK_MESSAGE(r.code == 3, r.shown());
    CHECK(r.err.find("is busy: otpd is out of file descriptors; try again") != std::string::npos);
  }
}

TEST_CASE("otpctl refuses a socket in a directory other users may write to") {
  otpd::it::Sandbox box;
  const std::string open = box.path("open");
  REQUIRE(mkdir(open.c_str(), 0700) == 0);
  REQUIRE(chmod(open.c_str(), 0777) == 0);
  const Outcome r = run_otpctl({"--socket", open + "/otpd.sock", "ping"});
  CHECK_MESSAGE(r.code == 3, r.shown());
  CHECK(r.err == "otpctl: refusing to use the socket " + open + "/otpd.sock: its directory " +
                     open + " (owner uid " + std::to_string(geteuid()) +
                     ", mode 0777) may be written by other users, who could replace the socket; "
                     "fix the directory, or name another socket with --socket or OTPD_SOCKET\n");
}

TEST_CASE("otpctl usage errors exit 2 with the message and a short usage on stderr") {
  struct Case {
    std::vector<std::string> args;
    std::string message;
    std::string usage;
  };
  const Case cases[] = {
      {{}, "no command given", "usage: otpctl [OPTIONS] COMMAND"},
      {{"stauts"}, "unknown command 'stauts' (did you mean 'status'?)", "usage: otpctl ["},
      {{"stop"}, "which child? give at least one PATH", "usage: otpctl stop PATH..."},
      {{"status", "--follow"},
       "option --follow does not apply to 'status'",
       "usage: otpctl status [PATH]"},
      {{"events", "-n", "many"},
       "option -n needs a number from 0 to 1000, not 'many'",
       "usage: otpctl events"},
      {{"ping", "--timeout", "5"}, "option --timeout: invalid duration '5'", "usage: otpctl ping"},
      // Checked before otpd is asked: a usage error, not a refusal.
      {{"signal", "USR9", "clock"},
       "unknown signal 'USR9' (did you mean 'SIGUSR1'?); write a name with or without SIG",
       "usage: otpctl signal SIGNAL PATH..."},
      {{"signal", "0", "clock"}, "unknown signal '0'", "usage: otpctl signal"},
  };
  for (const Case& c : cases) {
    const Outcome r = run_otpctl(c.args, {"OTPD_SOCKET=/nonexistent/otpd.sock"});
    CAPTURE(r.shown());
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("otpctl: " + c.message, 0) == 0);
    CHECK(r.err.find(c.usage) != std::string::npos);
  }
}

TEST_CASE("otpctl --help for the whole and for each command exits 0 on stdout") {
  const Outcome top = run_otpctl({"--help"});
  CHECK(top.code == 0);
  CHECK(top.err.empty());
  CHECK(top.out.rfind("usage: otpctl [OPTIONS] COMMAND", 0) == 0);
  for (const std::string command :
       {"status", "start", "stop", "restart", "signal", "events", "shutdown", "ping", "version"}) {
    const Outcome r = run_otpctl({command, "--help"});
    CAPTURE(command);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK(r.out.rfind("usage: otpctl " + command, 0) == 0);
    CHECK(r.out.find("Exit status") != std::string::npos);
  }
  // help's own help is the top-level one, which describes it.
  CHECK(run_otpctl({"help", "--help"}).out == top.out);
  CHECK(run_otpctl({"help"}).out == top.out);
  CHECK(run_otpctl({"help", "events"}).out == run_otpctl({"events", "-h"}).out);
  const Outcome version = run_otpctl({"--version"});
  CHECK(version.code == 0);
  CHECK(version.out == "otpctl " OTPD_VERSION " (protocol 1)\n");
}

TEST_CASE("a socket closed to this user is a permission error that says who may pass") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root to run otpctl as nobody");
    return;
  }
  LiveDaemon live("tree:\n  children: []\n");
  // otpctl as nobody, whom the sandbox (0700, root's) keeps out.
  const otpd::it::Piped run = otpd::it::start_piped(
      {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
       otpd::test::reachable_by_all(OTPCTL_PATH), "--socket", live.socket, "ping"},
      otpd::it::environment_with({}, {"OTPD_SOCKET"}));
  int status = 0;
  REQUIRE(waitpid(run.pid, &status, 0) == run.pid);
  std::string err;
  char chunk[4096];
  for (ssize_t n; (n = read(run.err_fd, chunk, sizeof chunk)) > 0;) err.append(chunk, n);
  close(run.out_fd);
  close(run.err_fd);
  CHECK(WEXITSTATUS(status) == 3);
  CHECK_MESSAGE(err.find("cannot connect to " + live.socket +
                         ": Permission denied: its directory " + live.box.dir() +
                         " (owner uid 0, mode 0700) is closed to uid 65534; run "
                         "otpctl as otpd's user or root") != std::string::npos,
                err);
  CHECK_MESSAGE(err.find("is otpd running") == std::string::npos, err);
}

TEST_CASE("a user without XDG_RUNTIME_DIR is told every place otpctl looked for otpd") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root to run otpctl as nobody");
    return;
  }
  const std::vector<std::string> places = {"/tmp/otpd-65534/otpd.sock", "/run/user/65534/otpd.sock",
                                           "/run/otpd/otpd.sock"};
  for (const std::string& place : places) {
    if (access(place.c_str(), F_OK) == 0) {
      const std::string why = "skipped: an otpd listens at " + place + " on this machine";
      MESSAGE(why);
      return;
    }
  }
  const otpd::it::Piped run =
      otpd::it::start_piped({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                             otpd::test::reachable_by_all(OTPCTL_PATH), "status"},
                            otpd::it::environment_with({}, {"OTPD_SOCKET", "XDG_RUNTIME_DIR"}));
  int status = 0;
  REQUIRE(waitpid(run.pid, &status, 0) == run.pid);
  std::string err;
  char chunk[4096];
  for (ssize_t n; (n = read(run.err_fd, chunk, sizeof chunk)) > 0;) err.append(chunk, n);
  close(run.out_fd);
  close(run.err_fd);
  CHECK(WEXITSTATUS(status) == 4);  // status: "unknown", as systemctl
  // A root otpd that has run here leaves /run/otpd behind, closed to nobody.
  struct stat run_otpd {};
  const bool closed = stat("/run/otpd", &run_otpd) == 0 && (run_otpd.st_mode & S_IXOTH) == 0;
  CHECK(err ==
        "otpctl: cannot connect to /tmp/otpd-65534/otpd.sock: No such file or directory, nor at "
        "/run/user/65534/otpd.sock or /run/otpd/otpd.sock" +
            std::string(closed ? " (closed to uid 65534)" : "") +
            " (is otpd running? use --socket or OTPD_SOCKET)\n");
}

// otpd -- COMMAND ARGS...: the command as the tree's one significant child,
// as a container's init runs its program: its exit status is otpd's,
// signals reach it, its orphans are reaped, and nothing it started outlives
// otpd.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "harness.hpp"
#include "otpctl_process.hpp"

using namespace otpd::it;
using otpd::ctl_test::run_otpctl;

namespace {

// otpd --log-format json [BEFORE...] -- ARGS..., with the sandbox's record
// file and socket.
Otpd with_command(const Sandbox& box, std::vector<std::string> command,
                  std::vector<std::string> before = {}) {
  std::vector<std::string> args = {"--log-format", "json"};
  args.insert(args.end(), before.begin(), before.end());
  args.push_back("--");
  args.insert(args.end(), command.begin(), command.end());
  return Otpd(std::move(args), Options{.env = {"OTPD_TEST_RECORD=" + box.record_file(),
                                               "OTPD_SOCKET=" + box.path("otpd.sock")}});
}

// /bin/sh -c SCRIPT.
std::vector<std::string> shell(const std::string& script) {
  return {"/bin/sh", "-c", script + "\n"};
}

}  // namespace

TEST_CASE("otpd -- COMMAND exits with the command's exit status") {
  Sandbox box;
  Otpd otpd = with_command(
      box, {OTPD_TEST_CHILD_PATH, "--name", "main", "--exit-after", "200", "--code", "42"});
  CHECK_MESSAGE(otpd.wait_exit() == 42, otpd.transcript());
  CHECK(otpd.count("main", "started") == 1);
  CHECK(otpd.count("main", "restarting") == 0);
  CHECK(otpd.logged("exiting with status 42"));
  CHECK(strays().empty());
}

TEST_CASE("otpd -- COMMAND: a command killed by a signal gives 128 + the signal") {
  Sandbox box;
  Otpd otpd =
      with_command(box, {OTPD_TEST_CHILD_PATH, "--name", "main", "--signal-after", "100", "KILL"});
  CHECK_MESSAGE(otpd.wait_exit() == 128 + SIGKILL, otpd.transcript());
}

TEST_CASE("otpd -- COMMAND passes SIGUSR1 and SIGUSR2 on to the command") {
  Sandbox box;
  Otpd otpd = with_command(box, {OTPD_TEST_CHILD_PATH, "--name", "main", "--catch", "USR1",
                                 "--catch", "USR2", "--ignore-term"});
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "main"), otpd.transcript());
  otpd.signal(SIGUSR1);
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "caught", "main"), otpd.transcript());
  otpd.signal(SIGUSR2);
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "caught", "main", 2), otpd.transcript());
  CHECK(box.recorded_value("caught", "main", 0) == std::to_string(SIGUSR1));
  CHECK(box.recorded_value("caught", "main", 1) == std::to_string(SIGUSR2));
  CHECK(running(box.pid("main")));
  // It ignores SIGTERM: the stop waits for it, and a second SIGTERM kills.
  otpd.signal(SIGTERM);
  REQUIRE(otpd.wait_recorded(box, "term", "main"));
  otpd.signal(SIGTERM);
  CHECK_MESSAGE(otpd.wait_exit() == 128 + SIGKILL, otpd.transcript());
  CHECK(strays().empty());
}

TEST_CASE("otpd -- COMMAND: SIGTERM reaches the command and otpd exits as it did") {
  Sandbox box;
  Otpd otpd = with_command(box, shell(R"(trap 'echo "hup main $$" >>"$OTPD_TEST_RECORD"' HUP
trap 'echo "term main $$" >>"$OTPD_TEST_RECORD"; exit 7' TERM
echo "start main $$" >>"$OTPD_TEST_RECORD"
while :; do sleep 0.05; done)"));
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "main"), otpd.transcript());
  // Without a config file there is nothing to reload: SIGHUP is the command's.
  otpd.signal(SIGHUP);
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "hup", "main"), otpd.transcript());
  CHECK_FALSE(otpd.logged("reload"));
  otpd.signal(SIGTERM);
  CHECK_MESSAGE(otpd.wait_exit() == 7, otpd.transcript());
  CHECK(box.count_recorded("term", "main") == 1);
  CHECK(strays().empty());
}

TEST_CASE("otpd -- COMMAND reaps the command's orphans") {
  Sandbox box;
  // The test child leaves a grandchild in its process group, re-parented
  // to otpd, and exits; the group's leftovers are killed and reaped.
  Otpd otpd = with_command(box, {OTPD_TEST_CHILD_PATH, "--name", "main", "--orphan", "--exit-after",
                                 "300", "--code", "0"});
  CHECK_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
  const std::string orphan_pid = box.recorded_value("orphan", "main");
  REQUIRE(!orphan_pid.empty());
  const pid_t orphan = std::stoi(orphan_pid);
  CHECK(reaped(orphan));
  CHECK(otpd.count("main", "orphan_reaped") == 1);
  CHECK(strays().empty());
}

TEST_CASE("otpd -- COMMAND: a daemon the command left in a session of its own dies with otpd") {
  Sandbox box;
  // setsid puts the sleep out of reach of the signals to the command's
  // process group; otpd ends it before it exits.
  Otpd otpd = with_command(box, shell(R"(
setsid sh -c 'echo "orphan main $$" >>"$OTPD_TEST_RECORD"; exec sleep 300' &
until grep -q "^orphan main" "$OTPD_TEST_RECORD" 2>/dev/null; do sleep 0.01; done
exit 3)"));
  CHECK_MESSAGE(otpd.wait_exit() == 3, otpd.transcript());
  const std::string daemon_pid = box.recorded_value("orphan", "main");
  REQUIRE(!daemon_pid.empty());
  const pid_t daemon = std::stoi(daemon_pid);
  CHECK(reaped(daemon));
  // In a cgroup the daemon ends with the command's cgroup; without one,
  // at otpd's exit, as a process otpd did not start.
  if (otpd.logged("children run in cgroups")) {
    CHECK(otpd.count("/", "orphan_reaped") == 1);
  } else {
    CHECK(otpd.logged("otpd did not start still running: sending SIGTERM"));
  }
  CHECK(strays().empty());
}

TEST_CASE("otpd --config FILE -- COMMAND runs the file's tree beside the command") {
  Sandbox box;
  const std::string config = box.write("otpd.yaml", R"(
tree:
  children:
    - name: sidecar
      command: [@CHILD@, --name, sidecar]
)");
  Otpd otpd = with_command(box, {OTPD_TEST_CHILD_PATH, "--name", "main", "--catch", "USR1"},
                           {"--config", config});
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "main"), otpd.transcript());
  // The file's children first, the command last.
  REQUIRE(otpd.wait_event("/", "started"));
  CHECK(otpd.events({"started"}) ==
        std::vector<std::string>{"started sidecar", "started main", "started /"});
  const auto env = std::vector<std::string>{"OTPD_SOCKET=" + box.path("otpd.sock")};

  // A reload reads the file again and keeps the command.
  const auto reload = run_otpctl({"reload"}, env);
  CHECK_MESSAGE(reload.code == 0, reload.shown());
  CHECK(otpd.count("main", "started") == 1);
  CHECK(run_otpctl({"is-active", "--quiet", "main", "sidecar"}, env).code == 0);

  // The command ends: the tree stops, sidecar first... and otpd exits as
  // the command did.
  otpd.signal(SIGUSR1);
  CHECK_MESSAGE(otpd.wait_exit() == 128 + SIGUSR1, otpd.transcript());
  CHECK(box.count_recorded("term", "sidecar") == 1);
  CHECK(strays().empty());
}

TEST_CASE("otpd -- COMMAND without a config file refuses a reload") {
  Sandbox box;
  Otpd otpd = with_command(box, {OTPD_TEST_CHILD_PATH, "--name", "main"});
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  const auto reload = run_otpctl({"reload"}, {"OTPD_SOCKET=" + box.path("otpd.sock")});
  CHECK(reload.code == 1);
  CHECK(reload.err.find("nothing to reload") != std::string::npos);
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 128 + SIGTERM);
}

TEST_CASE("otpd -- COMMAND: usage and configuration errors") {
  Sandbox box;
  SUBCASE("-- without a command") {
    const Result result = run_to_end({"--"});
    CHECK(result.code == 2);
    CHECK(result.err.find("-- needs a command to run") != std::string::npos);
  }
  SUBCASE("check takes no command") {
    const Result result = run_to_end({"check", box.write("t.yaml", "tree: {}\n"), "--", "true"});
    CHECK(result.code == 2);
  }
  SUBCASE("a significant child in the file") {
    const std::string config = box.write("t.yaml", R"(tree:
  auto_shutdown: any_significant
  children:
    - name: app
      command: [@CHILD@, --name, app]
      restart: temporary
      significant: true
)");
    const Result result = run_to_end({"--config", config, "--", "true"});
    CHECK(result.code == 2);
    CHECK_MESSAGE(result.err.find(config + ":4:7: 'app' is significant") != std::string::npos,
                  result.err);
  }
  SUBCASE("a child of the command's name in the file") {
    const std::string config = box.write("t.yaml", R"(tree:
  children:
    - name: main
      command: [@CHILD@, --name, main]
)");
    const Result result = run_to_end({"--config", config, "--", "true"});
    CHECK(result.code == 2);
    CHECK_MESSAGE(result.err.find("already has a child named 'main'") != std::string::npos,
                  result.err);
  }
  CHECK(strays().empty());
}

TEST_CASE("without -- COMMAND, SIGUSR1 and SIGUSR2 are logged and ignored: otpd lives on") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: web
      command: [@CHILD@, --name, web]
)");
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "web"), otpd.transcript());
  otpd.signal(SIGUSR1);
  REQUIRE(otpd.wait_message("received SIGUSR1, which otpd does not use; ignored"));
  otpd.signal(SIGUSR2);
  REQUIRE(otpd.wait_message("received SIGUSR2, which otpd does not use; ignored"));
  CHECK(running(otpd.pid()));
  CHECK(running(box.pid("web")));
  CHECK(box.count_recorded("caught", "web") == 0);
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
}

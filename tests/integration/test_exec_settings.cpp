// Per-child execution settings against a real otpd: user, group and groups,
// umask, rlimits, env_file, inherit_env, stop_signal, kill_mode, and the
// errors of each at load time and at start.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness.hpp"

using namespace otpd::it;
using Strings = std::vector<std::string>;

namespace {

constexpr const char* kNobody = "65534";

bool is_root() {
  return geteuid() == 0;
}

// Whether this process may raise a hard limit (CAP_SYS_RESOURCE), tried in
// a child so as to change nothing here.
bool can_raise_hard_limits() {
  const pid_t pid = fork();
  if (pid == 0) {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_max += 1;
    _exit(setrlimit(RLIMIT_NOFILE, &limit) == 0 ? 0 : 1);
  }
  int status = 0;
  return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

// A child that runs as another user must be able to enter the sandbox and
// append to the record file.
void share_with_everyone(const Sandbox& box) {
  chmod(box.dir().c_str(), 0755);
  std::ofstream(box.record_file()).flush();
  chmod(box.record_file().c_str(), 0666);
}

// "4,1,65534" -> "1,4,65534": the kernel keeps groups sorted, a config need not.
std::string sorted_list(const std::string& text) {
  std::vector<long> numbers;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) numbers.push_back(std::stol(item));
  std::sort(numbers.begin(), numbers.end());
  std::string out;
  for (long n : numbers) out += (out.empty() ? "" : ",") + std::to_string(n);
  return out;
}

// `otpd check FILE` to completion: its exit code and everything it wrote.
std::pair<std::optional<int>, std::string> check(const std::string& file, Options options = {}) {
  Otpd otpd({"check", file}, std::move(options));
  const auto code = otpd.wait_exit();
  return {code, otpd.transcript()};
}

}  // namespace

TEST_CASE("a child runs as the user, group and supplementary groups it names") {
  if (!is_root()) {
    MESSAGE("skipped: switching users needs root");
    return;
  }
  Sandbox box;
  share_with_everyone(box);
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      user: nobody
      group: nogroup
      groups: [daemon, "4", nogroup]
      command: [@CHILD@, --name, a, --report-ids, --report-env, HOME, --report-env, USER,
                --report-env, LOGNAME, --report-env, SHELL]
    - name: b
      user: "65534"
      env: {HOME: /from-config}
      command: [@CHILD@, --name, b, --report-ids, --report-env, HOME, --report-env, USER]
)");
  // The ids are recorded after the environment: wait for the last record.
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "groups", "a"), otpd.transcript());
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "groups", "b"), otpd.transcript());
  const std::string all_nobody = std::string(kNobody) + "," + kNobody + "," + kNobody;
  CHECK(box.recorded_value("uid", "a") == all_nobody);
  CHECK(box.recorded_value("gid", "a") == all_nobody);
  CHECK(sorted_list(box.recorded_value("groups", "a")) == "1,4,65534");
  CHECK(box.recorded_value("env", "a", 0) == "HOME=/nonexistent");
  CHECK(box.recorded_value("env", "a", 1) == "USER=nobody");
  CHECK(box.recorded_value("env", "a", 2) == "LOGNAME=nobody");
  CHECK(box.recorded_value("env", "a", 3) == "SHELL=/usr/sbin/nologin");
  // Defaults: the user's primary group and the groups getgrouplist gives it,
  // never root's; a variable the config sets wins over the user's.
  CHECK(box.recorded_value("uid", "b") == all_nobody);
  CHECK(box.recorded_value("gid", "b") == all_nobody);
  CHECK(box.recorded_value("groups", "b") == kNobody);
  CHECK(box.recorded_value("env", "b", 0) == "HOME=/from-config");
  CHECK(box.recorded_value("env", "b", 1) == "USER=nobody");
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
}

TEST_CASE("umask and rlimits are set before exec, an explicit nofile included") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      umask: "0027"
      rlimits:
        nofile: 1000
        cpu: {soft: 3600, hard: unlimited}
        nproc: {soft: 100, hard: 200}
        stack: 4M
      command: [@CHILD@, --name, a, --report-umask, --report-limit, nofile, --report-limit, cpu,
                --report-limit, nproc, --report-limit, stack]
    - name: b
      umask: 077
      command: [@CHILD@, --name, b, --report-umask]
)");
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "limit", "a", 4), otpd.transcript());
  REQUIRE(otpd.wait_recorded(box, "umask", "b"));
  CHECK(box.recorded_value("umask", "a") == "0027");
  CHECK(box.recorded_value("umask", "b") == "0077");
  CHECK(box.recorded_value("limit", "a", 0) == "nofile=1000/1000");
  CHECK(box.recorded_value("limit", "a", 1) == "cpu=3600/unlimited");
  CHECK(box.recorded_value("limit", "a", 2) == "nproc=100/200");
  CHECK(box.recorded_value("limit", "a", 3) == "stack=4194304/4194304");
}

TEST_CASE("rlimits are set while still root, so a child may get a hard limit above otpd's") {
  if (!is_root() || !can_raise_hard_limits()) {
    MESSAGE("skipped: raising a hard limit needs root with CAP_SYS_RESOURCE");
    return;
  }
  rlimit own{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &own) == 0);
  const auto above = std::to_string(own.rlim_max + 1000);
  Sandbox box;
  share_with_everyone(box);
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      user: nobody
      rlimits: {nofile: )" + above +
                                 R"(}
      command: [@CHILD@, --name, a, --report-limit, nofile]
)");
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "limit", "a"), otpd.transcript());
  CHECK(box.recorded_value("limit", "a") == "nofile=" + above + "/" + above);
}

TEST_CASE("env_file: the inherited environment < env files in order < env") {
  Sandbox box;
  box.write("first.env",
            "# comment\n"
            "\n"
            "OTPD_T_A=from-first\n"
            "export OTPD_T_B='from first'\n"
            "OTPD_T_C=from-first\n");
  box.write("second.env", "OTPD_T_B=\"from \\\"second\\\"\"  # a comment\nOTPD_T_C=from-second\n");
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      env_file: [first.env, @DIR@/second.env]
      env: {OTPD_T_C: from-config}
      command: [@CHILD@, --name, a, --report-env, OTPD_T_A, --report-env, OTPD_T_B,
                --report-env, OTPD_T_C, --report-env, OTPD_T_KEEP]
)",
                        {.env = {"OTPD_T_A=from-otpd", "OTPD_T_KEEP=kept"}});
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "env", "a", 4), otpd.transcript());
  const Strings records = box.records();
  CHECK(std::count(records.begin(), records.end(), "env a OTPD_T_A=from-first") == 1);
  CHECK(std::count(records.begin(), records.end(), "env a OTPD_T_B=from \"second\"") == 1);
  CHECK(std::count(records.begin(), records.end(), "env a OTPD_T_C=from-config") == 1);
  CHECK(std::count(records.begin(), records.end(), "env a OTPD_T_KEEP=kept") == 1);
}

TEST_CASE("inherit_env false: only the config's variables, and a default PATH for the lookup") {
  Sandbox box;
  box.write("app.env", "OTPD_T_FILE=yes\n");
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      inherit_env: false
      env_file: app.env
      env: {OTPD_T_SET: yes}
      command: [@CHILD@, --name, a, --report-env, OTPD_T_KEEP, --report-env, PATH,
                --report-env, OTPD_T_FILE, --report-env, OTPD_T_SET, --record, @RECORD@]
    - name: b
      inherit_env: false
      command: [sh, -c, "exec @CHILD@ --name b --record @RECORD@"]
)",
                        {.env = {"OTPD_T_KEEP=kept", "PATH=/nonexistent"}});
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "env", "a", 4), otpd.transcript());
  CHECK(box.recorded_value("env", "a", 0) == "OTPD_T_KEEP");  // "OTPD_T_KEEP unset"
  CHECK(box.recorded_value("env", "a", 1) == "PATH");
  CHECK(box.recorded_value("env", "a", 2) == "OTPD_T_FILE=yes");
  CHECK(box.recorded_value("env", "a", 3) == "OTPD_T_SET=yes");
  CHECK_MESSAGE(otpd.wait_recorded(box, "start", "b"), otpd.transcript());
}

TEST_CASE("stop_signal is the signal of an orderly stop, before SIGKILL") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: quits
      stop_signal: QUIT
      command: [@CHILD@, --name, quits, --catch, QUIT]
    - name: stubborn
      stop_signal: SIGUSR1
      shutdown: 300ms
      command: [@CHILD@, --name, stubborn, --catch, USR1, --ignore-term]
    - name: plain
      command: [@CHILD@, --name, plain]
)");
  for (const char* name : {"quits", "stubborn", "plain"}) {
    REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", name), otpd.transcript());
  }
  otpd.signal(SIGTERM);
  REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
  CHECK(box.recorded_value("caught", "quits") == std::to_string(SIGQUIT));
  CHECK(box.recorded_value("caught", "stubborn") == std::to_string(SIGUSR1));
  CHECK(box.count_recorded("term", "quits") == 0);
  CHECK(box.count_recorded("term", "stubborn") == 0);
  CHECK(box.count_recorded("term", "plain") == 1);
  const Line* quits = otpd.event("quits", "stopped");
  REQUIRE(quits != nullptr);
  CHECK(quits->str("reason") == "killed by SIGQUIT");
  const Line* stubborn = otpd.event("stubborn", "stopped");
  REQUIRE(stubborn != nullptr);
  CHECK(stubborn->str("reason") == "killed by SIGKILL");
  CHECK(strays().empty());
}

TEST_CASE("kill_mode process: the stop signal reaches the main process, not its group") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: whole
      command: [@CHILD@, --name, whole, --fork, --term-delay, "300"]
    - name: main
      kill_mode: process
      command: [@CHILD@, --name, main, --fork, --term-delay, "300"]
)");
  for (const char* name : {"whole", "whole.child", "main", "main.child"}) {
    REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", name), otpd.transcript());
  }
  const pid_t left_behind = box.pid("main.child");
  otpd.signal(SIGTERM);
  REQUIRE_MESSAGE(otpd.wait_exit() == 0, otpd.transcript());
  CHECK(box.count_recorded("term", "main") == 1);
  // main took 300 ms to exit: time enough for its copy to record a SIGTERM.
  CHECK(box.count_recorded("term", "main.child") == 0);
  CHECK(box.count_recorded("term", "whole") == 1);
  CHECK(box.count_recorded("term", "whole.child") == 1);
  // What was left of main's group was killed once main had been reaped.
  CHECK_FALSE(running(left_behind));
  CHECK(strays().empty());
}

TEST_CASE("a cwd that does not exist stops otpd and otpd check at its line") {
  Sandbox box;
  const std::string yaml = R"(
tree:
  children:
    - name: a
      cwd: @DIR@/missing
      command: [@CHILD@, --name, a]
)";
  const std::string file = box.write("check.yaml", yaml);
  const auto [code, output] = check(file);
  CHECK_MESSAGE(code == 1, output);
  CHECK_MESSAGE(output.find(file + ":5:12: cwd: '" + box.dir() + "/missing' does not exist") !=
                    std::string::npos,
                output);

  Otpd otpd = Otpd::run(box, yaml);
  REQUIRE_MESSAGE(otpd.wait_exit() == 2, otpd.transcript());
  CHECK_MESSAGE(otpd.logged("otpd.yaml:5:12: cwd: '" + box.dir() + "/missing' does not exist"),
                otpd.transcript());
  CHECK(box.records().empty());
}

TEST_CASE("an unknown user or group is a config error at its place") {
  Sandbox box;
  const std::string file = box.write("check.yaml", R"(
tree:
  children:
    - name: a
      user: otpd-no-such-user
      command: [@CHILD@, --name, a]
)");
  auto [code, output] = check(file);
  CHECK_MESSAGE(code == 1, output);
  CHECK_MESSAGE(
      output.find(file + ":5:13: user: unknown user 'otpd-no-such-user'") != std::string::npos,
      output);

  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
      groups: [nogroup, otpd-no-such-group]
)");
  REQUIRE_MESSAGE(otpd.wait_exit() == 2, otpd.transcript());
  CHECK_MESSAGE(otpd.logged("otpd.yaml:6:25: groups: unknown group 'otpd-no-such-group'"),
                otpd.transcript());
  CHECK(box.records().empty());
}

TEST_CASE("without root, naming another user is a config error") {
  if (!is_root()) {
    MESSAGE("skipped: needs root to run otpd check as nobody");
    return;
  }
  Sandbox box;
  share_with_everyone(box);
  const std::string file = box.write("check.yaml", R"(
tree:
  children:
    - name: a
      user: root
      command: [@CHILD@, --name, a]
    - name: b
      user: nobody
      group: "65534"
      command: [@CHILD@, --name, b]
)");
  chmod(file.c_str(), 0644);
  const Options as_nobody{
      .wrapper = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}};
  auto [code, output] = check(file, as_nobody);
  CHECK_MESSAGE(code == 1, output);
  CHECK_MESSAGE(
      output.find(file + ":5:13: user: only root can run a child as another user; otpd runs "
                         "as nobody (uid 65534)") != std::string::npos,
      output);
  // Its own user and group are fine.
  box.write("check.yaml", R"(
tree:
  children:
    - name: b
      user: nobody
      group: "65534"
      command: [@CHILD@, --name, b]
)");
  std::tie(code, output) = check(file, as_nobody);
  CHECK_MESSAGE(code == 0, output);
}

TEST_CASE("a step that fails in the child is a start failure naming the step and the reason") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      rlimits: {nofile: 2000000000}
      command: [@CHILD@, --name, a]
)");
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK_MESSAGE(otpd.logged("failed to start child 'a': cannot set the nofile limit to "
                            "2000000000 (soft), 2000000000 (hard): Operation not permitted"),
                otpd.transcript());
  CHECK(box.records().empty());
}

TEST_CASE("a user the kernel refuses at start is a start failure naming the user") {
  if (!is_root()) {
    MESSAGE("skipped: needs root");
    return;
  }
  // In a user namespace that maps root alone, otpd is root but may neither
  // set groups nor become nobody, whom it can still look up.
  if (system("/usr/bin/unshare --user --map-root-user /bin/true 2>/dev/null") != 0) {
    MESSAGE("skipped: no user namespaces here");
    return;
  }
  Sandbox box;
  const Options in_namespace{.wrapper = {"/usr/bin/unshare", "--user", "--map-root-user"}};
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      user: nobody
      command: [@CHILD@, --name, a]
)",
                        in_namespace);
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK_MESSAGE(otpd.logged("failed to start child 'a': cannot set the supplementary groups of "
                            "user nobody (65534): Operation not permitted"),
                otpd.transcript());
}

TEST_CASE("${VAR} in values: otpd's environment and the env file reach the child; shell is left") {
  Sandbox box;
  box.write("app.env", "OTPD_T_PORT=5432\n");
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: db
      env_file: app.env
      env: {OTPD_T_DATA: "/srv/${OTPD_T_ROLE}"}
      command: [@CHILD@, --name, "db-${OTPD_T_ROLE}-${OTPD_T_PORT}", --report-env, OTPD_T_DATA]
    - name: sh
      env: {OTPD_T_LATER: from-env}
      shell: 'exec @CHILD@ --name "sh-${OTPD_T_LATER}"'
)",
                        {.env = {"OTPD_T_ROLE=primary"}});
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "env", "db-primary-5432"), otpd.transcript());
  CHECK(box.recorded_value("env", "db-primary-5432") == "OTPD_T_DATA=/srv/primary");
  // The shell expanded its own, from the child's environment.
  CHECK_MESSAGE(otpd.wait_recorded(box, "start", "sh-from-env"), otpd.transcript());
}

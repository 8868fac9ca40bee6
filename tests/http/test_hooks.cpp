// Event hooks of a real otpd: a matching event runs the command with the
// event on stdin and in its environment; filters, timeouts, the bound on
// runs and waiting events, captured output, and no hook outliving otpd.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "http_client.hpp"
#include "live_daemon.hpp"

namespace {

using namespace otpd::http_test;
using otpd::ctl_test::LiveDaemon;
namespace it = otpd::it;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Waits up to 10 s for `path` to hold `min_size` bytes or more.
bool wait_file(const std::string& path, std::size_t min_size = 1) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (read_file(path).size() >= min_size) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string children_ab() {
  return "tree:\n"
         "  intensity: 100\n"
         "  children:\n"
         "    - name: a\n"
         "      command: [@CHILD@, --name, a]\n"
         "    - name: b\n"
         "      command: [@CHILD@, --name, b]\n";
}

}  // namespace

TEST_CASE("A hook gets the event as JSON on stdin and in its environment, for matching events") {
  LiveDaemon d(
      "hooks:\n"
      "  - name: record\n"
      "    on: [exited, gave_up]\n"
      "    paths: [a]\n"
      "    command: 'cat > @DIR@/hook.json; env | grep ^OTPD_ | sort > @DIR@/hook.env'\n" +
      children_ab());
  ::kill(d.box.pid("b"), SIGKILL);
  REQUIRE(d.otpd.wait_event("b", "started", 2));
  const int pid = d.box.pid("a");
  ::kill(pid, SIGKILL);
  REQUIRE(wait_file(d.box.path("hook.env"), 10));
  REQUIRE(wait_file(d.box.path("hook.json")));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the env file written whole
  const auto event = nlohmann::json::parse(read_file(d.box.path("hook.json")), nullptr, false);
  REQUIRE_MESSAGE(event.is_object(), read_file(d.box.path("hook.json")));
  CHECK(event["event"] == "exited");
  CHECK(event["path"] == "a");
  CHECK(event["pid"] == pid);
  CHECK(event["signal"] == "SIGKILL");
  const std::string env = read_file(d.box.path("hook.env"));
  CHECK_MESSAGE(contains(env, "OTPD_EVENT=exited\n"), env);
  CHECK(contains(env, "OTPD_PATH=a\n"));
  CHECK(contains(env, "OTPD_PID=" + std::to_string(pid) + "\n"));
  CHECK(contains(env, "OTPD_SIGNAL=SIGKILL\n"));
  CHECK(contains(env, "OTPD_HOOK=record\n"));
  // b's exit matched no filter: the first run, which wrote the files, was a's.
}

TEST_CASE("A hook that outlasts its timeout is killed, and its output is captured") {
  LiveDaemon d(
      "hooks:\n"
      "  - name: slow\n"
      "    on: exited\n"
      "    command: 'echo hello from the hook; exec sleep 30'\n"
      "    timeout: 300ms\n" +
      children_ab());
  ::kill(d.box.pid("a"), SIGKILL);
  CHECK(d.otpd.wait_message("hook slow for exited a outlasted its timeout of 300ms"));
  CHECK(d.otpd.wait_for([&] {
    for (const auto& line : d.otpd.lines()) {
      if (line.str("path") == "hook:slow" && contains(line.text, "hello from the hook"))
        return true;
    }
    return false;
  }));
}

TEST_CASE("Hooks never hold up restarts: runs are bounded and extra events dropped") {
  const int port = free_port();
  LiveDaemon d(http_section(port) +
               "hooks:\n"
               "  - name: busy\n"
               "    on: [exited]\n"
               "    command: [sleep, '5']\n"
               "    max_running: 1\n"
               "    max_queued: 1\n" +
               children_ab());
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    ::kill(d.otpd.pid_of("a"), SIGKILL);
    REQUIRE(d.otpd.wait_event("a", "started", i + 2));
  }
  // Five restarts while one hook sleeps 5 s: none waited for it.
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));
  const Reply metrics = get(Endpoint{port, {}}, "/metrics");
  CHECK_MESSAGE(contains(metrics.body, "otpd_hooks_running 1\n"), metrics.body);
  CHECK(contains(metrics.body, "otpd_hooks_dropped_total 3\n"));
  CHECK(d.otpd.logged("hook busy: 1 events already wait; dropped exited a"));
}

TEST_CASE("A hook still running when otpd stops is killed with it") {
  it::Sandbox box;
  it::Otpd otpd = it::Otpd::run(box,
                                "hooks:\n"
                                "  - name: lingering\n"
                                "    on: exited\n"
                                "    command: 'echo $$ > @DIR@/hook.pid; exec sleep 60'\n" +
                                    children_ab(),
                                it::Options{{"OTPD_SOCKET=" + box.path("otpd.sock")}});
  REQUIRE(otpd.wait_message("tree started"));
  REQUIRE(otpd.wait_recorded(box, "start", "a"));
  ::kill(box.pid("a"), SIGKILL);
  REQUIRE(wait_file(box.path("hook.pid"), 2));
  const pid_t hook = std::stoi(read_file(box.path("hook.pid")));
  CHECK(it::running(hook));
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (it::running(hook) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK_FALSE(it::running(hook));
}

TEST_CASE("A reload adds, changes and removes hooks, and a removed hook's run ends as it would") {
  LiveDaemon d(
      "hooks:\n"
      "  - name: old\n"
      "    on: exited\n"
      "    paths: [a]\n"
      "    command: 'echo $$ > @DIR@/old.pid; exec sleep 60'\n"
      "    timeout: 1s\n" +
      children_ab());
  ::kill(d.box.pid("a"), SIGKILL);
  REQUIRE(wait_file(d.box.path("old.pid"), 2));
  const pid_t old_run = std::stoi(read_file(d.box.path("old.pid")));

  d.box.write("otpd.yaml",
              "hooks:\n"
              "  - name: new\n"
              "    on: exited\n"
              "    paths: [a, b]\n"
              "    command: 'echo $OTPD_PATH >> @DIR@/new.out'\n" +
                  children_ab());
  const auto reload = d.ctl({"reload"});
  CHECK_MESSAGE(contains(reload.out, "~ hooks: added new; removed old"), reload.out << reload.err);
  // The old hook's run keeps its timeout: killed a second after it began.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (it::running(old_run) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK_FALSE(it::running(old_run));
  CHECK(d.otpd.wait_for(
      [&] { return d.otpd.logged("hook old for exited a outlasted its timeout"); }));

  ::kill(d.box.pid("b"), SIGKILL);
  REQUIRE(wait_file(d.box.path("new.out"), 2));
  CHECK(read_file(d.box.path("new.out")) == "b\n");
  // The removed hook runs no more: the new one runs for a, the old one not.
  std::filesystem::remove(d.box.path("old.pid"));
  ::kill(d.otpd.pid_of("a"), SIGKILL);
  REQUIRE(wait_file(d.box.path("new.out"), 4));
  CHECK(read_file(d.box.path("new.out")) == "b\na\n");
  CHECK_FALSE(std::filesystem::exists(d.box.path("old.pid")));
}

TEST_CASE("A misspelt event kind in a hook is an error at its place") {
  it::Sandbox box;
  const std::string config = box.write("otpd.yaml",
                                       "hooks:\n"
                                       "  - name: x\n"
                                       "    on: [exitted]\n"
                                       "    command: [true]\n" +
                                           children_ab());
  const auto result = it::run_to_end({"check", config});
  CHECK(result.code == 1);
  CHECK_MESSAGE(contains(result.err, "otpd.yaml:3:10: hooks.on: expected an event kind"),
                result.err);
  CHECK(contains(result.err, "did you mean 'exited'?"));
}

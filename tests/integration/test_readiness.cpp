// Readiness and watchdogs with a real otpd and real children
// (tests/helpers/notify_child.c): start order waits for readiness, each way
// of being ready, start timeouts, watchdog kills.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>

#include "harness.hpp"

using namespace otpd::it;
using Strings = std::vector<std::string>;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::string with_notify_child(std::string yaml) {
  const std::string marker = "@NOTIFY@";
  for (auto at = yaml.find(marker); at != std::string::npos; at = yaml.find(marker)) {
    yaml.replace(at, marker.size(), OTPD_TEST_NOTIFY_CHILD);
  }
  return yaml;
}

Otpd run(const Sandbox& box, const std::string& yaml) {
  return Otpd::run(box, with_notify_child(yaml));
}

// A TCP port nobody listens on right now.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  return ntohs(address.sin_port);
}

Ms since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<Ms>(SteadyClock::now() - start);
}

}  // namespace

TEST_CASE("the next child starts only once the previous one sent READY=1") {
  Sandbox box;
  Otpd otpd = run(box, R"(
tree:
  strategy: rest_for_one
  children:
    - name: db
      command: [@NOTIFY@, --name, db, --ready-after, 300, --status, warming up]
      ready: notify
      start_timeout: 5s
    - name: api
      command: [@CHILD@, --name, api]
)");
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "api"), otpd.transcript());
  CHECK(box.recorded({"start", "ready"}) == Strings{"start db", "ready db", "start api"});
  REQUIRE(otpd.wait_event("/", "started"));
  CHECK(otpd.events({"started", "ready"}) ==
        Strings{"started db", "ready db", "started api", "started /"});
  const Line* ready = otpd.event("db", "ready");
  REQUIRE(ready != nullptr);
  CHECK(ready->str("reason") == "READY=1");
  CHECK(ready->num("pid") == box.pid("db"));
}

TEST_CASE("ready: fd, the child writes a newline to the descriptor it was given") {
  Sandbox box;
  Otpd otpd = run(box, R"(
tree:
  children:
    - name: a
      command: [@NOTIFY@, --name, a, --fd, 5, --fd-after, 200]
      ready: {fd: 5}
      start_timeout: 5s
    - name: b
      command: [@CHILD@, --name, b, --report-fds]
)");
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "b"), otpd.transcript());
  CHECK(box.recorded({"start", "ready"}) == Strings{"start a", "ready a", "start b"});
  REQUIRE(otpd.wait_event("a", "ready"));
  CHECK(otpd.event("a", "ready")->str("reason") == "wrote a newline to fd 5");
  // The pipe went to a alone.
  REQUIRE(otpd.wait_recorded(box, "fds", "b"));
  CHECK(box.recorded_value("fds", "b") == "none");
}

TEST_CASE("ready: fd, closing the descriptor without a newline fails the start") {
  Sandbox box;
  Otpd otpd = run(box, R"(
tree:
  children:
    - name: a
      command: [@NOTIFY@, --name, a, --fd, 3, --fd-close, 100]
      ready: {fd: 3}
)");
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK_MESSAGE(otpd.logged("failed to start child 'a': closed its readiness descriptor (fd 3) "
                            "without writing a newline"),
                otpd.transcript());
  CHECK(strays().empty());
}

TEST_CASE("ready: tcp, the next child starts once the port accepts") {
  Sandbox box;
  const int port = free_port();
  Otpd otpd = run(box, R"(
tree:
  children:
    - name: web
      command: [@NOTIFY@, --name, web, --listen, )" +
                           std::to_string(port) +
                           R"(, --listen-after, 300]
      ready: {tcp: )" + std::to_string(port) +
                           R"(, interval: 50ms}
      start_timeout: 5s
    - name: b
      command: [@CHILD@, --name, b]
)");
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "b"), otpd.transcript());
  CHECK(box.recorded({"start", "ready"}) == Strings{"start web", "ready web", "start b"});
  REQUIRE(otpd.wait_event("web", "ready"));
  CHECK(otpd.event("web", "ready")->str("reason") ==
        "127.0.0.1:" + std::to_string(port) + " accepts connections");
}

TEST_CASE("ready: exec, polled until the command succeeds") {
  Sandbox box;
  Otpd otpd = run(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
      ready: {exec: "echo probe >> @DIR@/probes; test -e @DIR@/flag", interval: 50ms}
      start_timeout: 10s
    - name: b
      command: [@CHILD@, --name, b]
)");
  REQUIRE(otpd.wait_recorded(box, "start", "a"));
  // Three probes fail meanwhile (each leaves a line); b must still wait.
  const auto probes = [&] {
    std::ifstream in(box.path("probes"));
    return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
  };
  REQUIRE_MESSAGE(otpd.wait_for([&] { return probes() >= 3; }), otpd.transcript());
  CHECK(box.count_recorded("start", "b") == 0);
  std::ofstream(box.path("flag")) << "";
  REQUIRE_MESSAGE(otpd.wait_event("b", "started"), otpd.transcript());
  REQUIRE(otpd.wait_event("a", "ready"));
  CHECK(otpd.event("a", "ready")->str("reason") ==
        "'echo probe >> " + box.dir() + "/probes; test -e " + box.dir() + "/flag' succeeded");
}

namespace {

// When otpd stamped an event, in milliseconds since the epoch.
long long event_ms(Otpd& otpd, std::string_view path, std::string_view kind) {
  const auto* event = otpd.event(path, kind);
  REQUIRE(event != nullptr);
  const std::string stamp = event->str("time");  // 2026-11-24T13:55:44.321Z
  std::tm parts{};
  const char* rest = strptime(stamp.c_str(), "%Y-%m-%dT%H:%M:%S", &parts);
  REQUIRE(rest != nullptr);
  REQUIRE(std::string_view(rest).size() == 5);
  return static_cast<long long>(timegm(&parts)) * 1000 + std::stoi(std::string(rest + 1, 3));
}

}  // namespace

TEST_CASE("ready: delay, the next child waits that long") {
  Sandbox box;
  Otpd otpd = run(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
      ready: {delay: 500ms}
    - name: b
      command: [@CHILD@, --name, b]
)");
  REQUIRE_MESSAGE(otpd.wait_event("b", "starting"), otpd.transcript());
  // otpd's own clock, not the test's: how late the test sees an event
  // depends on the machine's load. Both stamps are cut to milliseconds.
  CHECK(event_ms(otpd, "b", "starting") - event_ms(otpd, "a", "started") >= 499);
  REQUIRE(otpd.wait_event("a", "ready"));
  CHECK(otpd.event("a", "ready")->str("reason") == "up for 500ms");
}

TEST_CASE("a child not ready within start_timeout is killed and the start fails") {
  Sandbox box;
  Otpd otpd = run(box, R"(
tree:
  children:
    - name: a
      command: [@NOTIFY@, --name, a]
      ready: notify
      start_timeout: 500ms
    - name: b
      command: [@CHILD@, --name, b]
)");
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK_MESSAGE(otpd.logged("could not start the tree: failed to start child 'a': not ready "
                            "after 500ms: no READY=1 arrived (no sd_notify message at all); "),
                otpd.transcript());
  CHECK(otpd.count("a", "start_failed") == 1);
  CHECK(otpd.count("a", "exited") == 0);
  CHECK(box.count_recorded("start", "b") == 0);
  CHECK(strays().empty());
}

TEST_CASE("a child that exits before it is ready fails its start") {
  Sandbox box;
  Otpd otpd = run(box, R"(
tree:
  children:
    - name: a
      command: [@NOTIFY@, --name, a, --exit-after, 100, --code, 4]
      ready: notify
)");
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK_MESSAGE(otpd.logged("failed to start child 'a': exited before it was ready (exited with "
                            "status 4)"),
                otpd.transcript());
}

TEST_CASE("ready: tcp, a port that answers through another process's listener is not ready") {
  // This test process listens: to otpd that is a copy left running.
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(listen(listener, 16) == 0);
  socklen_t size = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size);
  const std::string port = std::to_string(ntohs(address.sin_port));

  Sandbox box;
  Otpd otpd = run(box, R"(
tree:
  children:
    - name: web
      command: [@CHILD@, --name, web]
      ready: {tcp: )" + port +
                           R"(, interval: 50ms}
      start_timeout: 1s
)");
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK_MESSAGE(otpd.logged("failed to start child 'web': not ready after 1s: 127.0.0.1:" + port +
                            " answered, but its listener is pid " + std::to_string(getpid())),
                otpd.transcript());
  CHECK(otpd.count("web", "ready") == 0);
  close(listener);
  CHECK(strays().empty());
}

TEST_CASE("SIGTERM during a readiness wait stops otpd at once") {
  Sandbox box;
  Otpd otpd = run(box, R"(
tree:
  children:
    - name: a
      command: [@NOTIFY@, --name, a]
      ready: notify
      start_timeout: 60s
)");
  REQUIRE(otpd.wait_recorded(box, "start", "a"));
  const auto asked = SteadyClock::now();
  otpd.signal(SIGTERM);
  REQUIRE_MESSAGE(otpd.wait_exit(Ms(5000)) == 0, otpd.transcript());
  CHECK(since(asked) < Ms(3000));
  CHECK(box.count_recorded("exit", "a") == 1);  // stopped by SIGTERM, not killed
  CHECK(strays().empty());
}

TEST_CASE("a child that stops pinging its watchdog is killed and restarted as a crash") {
  Sandbox box;
  Otpd otpd = run(box, R"(
tree:
  children:
    - name: a
      command: [@NOTIFY@, --name, a, --ready-after, 0, --watchdog-every, 100,
                --watchdog-stop, 600]
      ready: notify
      watchdog: 500ms
      shutdown: 500ms
)");
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "a", 2), otpd.transcript());
  REQUIRE(otpd.wait_event("a", "exited"));
  const Line* exited = otpd.event("a", "exited");
  CHECK(exited->str("reason") == "watchdog timeout (no WATCHDOG=1 for 500ms), killed by SIGABRT");
  CHECK(exited->str("signal") == "SIGABRT");
  // The pings kept it alive until it stopped sending them.
  CHECK(box.count_recorded("watchdog-off", "a") >= 1);
  CHECK(otpd.count("a", "restarting") >= 1);
}

TEST_CASE("WATCHDOG=trigger kills the child at once") {
  Sandbox box;
  Otpd otpd = run(box, R"(
tree:
  children:
    - name: a
      command: [@NOTIFY@, --name, a, --ready-after, 0, --watchdog-trigger, 200]
      ready: notify
      watchdog: 10s
)");
  REQUIRE_MESSAGE(otpd.wait_event("a", "exited"), otpd.transcript());
  CHECK(otpd.event("a", "exited")->str("reason") ==
        "watchdog triggered by the child (WATCHDOG=trigger), killed by SIGABRT");
  CHECK(otpd.wait_event("a", "started", 2));
}

TEST_CASE("a READY=1 from a process outside the child's group is ignored") {
  Sandbox box;
  Otpd otpd = run(box, R"(
tree:
  children:
    - name: a
      command: [@NOTIFY@, --name, a]
      ready: notify
      start_timeout: 1s
)");
  REQUIRE(otpd.wait_recorded(box, "start", "a"));
  const std::string name = "otpd/" + std::to_string(otpd.pid()) + "/notify";
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const char message[] = "READY=1";
  CHECK(sendto(fd, message, sizeof message - 1, 0, reinterpret_cast<sockaddr*>(&address),
               static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size())) ==
        static_cast<ssize_t>(sizeof message - 1));
  close(fd);
  REQUIRE_MESSAGE(otpd.wait_exit() == 1, otpd.transcript());
  CHECK(otpd.count("a", "ready") == 0);
  CHECK(otpd.logged("not ready after 1s"));
}

// otpd under a service manager: the sd_notify protocol on NOTIFY_SOCKET.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <string>

#include "harness.hpp"

using namespace otpd::it;

namespace {

// A datagram socket standing in for systemd's notification socket.
class FakeManager {
 public:
  explicit FakeManager(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~FakeManager() { close(fd_); }

  // The next message, or "" when none comes within `timeout_ms`.
  std::string next(int timeout_ms = 5000) {
    pollfd ready{fd_, POLLIN, 0};
    if (poll(&ready, 1, timeout_ms) != 1) return {};
    char buffer[4096];
    const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  int fd_ = -1;
};

}  // namespace

TEST_CASE("otpd tells its service manager when the tree is ready and when it stops") {
  Sandbox box;
  FakeManager manager(box.path("notify"));
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a, --report-env, NOTIFY_SOCKET]
)",
                        {.env = {"NOTIFY_SOCKET=" + box.path("notify")}});
  const std::string ready = manager.next();
  CHECK(ready == "READY=1\nSTATUS=1 process: 1 running");
  CHECK(otpd.wait_message("tree started"));
  // The children must not speak to otpd's manager in otpd's name.
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "env", "a"), otpd.transcript());
  CHECK(box.recorded_value("env", "a") == "NOTIFY_SOCKET");
  otpd.signal(SIGTERM);
  CHECK(manager.next() == "STOPPING=1\nSTATUS=stopping the tree (received SIGTERM)");
  CHECK(otpd.wait_exit() == 0);
}

TEST_CASE("otpd feeds its service manager's watchdog and hides it from the children") {
  Sandbox box;
  FakeManager manager(box.path("notify"));
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a, --report-env, WATCHDOG_USEC]
)",
                        {.env = {"NOTIFY_SOCKET=" + box.path("notify"), "WATCHDOG_USEC=200000"}});
  int pings = 0;
  bool ready = false;
  // Pings keep coming, 100 ms apart; the deadline only bounds a broken run.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((pings < 5 || !ready) && std::chrono::steady_clock::now() < until) {
    const std::string message = manager.next(300);
    if (message == "WATCHDOG=1") ++pings;
    if (message.starts_with("READY=1")) ready = true;
  }
  CHECK(ready);
  CHECK(pings >= 5);
  CHECK(otpd.wait_message("the service manager watches otpd: WATCHDOG=1 every 100ms"));
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "env", "a"), otpd.transcript());
  CHECK(box.recorded_value("env", "a") == "WATCHDOG_USEC");
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
}

TEST_CASE("a watchdog meant for another process is left alone") {
  Sandbox box;
  FakeManager manager(box.path("notify"));
  Otpd otpd = Otpd::run(
      box, "tree:\n  children: []\n",
      {.env = {"NOTIFY_SOCKET=" + box.path("notify"), "WATCHDOG_USEC=100000", "WATCHDOG_PID=1"}});
  CHECK(manager.next().starts_with("READY=1"));
  CHECK(manager.next(400).empty());
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
}

TEST_CASE("otpd keeps the manager's STATUS= line current as children come and go") {
  Sandbox box;
  FakeManager manager(box.path("notify"));
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: steady
      command: [@CHILD@, --name, steady]
    - name: flaky
      command: [@CHILD@, --name, flaky, --exit-after, 200, --code, 1]
      backoff: {initial: 5s}
)",
                        {.env = {"NOTIFY_SOCKET=" + box.path("notify")}});
  CHECK(manager.next() == "READY=1\nSTATUS=2 processes: 2 running");
  // One update a second at most, once the restart is under way.
  CHECK(manager.next(3000) == "STATUS=2 processes: 1 running, 1 backoff");
  otpd.signal(SIGTERM);
  CHECK(manager.next().starts_with("STOPPING=1"));
  CHECK(otpd.wait_exit() == 0);
}

TEST_CASE("otpd tells its service manager RELOADING=1, then READY=1, around a reload") {
  Sandbox box;
  FakeManager manager(box.path("notify"));
  Otpd otpd =
      Otpd::run(box, "tree:\n  children:\n    - name: a\n      command: [@CHILD@, --name, a]\n",
                {.env = {"NOTIFY_SOCKET=" + box.path("notify")}});
  CHECK(manager.next() == "READY=1\nSTATUS=1 process: 1 running");
  box.write("otpd.yaml",
            "tree:\n  children:\n    - name: a\n      command: [@CHILD@, --name, a]\n"
            "    - name: b\n      command: [@CHILD@, --name, b]\n");
  timespec before{};
  clock_gettime(CLOCK_MONOTONIC, &before);
  otpd.signal(SIGHUP);
  const std::string reloading = manager.next();
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  REQUIRE_MESSAGE(reloading.rfind(prefix, 0) == 0, reloading);
  // The usec value is otpd's CLOCK_MONOTONIC when the reload began.
  const long long usec = std::stoll(reloading.substr(prefix.size()));
  CHECK(usec >= before.tv_sec * 1'000'000LL + before.tv_nsec / 1000);
  CHECK(reloading.find("\nSTATUS=reloading " + box.path("otpd.yaml")) != std::string::npos);
  CHECK(manager.next() == "READY=1\nSTATUS=2 processes: 2 running");

  // A failed reload ends with READY=1 too, and says that it failed.
  box.write("otpd.yaml", "tree:\n  children: [\n");
  otpd.signal(SIGHUP);
  CHECK(manager.next().rfind("RELOADING=1\n", 0) == 0);
  const std::string after_failure = manager.next();
  CHECK_MESSAGE(after_failure.rfind("READY=1\nSTATUS=2 processes: 2 running; the last reload "
                                    "failed: " +
                                        box.path("otpd.yaml") + ":",
                                    0) == 0,
                after_failure);
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
}

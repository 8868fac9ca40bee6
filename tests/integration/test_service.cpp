// otpd under a service manager: the sd_notify protocol on NOTIFY_SOCKET.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

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
  CHECK(ready == "READY=1\nSTATUS=running 1 processes under 1 supervisors");
  CHECK(otpd.wait_message("tree started"));
  // The children must not speak to otpd's manager in otpd's name.
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "env", "a"), otpd.transcript());
  CHECK(box.recorded_value("env", "a") == "NOTIFY_SOCKET");
  otpd.signal(SIGTERM);
  CHECK(manager.next() == "STOPPING=1\nSTATUS=stopping the tree (received SIGTERM)");
  CHECK(otpd.wait_exit() == 0);
}

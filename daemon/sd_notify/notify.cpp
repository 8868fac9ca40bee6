#include "sd_notify/notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace otpd::sd_notify {

namespace {

// sd_watchdog_enabled()'s rules: WATCHDOG_USEC is a positive number, and
// WATCHDOG_PID, when set, names this process (it is not meant for a child
// that inherited it).
std::optional<std::chrono::microseconds> read_watchdog_timeout() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  if (usec == nullptr) return std::nullopt;
  char* end = nullptr;
  const unsigned long long timeout = std::strtoull(usec, &end, 10);
  if (end == usec || *end != '\0' || timeout == 0) return std::nullopt;
  if (pid != nullptr && std::strtoll(pid, nullptr, 10) != static_cast<long long>(getpid())) {
    return std::nullopt;
  }
  return std::chrono::microseconds(timeout);
}

}  // namespace

Notifier::Notifier() {
  watchdog_timeout_ = read_watchdog_timeout();
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return;
  address_ = path;
  unsetenv("NOTIFY_SOCKET");
  // "@name" names a socket in the abstract namespace.
  if (address_.front() == '@') address_.front() = '\0';
  if ((address_.front() != '/' && address_.front() != '\0') ||
      address_.size() >= sizeof(sockaddr_un::sun_path)) {
    return;
  }
  fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

Notifier::~Notifier() {
  if (fd_ >= 0) close(fd_);
}

void Notifier::ready(std::string_view status) {
  send("READY=1\nSTATUS=" + std::string(status));
}

void Notifier::status(std::string_view status) {
  send("STATUS=" + std::string(status));
}

void Notifier::reloading(std::string_view status) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const long long usec = static_cast<long long>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=" + std::string(status));
}

void Notifier::stopping(std::string_view status) {
  send("STOPPING=1\nSTATUS=" + std::string(status));
}

void Notifier::watchdog() {
  send("WATCHDOG=1");
}

// A datagram each: the manager reads whole messages. A manager that is gone
// or slow must not hold up the supervisor, so nothing waits or retries.
void Notifier::send(const std::string& message) {
  if (fd_ < 0) return;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, address_.data(), address_.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
  sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
         reinterpret_cast<const sockaddr*>(&address), length);
}

}  // namespace otpd::sd_notify

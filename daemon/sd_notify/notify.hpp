// Telling a service manager (systemd, or anything speaking its sd_notify
// protocol) how otpd is doing: READY=1 once the tree has started,
// STOPPING=1 when the orderly stop begins, RELOADING=1 while a reload is
// applied, STATUS= lines in between.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace otpd::sd_notify {

class Notifier {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID and removes them
  // from otpd's environment, so that the children neither talk to otpd's
  // manager in otpd's name nor believe they are watched. Without
  // NOTIFY_SOCKET, every call is a no-op.
  Notifier();
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  bool active() const { return fd_ >= 0; }
  void ready(std::string_view status);
  void status(std::string_view status);
  void stopping(std::string_view status);
  void watchdog();

  // How often the manager expects WATCHDOG=1 (WatchdogSec=), when it
  // watches otpd.
  std::optional<std::chrono::microseconds> watchdog_timeout() const { return watchdog_timeout_; }
  // A reload begins; ready() says when it is done. MONOTONIC_USEC tells
  // systemd (Type=notify-reload) which reload this is.
  void reloading(std::string_view status);

 private:
  void send(const std::string& message);

  int fd_ = -1;
  std::optional<std::chrono::microseconds> watchdog_timeout_;
  std::string address_;  // sun_path; a leading '\0' for the abstract namespace
};

}  // namespace otpd::sd_notify

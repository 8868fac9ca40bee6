// The sd_notify protocol as a child speaks it to otpd: one datagram of
// newline-separated VARIABLE=VALUE assignments (see sd_notify(3)).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace otpd::sd_notify {

struct NotifyMessage {
  bool ready = false;                                         // READY=1
  std::optional<std::string> status{};                        // STATUS=...
  bool watchdog = false;                                      // WATCHDOG=1
  bool watchdog_trigger = false;                              // WATCHDOG=trigger
  bool stopping = false;                                      // STOPPING=1
  int main_pid = 0;                                           // MAINPID=N
  std::optional<std::chrono::milliseconds> extend_timeout{};  // EXTEND_TIMEOUT_USEC=N
};

// Unknown assignments and malformed lines are ignored, as systemd does; the
// last of repeated assignments wins.
NotifyMessage parse_notify(std::string_view datagram);

// STATUS= is shown to people and put in JSON: at most this many bytes are kept.
inline constexpr std::size_t kMaxNotifyStatus = 512;

}  // namespace otpd::sd_notify

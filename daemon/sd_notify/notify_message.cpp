#include "sd_notify/notify_message.hpp"

#include <charconv>
#include <cstdint>

namespace otpd::sd_notify {
namespace {

template <typename Number>
std::optional<Number> number(std::string_view text) {
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

NotifyMessage parse_notify(std::string_view datagram) {
  NotifyMessage message;
  while (!datagram.empty()) {
    const auto newline = datagram.find('\n');
    const std::string_view line = datagram.substr(0, newline);
    datagram.remove_prefix(newline == std::string_view::npos ? datagram.size() : newline + 1);
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, equals);
    const std::string_view value = line.substr(equals + 1);
    if (name == "READY") {
      message.ready = value == "1";
    } else if (name == "STATUS") {
      // Shown on terminals: no control characters (escape sequences).
      std::string status(value.substr(0, kMaxNotifyStatus));
      for (char& c : status) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
      }
      message.status = std::move(status);
    } else if (name == "WATCHDOG") {
      message.watchdog = value == "1";
      message.watchdog_trigger = value == "trigger";
    } else if (name == "STOPPING") {
      message.stopping = value == "1";
    } else if (name == "MAINPID") {
      if (auto pid = number<int>(value); pid && *pid > 0) message.main_pid = *pid;
    } else if (name == "EXTEND_TIMEOUT_USEC") {
      if (auto usec = number<std::uint64_t>(value)) {
        message.extend_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::microseconds(static_cast<std::int64_t>(*usec)));
      }
    }
  }
  return message;
}

}  // namespace otpd::sd_notify

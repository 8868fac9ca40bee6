#include "systemd/watchdog.hpp"

#include <algorithm>

namespace otpd::systemd {

WatchdogPinger::WatchdogPinger(supervise::Host& host, sd_notify::Notifier& notifier)
    : host_(host), notifier_(notifier) {
  const auto timeout = notifier.watchdog_timeout();
  if (!notifier.active() || !timeout) return;
  // Half the timeout, as sd_watchdog_enabled(3) advises; at least 1 ms.
  interval_ = std::max(std::chrono::milliseconds(1),
                       std::chrono::duration_cast<std::chrono::milliseconds>(*timeout / 2));
  ping();
}

void WatchdogPinger::ping() {
  notifier_.watchdog();
  timer_ = host_.start_timer(interval_, [this] { ping(); });
}

}  // namespace otpd::systemd

// Keeping a service manager's watchdog (systemd's WatchdogSec=) fed: otpd
// sends WATCHDOG=1 at half the timeout from its event loop, so an event loop
// that hangs stops the pings and the manager restarts otpd.
#pragma once

#include <chrono>
#include <memory>

#include "sd_notify/notify.hpp"
#include "supervise/host.hpp"

namespace otpd::systemd {

class WatchdogPinger {
 public:
  // Does nothing when the manager does not watch otpd.
  WatchdogPinger(supervise::Host& host, sd_notify::Notifier& notifier);
  WatchdogPinger(const WatchdogPinger&) = delete;
  WatchdogPinger& operator=(const WatchdogPinger&) = delete;

  bool active() const { return interval_.count() > 0; }
  std::chrono::milliseconds interval() const { return interval_; }

 private:
  void ping();

  supervise::Host& host_;
  sd_notify::Notifier& notifier_;
  std::chrono::milliseconds interval_{0};
  std::unique_ptr<supervise::TimerHandle> timer_;
};

}  // namespace otpd::systemd

// Keeps the service manager's STATUS= line current: after tree events it
// sends a fresh summary, at most once a second, so that a restart storm
// costs the manager one message a second rather than one per event.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "control/event_hub.hpp"
#include "sd_notify/notify.hpp"
#include "supervise/host.hpp"

namespace otpd::systemd {

class StatusReporter final : public control::EventSubscriber {
 public:
  // `summary` is called when a STATUS= is due. Does nothing when no
  // manager listens.
  StatusReporter(supervise::Host& host, sd_notify::Notifier& notifier, control::EventHub& events,
                 std::function<std::string()> summary);
  ~StatusReporter() override;
  StatusReporter(const StatusReporter&) = delete;
  StatusReporter& operator=(const StatusReporter&) = delete;

  void on_event(std::string_view event) override;
  // READY=1 with the current summary.
  void ready();
  // No more updates: the final STATUS= (stopping, gave up) must stay.
  void stop();

 private:
  void report();

  supervise::Host& host_;
  sd_notify::Notifier& notifier_;
  control::EventHub& events_;
  std::function<std::string()> summary_;
  bool subscribed_ = false;
  std::string last_;  // what the manager shows now
  std::unique_ptr<supervise::TimerHandle> pending_;
};

}  // namespace otpd::systemd

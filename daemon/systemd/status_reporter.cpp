#include "systemd/status_reporter.hpp"

#include <chrono>

namespace otpd::systemd {

namespace {
constexpr std::chrono::milliseconds kSettle{1000};
}  // namespace

StatusReporter::StatusReporter(supervise::Host& host, sd_notify::Notifier& notifier,
                               control::EventHub& events, std::function<std::string()> summary)
    : host_(host), notifier_(notifier), events_(events), summary_(std::move(summary)) {
  if (!notifier_.active()) return;
  events_.subscribe(*this);
  subscribed_ = true;
}

StatusReporter::~StatusReporter() {
  stop();
}

void StatusReporter::on_event(std::string_view) {
  if (pending_) return;
  pending_ = host_.start_timer(kSettle, [this] { report(); });
}

void StatusReporter::ready() {
  pending_.reset();
  last_ = summary_();
  notifier_.ready(last_);
}

void StatusReporter::stop() {
  pending_.reset();
  if (subscribed_) events_.unsubscribe(*this);
  subscribed_ = false;
}

void StatusReporter::report() {
  pending_.reset();
  std::string now = summary_();
  if (now == last_) return;
  last_ = std::move(now);
  notifier_.status(last_);
}

}  // namespace otpd::systemd

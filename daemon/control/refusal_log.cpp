#include "control/refusal_log.hpp"

#include <boost/asio/io_context.hpp>

namespace otpd::control {
namespace {

std::size_t index_of(Refusal kind) {
  return static_cast<std::size_t>(kind);
}

}  // namespace

RefusalLog::RefusalLog(boost::asio::io_context& io, log::EventLog& log)
    : log_(log),
      timer_(io),
      tallies_{RefusalTally(Refusal::connection, kInterval),
               RefusalTally(Refusal::unidentified, kInterval),
               RefusalTally(Refusal::request, kInterval),
               RefusalTally(Refusal::slow_subscriber, kInterval),
               RefusalTally(Refusal::busy, kInterval)} {}

bool RefusalLog::admit(Refusal kind, uid_t uid) {
  const bool now = tallies_[index_of(kind)].admit(uid, RefusalTally::Clock::now());
  if (!now) schedule();
  return now;
}

std::uint64_t RefusalLog::count(Refusal kind) const {
  return tallies_[index_of(kind)].total();
}

// One timer for all kinds, set for the earliest summary due.
void RefusalLog::schedule() {
  if (timer_set_) return;
  std::optional<RefusalTally::Clock::time_point> earliest;
  for (const RefusalTally& tally : tallies_) {
    const auto due = tally.summary_due();
    if (due && (!earliest || *due < *earliest)) earliest = due;
  }
  if (!earliest) return;
  timer_set_ = true;
  timer_.expires_at(*earliest);
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;  // flushed: the server is closing, perhaps gone
    timer_set_ = false;
    write_due();
  });
}

void RefusalLog::write_due() {
  const auto now = RefusalTally::Clock::now();
  for (RefusalTally& tally : tallies_) {
    const auto due = tally.summary_due();
    if (due && *due <= now) log_.warning(tally.take_summary(now));
  }
  schedule();
}

void RefusalLog::flush() {
  timer_.cancel();
  const auto now = RefusalTally::Clock::now();
  for (RefusalTally& tally : tallies_) {
    const std::string summary = tally.take_summary(now);
    if (!summary.empty()) log_.warning(summary);
  }
}

}  // namespace otpd::control

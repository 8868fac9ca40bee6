// The control socket's refusals on the event loop: each kind tallied
// (refusal_tally.hpp), its summary written when due by a timer, and what is
// still held back written when the server closes. Internal to the server;
// it includes Asio.
#pragma once

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>

#include "control/refusal_tally.hpp"
#include "log/event_log.hpp"

namespace otpd::control {

class RefusalLog {
 public:
  // A flood of refusals costs at most one line per kind per interval.
  static constexpr std::chrono::seconds kInterval{10};

  RefusalLog(boost::asio::io_context& io, log::EventLog& log);
  RefusalLog(const RefusalLog&) = delete;
  RefusalLog& operator=(const RefusalLog&) = delete;

  // Counts one refusal; true when the caller should log it in full now,
  // false when it is held back for the next summary.
  bool admit(Refusal kind, uid_t uid);
  // Refusals of `kind` since otpd started.
  std::uint64_t count(Refusal kind) const;
  // Writes the summaries of everything held back, and stops the timer.
  void flush();

 private:
  void schedule();
  void write_due();

  log::EventLog& log_;
  boost::asio::steady_timer timer_;
  bool timer_set_ = false;
  std::array<RefusalTally, kRefusalKinds> tallies_;
};

}  // namespace otpd::control

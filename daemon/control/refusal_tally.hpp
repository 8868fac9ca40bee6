// Counting refusals that anyone who can reach the socket can cause at will,
// one per connection or request, so that they are logged at a bounded rate:
// the first after a quiet interval in full, then at most one summary line
// per interval with what was held back, by uid. Every refusal is counted.
// Pure (the caller passes the time), for unit tests; refusal_log.hpp puts
// it on the event loop.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace otpd::control {

enum class Refusal {
  connection,       // a peer neither otpd's user, root, nor in its groups
  unidentified,     // a peer whose credentials could not be read
  request,          // a command beyond read access
  slow_subscriber,  // a follower dropped for falling behind
  busy,             // a connection answered 'busy': otpd is out of descriptors
};
inline constexpr int kRefusalKinds = 5;

class RefusalTally {
 public:
  using Clock = std::chrono::steady_clock;

  RefusalTally(Refusal kind, Clock::duration interval) : kind_(kind), interval_(interval) {}

  // Counts one refusal of `uid` at `now`; true when it may be logged in
  // full now, false when it waits for the summary.
  bool admit(uid_t uid, Clock::time_point now);
  // When the summary of what is held back is due; nothing when none is.
  std::optional<Clock::time_point> summary_due() const;
  // The summary line of what was held back since the last line ("control:
  // refused 5600 more connections from uid 1001 in the last 10 s: ..."), and
  // a new interval from `now`; empty when nothing is held back.
  std::string take_summary(Clock::time_point now);

  std::uint64_t total() const { return total_; }
  std::uint64_t held() const { return held_; }

 private:
  // Uids named in a summary; the rest are counted together.
  static constexpr std::size_t kNamedUids = 8;

  Refusal kind_;
  Clock::duration interval_;
  std::uint64_t total_ = 0;
  std::uint64_t held_ = 0;
  std::optional<Clock::time_point> last_line_;
  std::vector<std::pair<uid_t, std::uint64_t>> held_by_uid_;
  std::uint64_t held_from_others_ = 0;
};

}  // namespace otpd::control

#include "control/refusal_tally.hpp"

#include <algorithm>

namespace otpd::control {
namespace {

struct Wording {
  const char* verb;
  const char* what;
  const char* why;
};

Wording wording(Refusal kind) {
  switch (kind) {
    case Refusal::connection:
      return {"refused", "connections", "not otpd's user nor in its groups"};
    case Refusal::unidentified:
      return {"refused", "connections", "their peer could not be identified"};
    case Refusal::request:
      return {"refused", "requests", "commands that need full access, from read-only users"};
    case Refusal::slow_subscriber:
      return {"dropped", "subscribers", "they fell more than 1 MiB behind"};
    case Refusal::busy:
      return {"answered", "connections with 'busy'", "otpd is out of file descriptors"};
  }
  return {"refused", "connections", ""};
}

std::string seconds_text(RefusalTally::Clock::duration elapsed) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
  return std::to_string(std::max<long long>(seconds, 1)) + " s";
}

}  // namespace

bool RefusalTally::admit(uid_t uid, Clock::time_point now) {
  ++total_;
  // In full: the first ever, or the first after a whole quiet interval.
  if (held_ == 0 && (!last_line_ || now - *last_line_ >= interval_)) {
    last_line_ = now;
    return true;
  }
  ++held_;
  const auto found = std::find_if(held_by_uid_.begin(), held_by_uid_.end(),
                                  [uid](const auto& entry) { return entry.first == uid; });
  if (found != held_by_uid_.end()) {
    ++found->second;
  } else if (held_by_uid_.size() < kNamedUids) {
    held_by_uid_.emplace_back(uid, 1);
  } else {
    ++held_from_others_;
  }
  return false;
}

std::optional<RefusalTally::Clock::time_point> RefusalTally::summary_due() const {
  if (held_ == 0 || !last_line_) return std::nullopt;
  return *last_line_ + interval_;
}

std::string RefusalTally::take_summary(Clock::time_point now) {
  if (held_ == 0) return {};
  const Wording words = wording(kind_);
  std::string line =
      std::string("control: ") + words.verb + " " + std::to_string(held_) + " more " + words.what;
  if (kind_ != Refusal::unidentified) {
    std::sort(held_by_uid_.begin(), held_by_uid_.end(),
              [](const auto& a, const auto& b) { return a.second > b.second; });
    line += " from";
    for (std::size_t i = 0; i < held_by_uid_.size(); ++i) {
      line += (i == 0 ? " uid " : ", uid ") + std::to_string(held_by_uid_[i].first);
      if (held_by_uid_.size() > 1 || held_from_others_ > 0) {
        line += " (" + std::to_string(held_by_uid_[i].second) + ")";
      }
    }
    if (held_from_others_ > 0) {
      line += " and other users (" + std::to_string(held_from_others_) + ")";
    }
  }
  line += " in the last " + seconds_text(now - last_line_.value_or(now)) + ": " + words.why;
  held_ = 0;
  held_by_uid_.clear();
  held_from_others_ = 0;
  last_line_ = now;
  return line;
}

}  // namespace otpd::control

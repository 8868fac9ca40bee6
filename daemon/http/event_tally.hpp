// Counts of the tree's events since otpd started, for /metrics: every
// event by kind, and how often each supervisor gave up. Fed by the event
// hub's observers on the loop.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "supervise/event.hpp"

namespace otpd::http {

class EventTally {
 public:
  static constexpr std::size_t kKinds =
      static_cast<std::size_t>(supervise::EventKind::file_action_failed) + 1;

  void count(const supervise::Event& event);

  std::uint64_t of(supervise::EventKind kind) const {
    return by_kind_[static_cast<std::size_t>(kind)];
  }
  std::uint64_t total() const { return total_; }
  // Times the supervisor at `path` exceeded its intensity and gave up.
  std::uint64_t gave_up(std::string_view path) const;

 private:
  std::array<std::uint64_t, kKinds> by_kind_{};
  std::uint64_t total_ = 0;
  // Only supervisors that gave up at least once; a removed one is let go,
  // so that children coming and going cannot grow it without bound.
  std::unordered_map<std::string, std::uint64_t> gave_up_;
};

}  // namespace otpd::http

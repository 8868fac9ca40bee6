#include "http/event_tally.hpp"

namespace otpd::http {

void EventTally::count(const supervise::Event& event) {
  const auto kind = static_cast<std::size_t>(event.kind);
  if (kind < kKinds) ++by_kind_[kind];
  ++total_;
  if (event.kind == supervise::EventKind::intensity_exceeded) ++gave_up_[event.path];
  if (event.kind == supervise::EventKind::removed) gave_up_.erase(event.path);
  if (event.kind == supervise::EventKind::reloaded) {
    for (const std::string& path : event.removed) gave_up_.erase(path);
  }
}

std::uint64_t EventTally::gave_up(std::string_view path) const {
  if (gave_up_.empty()) return 0;
  const auto found = gave_up_.find(std::string(path));
  return found == gave_up_.end() ? 0 : found->second;
}

}  // namespace otpd::http

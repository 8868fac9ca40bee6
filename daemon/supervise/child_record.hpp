// What a supervisor keeps of each of its children. It lives in the child's
// node, so that a child of a big tree is one allocation.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "config/spec.hpp"
#include "supervise/backoff.hpp"
#include "supervise/exit_status.hpp"
#include "supervise/host.hpp"

namespace otpd::supervise {

enum class ChildState : std::uint8_t {
  stopped,   // not running and not due to run (transient ended normally, or never started)
  starting,  // start requested, not yet running
  running,
  stopping,  // shutdown under way
  exited,    // ended on its own; the supervisor has yet to act on it
  backoff,   // waiting out a restart delay
  failed,    // its last start failed; a retry is queued
};
const char* to_string(ChildState);

struct ChildExit;

struct ChildRecord {
  std::uint64_t id = 0;
  // Into the supervisor's spec, which only a reload replaces, or into
  // own_spec.
  const config::ChildSpec* spec = nullptr;
  std::shared_ptr<const config::ChildSpec> own_spec;  // a child added at run time
  std::uint64_t incarnation = 0;
  ChildState state = ChildState::stopped;
  BackoffTracker backoff;
  int restarts = 0;
  TimePoint started_at{};
  // On the heap: most children of a big tree have none, and it is big.
  std::unique_ptr<ChildExit> last_exit;
  std::optional<TimePoint> exited_at;
  std::optional<TimePoint> restart_at;
};

}  // namespace otpd::supervise

// What /metrics shows (docs/http.md, "Metrics"): each child and supervisor
// of the tree, and otpd itself. Rendering is separate from gathering, so
// that a test and the benchmark can render any tree.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "http/event_tally.hpp"
#include "supervise/tree_walk.hpp"

namespace otpd::http {

// otpd as the kernel sees it, from /proc/self.
struct ProcessFigures {
  double resident_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;
  double start_time_seconds = 0;  // since the Unix epoch
};
ProcessFigures read_process_figures();

// The HTTP listener's own counts.
struct HttpFigures {
  std::uint64_t connections = 0;      // open now
  std::uint64_t requests = 0;         // answered since start
  std::uint64_t refused_busy = 0;     // answered 503: at max_connections or short of descriptors
  std::uint64_t refused_timeout = 0;  // requests that did not arrive in time
  std::uint64_t refused_invalid = 0;  // malformed or too large
  std::uint64_t streams_dropped = 0;  // event streams whose reader fell behind
};

// The event hooks' counts.
struct HookFigures {
  std::uint64_t started = 0;
  std::uint64_t failed = 0;   // exited non-zero, killed, timed out or could not start
  std::uint64_t dropped = 0;  // not run: too many waiting
  std::uint64_t running = 0;
};

struct MetricsInput {
  // Walks the tree (Tree::walk, or walk_status for a snapshot); empty: no tree.
  std::function<void(supervise::TreeVisitor&)> walk;
  const EventTally* events = nullptr;
  ProcessFigures process{};
  std::uint64_t control_clients = 0;
  HttpFigures http{};
  HookFigures hooks{};
  // Asked after the walk, which may have gathered the answer.
  std::function<bool()> ready;
  double now_seconds = 0;  // wall clock, since the Unix epoch
};

std::string render_metrics(const MetricsInput& input);

}  // namespace otpd::http

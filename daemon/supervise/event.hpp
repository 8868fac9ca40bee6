// State changes of the tree. Every change the engine makes is reported as one
// Event; the daemon writes them to its log and streams them to subscribers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "supervise/exit_status.hpp"
#include "supervise/host.hpp"

namespace otpd::supervise {

enum class EventKind {
  starting,            // about to start a child
  started,             // child is running (pid set for a process)
  ready,               // a process with `ready:` said or showed it is ready (reason: how)
  start_failed,        // child could not be started (reason)
  exited,              // child ended on its own (status, reason)
  restarting,          // child will be started again (delay, when backing off)
  stopping,            // shutdown of a child begins (reason)
  stopped,             // child is no longer running after a stop
  removed,             // temporary child dropped from the tree
  intensity_exceeded,  // a supervisor saw too many restarts and gives up
  escalated,           // a supervisor has stopped its children and exits
  auto_shutdown,       // significant children ended: a supervisor stops its children and exits
  orphan_reaped,       // otpd reaped a process it did not start
  reloaded,            // a live reload was applied (added, removed, changed; reason)
  health_failed,       // a health check's probe failed (reason: what, and the count)
  health_recovered,    // a health check's probe succeeded after failures
  unhealthy,           // a health check failed too often and acts (reason: what it does)
  slow_handler,        // an in-process worker held its thread too long (reason: how long)
  run_started,         // a cron job's run began (pid; reason: what started it)
  run_succeeded,       // a cron job's run exited 0 (status, duration)
  run_failed,    // a cron job's run failed, timed out or was killed (status, duration, reason)
  run_skipped,   // a cron job's run came due while the previous one ran (reason)
  run_queued,    // a cron job's run waits for the previous one to end (overlap: queue)
  file_changed,  // a file watch saw changes and acts (reason: what changed, what it does)
  file_action_failed,  // a file watch's restart or signal did not happen (reason: why)
};

const char* to_string(EventKind);

struct Event {
  EventKind kind{};
  std::string path{};  // "app/api"; "/" for the root supervisor
  int pid = 0;
  std::optional<ExitStatus> status{};
  std::string reason{};
  std::optional<Duration> delay{};
  std::optional<Duration> duration{};  // how long a cron job's run took
  // reloaded: the paths a reload added, removed and changed.
  std::vector<std::string> added{};
  std::vector<std::string> removed{};
  std::vector<std::string> changed{};
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void emit(const Event&) = 0;
  // Whether the sink does anything with events of `kind`: the engine builds
  // no event, and no text for one, that nobody hears (a program's
  // supervisor restarting a child in microseconds).
  virtual bool hears(EventKind kind) const {
    (void)kind;
    return true;
  }
};

}  // namespace otpd::supervise

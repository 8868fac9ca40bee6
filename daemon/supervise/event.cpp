#include "supervise/event.hpp"

namespace otpd::supervise {

const char* to_string(EventKind kind) {
  switch (kind) {
    case EventKind::starting:
      return "starting";
    case EventKind::started:
      return "started";
    case EventKind::ready:
      return "ready";
    case EventKind::start_failed:
      return "start_failed";
    case EventKind::exited:
      return "exited";
    case EventKind::restarting:
      return "restarting";
    case EventKind::stopping:
      return "stopping";
    case EventKind::stopped:
      return "stopped";
    case EventKind::removed:
      return "removed";
    case EventKind::intensity_exceeded:
      return "intensity_exceeded";
    case EventKind::escalated:
      return "escalated";
    case EventKind::auto_shutdown:
      return "auto_shutdown";
    case EventKind::orphan_reaped:
      return "orphan_reaped";
    case EventKind::health_failed:
      return "health_failed";
    case EventKind::health_recovered:
      return "health_recovered";
    case EventKind::slow_handler:
      return "slow_handler";
    case EventKind::unhealthy:
      return "unhealthy";
    case EventKind::file_changed:
      return "file_changed";
    case EventKind::file_action_failed:
      return "file_action_failed";
    case EventKind::reloaded:
      return "reloaded";
    case EventKind::run_started:
      return "run_started";
    case EventKind::run_succeeded:
      return "run_succeeded";
    case EventKind::run_failed:
      return "run_failed";
    case EventKind::run_skipped:
      return "run_skipped";
    case EventKind::run_queued:
      return "run_queued";
  }
  return "unknown";
}

}  // namespace otpd::supervise

// A snapshot of (part of) the tree for people and scripts: what each node
// is, what state it is in, and its recent history.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/spec.hpp"
#include "supervise/node.hpp"

namespace otpd::supervise {

struct NodeStatus {
  std::string path;  // "/" for the root
  std::string name;
  bool is_supervisor = false;
  std::string state;  // a ChildState name; the root is "running" or "stopping"
  config::RestartType restart = config::RestartType::permanent;
  bool held = false;  // stopped by an operator
  bool significant = false;
  int restarts = 0;
  std::optional<ExitReason> last_exit;
  std::optional<Duration> since_exit;  // how long ago last_exit happened
  std::optional<Duration> restart_in;  // while a backoff delays the next start

  // A process.
  std::vector<std::string> command;
  int pid = 0;
  std::optional<Duration> uptime;  // while it runs
  std::string ready;               // how it shows readiness: "notify", "tcp", ...; "" without
  // What it said through sd_notify (ready: notify), while it runs.
  std::string notify_status;        // the last STATUS=
  int main_pid = 0;                 // MAINPID=
  bool announced_stopping = false;  // STOPPING=1

  // An in-process worker: its kind ("agent"; empty for anything else) and
  // its runtime pid while it runs (0 otherwise). `uptime` is set too.
  std::string worker_kind;
  std::uint64_t worker_id = 0;
  // What its events said last, filled in by the daemon (WorkerStates): a
  // health check's "healthy" or "failing: ..."; a cron job's last run.
  std::string health;
  std::string cron;
  std::optional<std::int64_t> next_run_at_ms;  // a cron job's next run, ms since the Unix epoch

  // A supervisor.
  config::Strategy strategy = config::Strategy::one_for_one;
  int intensity = 0;
  Duration period{0};
  int intensity_used = 0;
  bool dynamic = false;  // a dynamic supervisor: children added at run time
  std::optional<int> max_children;
  std::vector<NodeStatus> children;
};

}  // namespace otpd::supervise

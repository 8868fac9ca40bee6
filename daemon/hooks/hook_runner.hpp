// Event hooks (docs/http.md, "Hooks"): for each event of the tree that a
// hook's filter matches, its command runs with the event as JSON on stdin
// and in environment variables. Hooks never hold up supervision: a match is
// queued and started from the loop afterwards, at most max_running at once
// per hook with at most max_queued waiting (more are dropped and counted),
// and a run that outlasts its timeout gets SIGKILL. Runs are spawned like
// children (cgroups, or death with otpd) and killed when otpd stops, so no
// hook outlives it. Their output is captured under "hook:NAME".
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "config/spec.hpp"
#include "http/metrics.hpp"
#include "log/event_log.hpp"
#include "process/os_processes.hpp"
#include "supervise/event.hpp"
#include "supervise/host.hpp"

namespace otpd::hooks {

// Whether `hook`'s filter takes an event of `kind` about `path`.
bool matches(const config::HookSpec& hook, std::string_view kind, const std::string& path);

// The variables a hook gets besides otpd's environment: OTPD_EVENT,
// OTPD_PATH, OTPD_PID, OTPD_EXIT_STATUS, OTPD_SIGNAL, OTPD_REASON,
// OTPD_TIME, OTPD_HOOK.
std::vector<std::pair<std::string, std::string>> event_environment(const supervise::Event& event,
                                                                   const std::string& time,
                                                                   const std::string& hook);

class HookRunner {
 public:
  HookRunner(supervise::Host& host, process::OsProcesses& processes, log::EventLog& log,
             std::vector<config::HookSpec> hooks);
  ~HookRunner();
  HookRunner(const HookRunner&) = delete;
  HookRunner& operator=(const HookRunner&) = delete;

  // From the event hub's observers, inside the engine's emit: only queues.
  void on_event(const supervise::Event& event);
  // otpd is stopping: nothing more starts, and what runs gets SIGKILL.
  void stop();
  // A reload's hooks. A hook kept by name takes its new spec and keeps
  // its waiting events and its runs; a removed one loses its waiting
  // events, and its runs under way end as they would have (their timeout
  // still holds). Returns what changed: "added a, changed b, removed c".
  std::string reconfigure(std::vector<config::HookSpec> hooks);

  http::HookFigures figures() const;

 private:
  struct Pending {
    std::string json;
    std::vector<std::pair<std::string, std::string>> env;
    std::string what;  // "exited app/api", for the log
  };
  struct Running;
  struct Hook {
    config::HookSpec spec;
    std::deque<Pending> queued;
    int running = 0;
    std::uint64_t dropped_logged_at = 0;
  };

  void pump();
  void start(const std::shared_ptr<Hook>& hook, Pending pending);
  void finished(Hook& hook, const std::shared_ptr<Running>& run, supervise::ExitStatus status);

  supervise::Host& host_;
  process::OsProcesses& processes_;
  log::EventLog& log_;
  // Shared with the exit callbacks of their runs, which may outlive a
  // hook that a reload removed.
  std::vector<std::shared_ptr<Hook>> hooks_;
  std::vector<std::shared_ptr<Running>> running_;
  bool pump_posted_ = false;
  bool stopped_ = false;
  http::HookFigures figures_;
  std::shared_ptr<HookRunner*> alive_;
};

}  // namespace otpd::hooks

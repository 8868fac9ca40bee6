#include "hooks/hook_runner.hpp"

#include <fnmatch.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "config/signals.hpp"
#include "log/event_json.hpp"

namespace otpd::hooks {
namespace {

// A reason longer than this is cut in OTPD_REASON (stdin has it whole).
constexpr std::size_t kMaxReasonInEnv = 4096;

std::string trimmed(const std::string& path) {
  if (path == "/") return path;
  return path.front() == '/' ? path.substr(1) : path;
}

// The event JSON as a file the hook reads from its stdin: written before
// the spawn, so that otpd never waits on a pipe a hook does not read.
int input_file(const std::string& json) {
  const int fd = ::memfd_create("otpd-hook-event", MFD_CLOEXEC);
  if (fd < 0) return -1;
  std::size_t written = 0;
  while (written < json.size()) {
    const ssize_t n = ::write(fd, json.data() + written, json.size() - written);
    if (n <= 0) {
      ::close(fd);
      return -1;
    }
    written += static_cast<std::size_t>(n);
  }
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

}  // namespace

struct HookRunner::Running {
  int pid = 0;
  std::string what;
  bool timed_out = false;
  std::unique_ptr<supervise::TimerHandle> timer;
};

bool matches(const config::HookSpec& hook, std::string_view kind, const std::string& path) {
  if (!hook.events.empty() &&
      std::find(hook.events.begin(), hook.events.end(), kind) == hook.events.end()) {
    return false;
  }
  if (hook.paths.empty()) return true;
  const std::string subject = trimmed(path);
  return std::any_of(hook.paths.begin(), hook.paths.end(), [&](const std::string& glob) {
    return ::fnmatch(glob.c_str(), subject.c_str(), 0) == 0;
  });
}

std::vector<std::pair<std::string, std::string>> event_environment(const supervise::Event& event,
                                                                   const std::string& time,
                                                                   const std::string& hook) {
  std::vector<std::pair<std::string, std::string>> env{
      {"OTPD_HOOK", hook},
      {"OTPD_EVENT", supervise::to_string(event.kind)},
      {"OTPD_PATH", trimmed(event.path)},
      {"OTPD_TIME", time},
  };
  if (event.pid != 0) env.emplace_back("OTPD_PID", std::to_string(event.pid));
  if (event.status) {
    if (event.status->signaled) {
      env.emplace_back("OTPD_SIGNAL", config::signal_name(event.status->code));
    } else {
      env.emplace_back("OTPD_EXIT_STATUS", std::to_string(event.status->code));
    }
  }
  if (!event.reason.empty()) {
    // The environment cannot hold a NUL; a reason never has one, but a
    // child's text may end up in it.
    std::string reason = event.reason.substr(0, kMaxReasonInEnv);
    std::replace(reason.begin(), reason.end(), '\0', ' ');
    env.emplace_back("OTPD_REASON", reason);
  }
  return env;
}

HookRunner::HookRunner(supervise::Host& host, process::OsProcesses& processes, log::EventLog& log,
                       std::vector<config::HookSpec> hooks)
    : host_(host), processes_(processes), log_(log), alive_(std::make_shared<HookRunner*>(this)) {
  for (auto& spec : hooks) {
    auto hook = std::make_shared<Hook>();
    hook->spec = std::move(spec);
    hooks_.push_back(std::move(hook));
  }
}

std::string HookRunner::reconfigure(std::vector<config::HookSpec> hooks) {
  std::vector<std::shared_ptr<Hook>> next;
  std::string added, changed, removed;
  const auto note = [](std::string& list, const std::string& name) {
    list += (list.empty() ? "" : ", ") + name;
  };
  for (auto& spec : hooks) {
    const auto kept = std::find_if(hooks_.begin(), hooks_.end(),
                                   [&](const auto& hook) { return hook->spec.name == spec.name; });
    std::shared_ptr<Hook> hook;
    if (kept == hooks_.end()) {
      hook = std::make_shared<Hook>();
      note(added, spec.name);
    } else {
      hook = *kept;
      if (!(hook->spec == spec)) note(changed, spec.name);
    }
    hook->spec = std::move(spec);
    next.push_back(std::move(hook));
  }
  for (const auto& hook : hooks_) {
    const bool kept =
        std::any_of(next.begin(), next.end(), [&](const auto& other) { return other == hook; });
    if (kept) continue;
    note(removed, hook->spec.name);
    hook->queued.clear();
  }
  hooks_ = std::move(next);
  // Room for more runs at once, perhaps.
  if (!pump_posted_ && !stopped_) {
    pump_posted_ = true;
    host_.post([alive = alive_] {
      if (*alive != nullptr) (*alive)->pump();
    });
  }
  std::string what;
  if (!added.empty()) what += "added " + added;
  if (!changed.empty()) what += (what.empty() ? "" : "; ") + std::string("changed ") + changed;
  if (!removed.empty()) what += (what.empty() ? "" : "; ") + std::string("removed ") + removed;
  return what;
}

HookRunner::~HookRunner() {
  *alive_ = nullptr;
}

void HookRunner::on_event(const supervise::Event& event) {
  if (stopped_ || hooks_.empty()) return;
  const std::string_view kind = supervise::to_string(event.kind);
  std::string time;
  std::string json;
  for (auto& hook : hooks_) {
    if (!matches(hook->spec, kind, event.path)) continue;
    if (json.empty()) {
      time = log::utc_timestamp();
      json = log::event_json(event, time) + "\n";
    }
    if (hook->queued.size() >= static_cast<std::size_t>(hook->spec.max_queued) &&
        hook->running >= hook->spec.max_running) {
      // The first drop of a burst is logged, then one line per 100.
      if (figures_.dropped++ == hook->dropped_logged_at) {
        log_.warning("hook " + hook->spec.name + ": " + std::to_string(hook->spec.max_queued) +
                     " events already wait; dropped " + std::string(kind) + " " +
                     trimmed(event.path));
        hook->dropped_logged_at = figures_.dropped + 99;
      }
      continue;
    }
    hook->queued.push_back({json, event_environment(event, time, hook->spec.name),
                            std::string(kind) + " " + trimmed(event.path)});
  }
  if (!pump_posted_ && !json.empty()) {
    pump_posted_ = true;
    host_.post([alive = alive_] {
      if (*alive != nullptr) (*alive)->pump();
    });
  }
}

void HookRunner::pump() {
  pump_posted_ = false;
  if (stopped_) return;
  for (auto& hook : hooks_) {
    while (!hook->queued.empty() && hook->running < hook->spec.max_running) {
      Pending pending = std::move(hook->queued.front());
      hook->queued.pop_front();
      start(hook, std::move(pending));
    }
  }
}

void HookRunner::start(const std::shared_ptr<Hook>& owner, Pending pending) {
  Hook& hook = *owner;
  config::ProcessSpec spec = hook.spec.command;
  for (auto& variable : pending.env) spec.env.push_back(std::move(variable));
  ++figures_.started;
  const int input = input_file(pending.json);
  if (input < 0) {
    ++figures_.failed;
    log_.warning("hook " + hook.spec.name + " for " + pending.what +
                 ": cannot write its input: " + std::strerror(errno));
    return;
  }
  auto run = std::make_shared<Running>();
  run->what = std::move(pending.what);
  const supervise::SpawnResult spawned =
      processes_.spawn_with_input("hook:" + hook.spec.name, spec, input,
                                  [alive = alive_, owner, run](supervise::ExitStatus status) {
                                    if (*alive != nullptr) (*alive)->finished(*owner, run, status);
                                  });
  ::close(input);
  if (spawned.failure) {
    ++figures_.failed;
    log_.warning("hook " + hook.spec.name + " for " + run->what +
                 " could not start: " + *spawned.failure);
    return;
  }
  run->pid = spawned.pid;
  ++hook.running;
  running_.push_back(run);
  run->timer = host_.start_timer(hook.spec.timeout, [this, run] {
    run->timed_out = true;
    processes_.signal_group(run->pid, SIGKILL);
  });
}

void HookRunner::finished(Hook& hook, const std::shared_ptr<Running>& run,
                          supervise::ExitStatus status) {
  run->timer.reset();
  --hook.running;
  std::erase(running_, run);
  const bool ok = !status.signaled && status.code == 0;
  if (!ok) {
    ++figures_.failed;
    if (!stopped_) {
      log_.warning("hook " + hook.spec.name + " for " + run->what + " " +
                   (run->timed_out ? "outlasted its timeout of " +
                                         config::format_duration(hook.spec.timeout) + " and was "
                                   : std::string()) +
                   supervise::describe(status));
    }
  }
  if (!hook.queued.empty()) pump();
}

void HookRunner::stop() {
  stopped_ = true;
  for (auto& hook : hooks_) hook->queued.clear();
  for (const auto& run : running_) processes_.signal_group(run->pid, SIGKILL);
}

http::HookFigures HookRunner::figures() const {
  http::HookFigures figures = figures_;
  figures.running = running_.size();
  return figures;
}

}  // namespace otpd::hooks

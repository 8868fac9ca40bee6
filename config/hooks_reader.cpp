#include "config/hooks_reader.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <unordered_set>

#include "config/exec_reader.hpp"
#include "config/logs_reader.hpp"
#include "config/process_reader.hpp"
#include "config/readiness_reader.hpp"

namespace otpd::config {
namespace {

constexpr std::size_t kMaxHooks = 64;
constexpr int kMaxRunning = 64;
constexpr int kMaxQueued = 10000;
constexpr std::size_t kMaxGlobs = 256;

// Kept in step with supervise::EventKind by a unit test.
constexpr std::array<std::string_view, 25> kEventNames{{
    "starting",         "started",       "ready",         "start_failed", "exited",
    "restarting",       "stopping",      "stopped",       "removed",      "intensity_exceeded",
    "escalated",        "auto_shutdown", "orphan_reaped", "reloaded",     "health_failed",
    "health_recovered", "unhealthy",     "slow_handler",  "run_started",  "run_succeeded",
    "run_failed",       "run_skipped",   "run_queued",    "file_changed", "file_action_failed",
}};

struct Alias {
  std::string_view name;
  std::string_view means;
};
constexpr std::array<Alias, 2> kAliases{
    {{"gave_up", "intensity_exceeded"}, {"restarted", "restarting"}}};

constexpr std::array<std::string_view, 11> kHookKeys{
    "name",       "on",  "paths", "command", "timeout", "max_running",
    "max_queued", "env", "cwd",   "user",    "output"};

std::vector<Field> one_or_list(const Field& field) {
  if (field.node().IsSequence()) return field.elements();
  if (field.node().IsScalar()) return {field};
  field.fail_expected("a name or a list of them");
}

void read_events(const Field& field, HookSpec& hook) {
  std::vector<std::string_view> valid(kEventNames.begin(), kEventNames.end());
  for (const Alias& alias : kAliases) valid.push_back(alias.name);
  for (const Field& element : one_or_list(field)) {
    std::string name = element.non_empty_text();
    for (const Alias& alias : kAliases) {
      if (alias.name == name) name = std::string(alias.means);
    }
    if (std::find(kEventNames.begin(), kEventNames.end(), name) == kEventNames.end()) {
      element.fail_expected("an event kind such as exited, gave_up or restarted",
                            did_you_mean(name, valid));
    }
    if (std::find(hook.events.begin(), hook.events.end(), name) == hook.events.end()) {
      hook.events.push_back(name);
    }
  }
}

void read_paths(const Field& field, HookSpec& hook) {
  const auto globs = one_or_list(field);
  if (globs.size() > kMaxGlobs) field.fail("at most " + std::to_string(kMaxGlobs) + " globs");
  for (const Field& element : globs) {
    std::string glob = element.non_empty_text();
    // Paths are written as otpctl takes them: "app/api", "/" for the root.
    if (glob.size() > 1 && glob.front() == '/') glob.erase(0, 1);
    hook.paths.push_back(glob);
  }
}

HookSpec read_hook(const Field& field) {
  field.require_mapping("a mapping with name, on, paths, command and timeout");
  HookSpec hook;
  ExecDraft draft;
  bool has_name = false;
  bool has_command = false;
  const std::vector<std::string_view> names(kHookKeys.begin(), kHookKeys.end());
  for (const Field& entry : field.entries()) {
    const std::string key = entry.key();
    if (std::find(kHookKeys.begin(), kHookKeys.end(), key) == kHookKeys.end()) {
      fail_unknown_key(entry, names);
    }
    if (key == "name") {
      hook.name = entry.non_empty_text();
      const bool plain = std::all_of(hook.name.begin(), hook.name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      });
      if (!plain || hook.name.size() > 64) {
        entry.fail_expected("up to 64 letters, digits, '_', '.' and '-'");
      }
      has_name = true;
    } else if (key == "on") {
      read_events(entry, hook);
    } else if (key == "paths") {
      read_paths(entry, hook);
    } else if (key == "command") {
      read_probe_command(entry, hook.command.argv, hook.command.via_shell);
      has_command = true;
    } else if (key == "timeout") {
      hook.timeout = entry.positive_duration();
    } else if (key == "max_running") {
      hook.max_running = static_cast<int>(entry.integer(1, kMaxRunning));
    } else if (key == "max_queued") {
      hook.max_queued = static_cast<int>(entry.integer(0, kMaxQueued));
    } else if (key == "env") {
      read_env(entry, hook.command);
    } else if (key == "cwd") {
      read_cwd(entry, hook.command);
    } else if (key == "user") {
      read_user(entry, hook.command, draft);
    } else if (key == "output") {
      hook.command.output = choose<Output>(entry, kOutputs);
    }
  }
  if (!has_name) field.fail("a hook needs a 'name'");
  if (!has_command) {
    field.fail("hook '" + hook.name +
               "' needs a 'command': [program, arg, ...] or a shell "
               "command line");
  }
  if (hook.command.cwd.empty()) hook.command.cwd = field.source().base_dir;
  finish_exec(draft, hook.command);
  return hook;
}

}  // namespace

std::span<const std::string_view> hook_event_names() {
  return kEventNames;
}

std::vector<HookSpec> read_hooks(const Field& field) {
  field.require_list("a list of hooks, each {name, on, command}");
  const auto elements = field.elements();
  if (elements.size() > kMaxHooks) field.fail("at most " + std::to_string(kMaxHooks) + " hooks");
  std::vector<HookSpec> hooks;
  std::unordered_set<std::string> seen;
  for (const Field& element : elements) {
    HookSpec hook = read_hook(element);
    if (!seen.insert(hook.name).second) {
      element.fail("a second hook named '" + hook.name + "'");
    }
    hooks.push_back(std::move(hook));
  }
  return hooks;
}

}  // namespace otpd::config

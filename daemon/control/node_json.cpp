#include "control/node_json.hpp"

#include <chrono>
#include <string_view>

#include "config/signals.hpp"
#include "control/json_text.hpp"

namespace otpd::control {
namespace {

void key(std::string& out, std::string_view name) {
  if (out.back() != '{') out += ',';
  out += '"';
  out += name;
  out += "\":";
}

void string_member(std::string& out, std::string_view name, std::string_view value) {
  key(out, name);
  append_json_string(out, value);
}

void int_member(std::string& out, std::string_view name, long long value) {
  key(out, name);
  append_json_int(out, value);
}

void bool_member(std::string& out, std::string_view name, bool value) {
  key(out, name);
  out += value ? "true" : "false";
}

void append_last_exit(std::string& out, const std::optional<supervise::ExitReason>& last) {
  if (!last) {
    out += "null";
    return;
  }
  out += '{';
  if (last->status) {
    if (last->status->signaled) {
      string_member(out, "signal", config::signal_name(last->status->code));
      bool_member(out, "core_dumped", last->status->core_dumped);
    } else {
      int_member(out, "exit_status", last->status->code);
    }
    if (!last->status->oom_limit.empty()) {
      string_member(out, "oom_limit", last->status->oom_limit);
    }
  }
  string_member(out, "reason", last->text);
  if (!last->stopped_for.empty()) string_member(out, "stopped_for", last->stopped_for);
  out += '}';
}

// Milliseconds since the Unix epoch of a moment `ago` before now (negative:
// after now), for times a script or a page shows as dates.
long long wall_ms(std::chrono::milliseconds ago) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return (now - ago).count();
}

}  // namespace

void append_node_json(std::string& out, const supervise::NodeStatus& node) {
  out += '{';
  string_member(out, "path", node.path);
  string_member(out, "name", node.name);
  const bool worker = !node.worker_kind.empty();
  string_member(out, "kind", node.is_supervisor ? "supervisor" : worker ? "worker" : "process");
  string_member(out, "state", node.state);
  string_member(out, "restart", config::to_string(node.restart));
  bool_member(out, "held", node.held);
  int_member(out, "restarts", node.restarts);
  key(out, "last_exit");
  append_last_exit(out, node.last_exit);
  if (node.since_exit) int_member(out, "last_exit_at_ms", wall_ms(*node.since_exit));
  if (node.restart_in) int_member(out, "next_restart_at_ms", wall_ms(-*node.restart_in));
  if (node.significant) bool_member(out, "significant", true);
  if (node.is_supervisor) {
    string_member(out, "strategy", config::to_string(node.strategy));
    int_member(out, "intensity", node.intensity);
    int_member(out, "period_ms", node.period.count());
    int_member(out, "intensity_used", node.intensity_used);
    bool_member(out, "dynamic", node.dynamic);
    if (node.dynamic) {
      key(out, "max_children");
      if (node.max_children) {
        append_json_int(out, *node.max_children);
      } else {
        out += "null";
      }
    }
    key(out, "children");
    out += '[';
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      if (i > 0) out += ',';
      append_node_json(out, node.children[i]);
    }
    out += ']';
  } else if (worker) {
    string_member(out, "worker_kind", node.worker_kind);
    if (!node.health.empty()) string_member(out, "health", node.health);
    if (!node.cron.empty()) string_member(out, "cron", node.cron);
    if (node.next_run_at_ms) int_member(out, "next_run_at_ms", *node.next_run_at_ms);
    key(out, "runtime_pid");
    if (node.worker_id != 0) {
      append_json_int(out, static_cast<long long>(node.worker_id));
    } else {
      out += "null";
    }
    key(out, "uptime_ms");
    if (node.uptime) {
      append_json_int(out, node.uptime->count());
    } else {
      out += "null";
    }
  } else {
    key(out, "command");
    out += '[';
    for (std::size_t i = 0; i < node.command.size(); ++i) {
      if (i > 0) out += ',';
      append_json_string(out, node.command[i]);
    }
    out += ']';
    if (node.pid != 0) {
      int_member(out, "pid", node.pid);
    } else {
      key(out, "pid");
      out += "null";
    }
    if (node.uptime) {
      int_member(out, "uptime_ms", node.uptime->count());
    } else {
      key(out, "uptime_ms");
      out += "null";
    }
    if (!node.ready.empty()) {
      string_member(out, "ready", node.ready);
      // Child-provided text: append_json_string replaces invalid UTF-8.
      if (!node.notify_status.empty()) string_member(out, "status_text", node.notify_status);
      if (node.main_pid != 0) int_member(out, "main_pid", node.main_pid);
      if (node.announced_stopping) bool_member(out, "announced_stopping", true);
    }
  }
  out += '}';
}

}  // namespace otpd::control

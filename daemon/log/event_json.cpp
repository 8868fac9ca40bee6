#include "log/event_json.hpp"

#include <nlohmann/json.hpp>

#include "config/signals.hpp"

namespace otpd::log {

std::string event_json(const supervise::Event& e, std::string_view time) {
  nlohmann::ordered_json j;
  j["time"] = time;
  j["path"] = e.path;
  j["event"] = to_string(e.kind);
  if (e.pid != 0) j["pid"] = e.pid;
  if (e.status) {
    if (e.status->signaled) {
      j["signal"] = config::signal_name(e.status->code);
      if (e.status->core_dumped) j["core_dumped"] = true;
    } else {
      j["exit_status"] = e.status->code;
    }
    if (!e.status->oom_limit.empty()) j["oom_limit"] = e.status->oom_limit;
    if (!e.status->left_behind.empty()) {
      auto& left = j["left_behind"] = nlohmann::ordered_json::array();
      for (const auto& p : e.status->left_behind) left.push_back(p.pid);
    }
  }
  if (e.delay) j["delay_ms"] = e.delay->count();
  if (e.duration) j["duration_ms"] = e.duration->count();
  if (!e.reason.empty()) j["reason"] = e.reason;
  if (e.kind == supervise::EventKind::reloaded) {
    j["added"] = e.added;
    j["removed"] = e.removed;
    j["changed"] = e.changed;
  }
  // A reason may quote a program's bytes; invalid UTF-8 must not throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace otpd::log

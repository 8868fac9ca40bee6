#include "control/reload_json.hpp"

#include <nlohmann/json.hpp>

namespace otpd::control {

std::string reload_json(const ReloadOutcome& outcome) {
  using Json = nlohmann::ordered_json;
  Json j;
  j["dry_run"] = outcome.dry_run;
  j["file"] = outcome.file;
  j["added"] = outcome.diff.of(config::Change::added);
  j["removed"] = outcome.diff.of(config::Change::removed);
  Json changed = Json::array();
  for (const config::PathChange& p : outcome.diff.paths) {
    if (p.change != config::Change::changed) continue;
    changed.push_back({{"path", p.path}, {"supervisor", p.supervisor}, {"what", p.what}});
  }
  j["changed"] = std::move(changed);
  j["unchanged"] = outcome.diff.of(config::Change::unchanged).size();
  j["control_changed"] = outcome.diff.control_changed;
  j["http_changed"] = outcome.diff.http_changed;
  j["hooks_changed"] = outcome.diff.hooks_changed;
  j["applied"] = outcome.applied;
  Json failed = Json::array();
  for (const supervise::ReloadFailure& f : outcome.failed) {
    failed.push_back({{"path", f.path}, {"error", f.error}});
  }
  j["failed"] = std::move(failed);
  j["warnings"] = outcome.warnings;
  // Paths and errors may quote the file's bytes.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace otpd::control

// What changes between two configurations, path by path: the plan of a live
// reload, and what `otpd check --diff` and `otpctl reload --dry-run` show.
//
// Specs are compared whole (their operator==), ignoring only where they were
// written, so that a field added to a spec takes part without touching this.
#pragma once

#include <string>
#include <vector>

#include "config/spec.hpp"

namespace otpd::config {

enum class Change { added, removed, changed, unchanged };
const char* to_string(Change);

// How one supervisor's direct children differ between two versions of it.
struct LevelDiff {
  // The supervisor's own settings (strategy, intensity, period, backoff, and
  // any other field of SupervisorSpec except its children).
  std::vector<std::string> settings;   // names of what changed; empty when nothing did
  std::vector<std::string> removed;    // old order; includes children whose kind changed
  std::vector<std::string> added;      // new order; includes children whose kind changed
  std::vector<std::string> changed;    // processes whose spec differs: restarted
  std::vector<std::string> nested;     // supervisors in both: changed in place, recursed into
  std::vector<std::string> unchanged;  // processes equal in both: untouched
  bool settings_changed() const { return !settings.empty(); }
};
LevelDiff diff_level(const SupervisorSpec& before, const SupervisorSpec& after);

// Whether two children are the same, `where` (and, for a supervisor, its
// children) left out: a supervisor's children are compared one level down.
bool same_settings(const ChildSpec& before, const ChildSpec& after);
// Names of the settings in which two children (or a supervisor's own
// settings) differ: "command", "env", "restart", "strategy", ... A field this
// list does not know yet shows as "settings".
std::vector<std::string> what_differs(const ChildSpec& before, const ChildSpec& after);
std::vector<std::string> what_differs(const SupervisorSpec& before, const SupervisorSpec& after);

struct PathChange {
  std::string path;  // "app/db"; "/" for the root supervisor
  Change change = Change::unchanged;
  bool supervisor = false;
  // For `changed`: what differs. A supervisor is changed in place (its
  // children keep running); a process is restarted.
  std::vector<std::string> what = {};
};

struct TreeDiff {
  std::vector<PathChange> paths;  // every path of either tree, changes in tree order
  bool control_changed = false;   // the control section, which cannot change live
  bool http_changed = false;      // the http section: a reload applies it beside the tree
  bool hooks_changed = false;     // the hooks section: likewise

  std::vector<std::string> of(Change change) const;
  bool empty() const;  // nothing to apply (a control change alone cannot be applied)
};
TreeDiff diff(const Config& before, const Config& after);

}  // namespace otpd::config

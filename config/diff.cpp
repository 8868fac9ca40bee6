#include "config/diff.hpp"

#include <algorithm>
#include <map>

namespace otpd::config {
namespace {

// A copy without what the comparison leaves out: where it was written and,
// for a supervisor, its children (compared one level down).
SupervisorSpec without_children(const SupervisorSpec& spec) {
  SupervisorSpec copy = spec;  // every field, whatever SupervisorSpec gains
  copy.children.clear();
  return copy;
}

ChildSpec shallow(const ChildSpec& spec) {
  ChildSpec copy = spec;
  if (copy.is_supervisor()) std::get<SupervisorSpec>(copy.body).children.clear();
  copy.where = {};
  return copy;
}

ControlSpec without_locations(ControlSpec control) {
  if (control.group) control.group->where = {};
  if (control.read_group) control.read_group->where = {};
  return control;
}

// A process, a supervisor, or a dynamic supervisor: a child that changes
// kind is replaced rather than changed in place.
// A child that changes kind is removed and added, never changed in place.
int kind_of(const ChildSpec& spec) {
  if (spec.is_worker()) return 3;
  if (!spec.is_supervisor()) return 0;
  return spec.supervisor().dynamic ? 2 : 1;
}

void add_if(std::vector<std::string>& out, bool differs, const char* name) {
  if (differs && std::find(out.begin(), out.end(), name) == out.end()) out.emplace_back(name);
}

std::string join(const std::string& parent, const std::string& name) {
  return parent == "/" ? name : parent + "/" + name;
}

void add_all(std::vector<PathChange>& out, const std::string& parent, const SupervisorSpec& spec,
             Change change) {
  for (const ChildSpec& child : spec.children) {
    const std::string path = join(parent, child.name);
    out.push_back({.path = path, .change = change, .supervisor = child.is_supervisor()});
    if (child.is_supervisor()) add_all(out, path, child.supervisor(), change);
  }
}

void diff_tree(std::vector<PathChange>& out, const std::string& path, const SupervisorSpec& before,
               const SupervisorSpec& after) {
  const LevelDiff level = diff_level(before, after);
  std::map<std::string, const ChildSpec*> old_children;
  for (const ChildSpec& c : before.children) old_children.emplace(c.name, &c);
  std::map<std::string, const ChildSpec*> new_children;
  for (const ChildSpec& c : after.children) new_children.emplace(c.name, &c);
  auto listed = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  // Removed children first, in old order: a reload stops them before it
  // starts anything.
  for (const ChildSpec& c : before.children) {
    if (!listed(level.removed, c.name)) continue;
    const std::string child_path = join(path, c.name);
    out.push_back({.path = child_path, .change = Change::removed, .supervisor = c.is_supervisor()});
    if (c.is_supervisor()) add_all(out, child_path, c.supervisor(), Change::removed);
  }
  for (const ChildSpec& c : after.children) {
    const std::string child_path = join(path, c.name);
    if (listed(level.added, c.name)) {
      out.push_back({.path = child_path, .change = Change::added, .supervisor = c.is_supervisor()});
      if (c.is_supervisor()) add_all(out, child_path, c.supervisor(), Change::added);
    } else if (listed(level.changed, c.name)) {
      out.push_back({.path = child_path,
                     .change = Change::changed,
                     .what = what_differs(*old_children.at(c.name), c)});
    } else if (listed(level.nested, c.name)) {
      const ChildSpec& old = *old_children.at(c.name);
      PathChange change{.path = child_path, .change = Change::unchanged, .supervisor = true};
      if (!same_settings(old, c)) {
        change.change = Change::changed;
        change.what = what_differs(old, c);
      }
      out.push_back(std::move(change));
      diff_tree(out, child_path, old.supervisor(), c.supervisor());
    } else {
      out.push_back({.path = child_path, .change = Change::unchanged});
    }
  }
}

}  // namespace

const char* to_string(Change change) {
  switch (change) {
    case Change::added:
      return "added";
    case Change::removed:
      return "removed";
    case Change::changed:
      return "changed";
    case Change::unchanged:
      return "unchanged";
  }
  return "unchanged";
}

bool same_settings(const ChildSpec& before, const ChildSpec& after) {
  return shallow(before) == shallow(after);
}

std::vector<std::string> what_differs(const SupervisorSpec& before, const SupervisorSpec& after) {
  std::vector<std::string> out;
  add_if(out, before.strategy != after.strategy, "strategy");
  add_if(out, before.intensity != after.intensity, "intensity");
  add_if(out, before.period != after.period, "period");
  add_if(out, before.backoff != after.backoff, "backoff");
  add_if(out, before.auto_shutdown != after.auto_shutdown, "auto_shutdown");
  add_if(out, before.max_children != after.max_children, "max_children");
  if (out.empty() && !(without_children(before) == without_children(after))) {
    out.emplace_back("settings");
  }
  return out;
}

std::vector<std::string> what_differs(const ChildSpec& before, const ChildSpec& after) {
  std::vector<std::string> out;
  if (kind_of(before) != kind_of(after)) return {"kind"};
  if (before.is_supervisor()) {
    out = what_differs(before.supervisor(), after.supervisor());
    if (out == std::vector<std::string>{"settings"}) out.clear();
  } else if (before.is_worker()) {
    if (before.worker().kind() != after.worker().kind()) return {"kind"};
    add_if(out, before.worker() != after.worker(), "worker");
  } else {
    const ProcessSpec& a = before.process();
    const ProcessSpec& b = after.process();
    add_if(out, a.argv != b.argv || a.via_shell != b.via_shell, "command");
    add_if(out,
           a.env != b.env || a.env_files != b.env_files || a.file_env != b.file_env ||
               a.inherit_env != b.inherit_env,
           "env");
    add_if(out, a.credentials != b.credentials, "user");
    add_if(out, a.umask != b.umask, "umask");
    add_if(out, a.rlimits != b.rlimits, "rlimits");
    add_if(out, a.limits->memory_max != b.limits->memory_max, "memory_max");
    add_if(out, a.limits->cpu_max != b.limits->cpu_max, "cpu_max");
    add_if(out, a.limits->pids_max != b.limits->pids_max, "pids_max");
    add_if(out, a.stop_signal != b.stop_signal, "stop_signal");
    add_if(out, a.kill_mode != b.kill_mode, "kill_mode");
    add_if(out, a.cwd != b.cwd, "cwd");
    add_if(out,
           a.normal_exit_codes != b.normal_exit_codes ||
               a.normal_exit_signals != b.normal_exit_signals,
           "normal_exit");
  }
  add_if(out, before.restart != after.restart, "restart");
  add_if(out, before.shutdown != after.shutdown, "shutdown");
  add_if(out, before.backoff != after.backoff, "backoff");
  add_if(out, before.significant != after.significant, "significant");
  if (out.empty() && !same_settings(before, after)) out.emplace_back("settings");
  return out;
}

LevelDiff diff_level(const SupervisorSpec& before, const SupervisorSpec& after) {
  LevelDiff level;
  level.settings = what_differs(before, after);
  std::map<std::string, const ChildSpec*> old_children;
  for (const ChildSpec& c : before.children) old_children.emplace(c.name, &c);
  std::map<std::string, const ChildSpec*> new_children;
  for (const ChildSpec& c : after.children) new_children.emplace(c.name, &c);

  for (const ChildSpec& c : before.children) {
    const auto now = new_children.find(c.name);
    if (now == new_children.end() || kind_of(*now->second) != kind_of(c)) {
      level.removed.push_back(c.name);
    }
  }
  for (const ChildSpec& c : after.children) {
    const auto was = old_children.find(c.name);
    if (was == old_children.end() || kind_of(*was->second) != kind_of(c)) {
      level.added.push_back(c.name);
    } else if (c.is_supervisor()) {
      level.nested.push_back(c.name);
    } else if (same_settings(*was->second, c)) {
      level.unchanged.push_back(c.name);
    } else {
      level.changed.push_back(c.name);
    }
  }
  return level;
}

std::vector<std::string> TreeDiff::of(Change change) const {
  std::vector<std::string> out;
  for (const PathChange& p : paths) {
    if (p.change == change) out.push_back(p.path);
  }
  return out;
}

bool TreeDiff::empty() const {
  return std::all_of(paths.begin(), paths.end(),
                     [](const PathChange& p) { return p.change == Change::unchanged; });
}

TreeDiff diff(const Config& before, const Config& after) {
  TreeDiff out;
  PathChange root{.path = "/", .change = Change::unchanged, .supervisor = true};
  root.what = what_differs(before.tree, after.tree);
  if (!root.what.empty()) root.change = Change::changed;
  out.paths.push_back(std::move(root));
  diff_tree(out.paths, "/", before.tree, after.tree);
  out.control_changed = !(without_locations(before.control) == without_locations(after.control));
  out.http_changed = !(before.http == after.http);
  out.hooks_changed = !(before.hooks == after.hooks);
  return out;
}

}  // namespace otpd::config

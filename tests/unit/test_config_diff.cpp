// config::diff: what a reload would change, path by path, from real YAML.
#include <doctest/doctest.h>

#include "config/diff.hpp"
#include "config/loader.hpp"

using namespace otpd::config;
using Names = std::vector<std::string>;

namespace {

Config load(const std::string& yaml) {
  return load_string(yaml, "t.yaml", "/srv/app");
}

const PathChange* find(const TreeDiff& diff, const std::string& path, Change change) {
  for (const PathChange& p : diff.paths) {
    if (p.path == path && p.change == change) return &p;
  }
  return nullptr;
}

const char* const kBase = R"(tree:
  strategy: one_for_one
  children:
    - name: db
      command: [postgres, -D, /data]
      env: {PGPORT: "5432"}
    - name: app
      strategy: rest_for_one
      children:
        - name: api
          command: [api]
        - name: worker
          command: [worker]
    - name: old
      command: [old]
)";

}  // namespace

TEST_CASE("diff: an identical config, even with its lines moved, changes nothing") {
  const std::string moved = std::string("# a comment that shifts every line\n\n") + kBase;
  const TreeDiff diff = otpd::config::diff(load(kBase), load(moved));
  CHECK(diff.empty());
  CHECK(!diff.control_changed);
  CHECK(diff.of(Change::unchanged) == Names{"/", "db", "app", "app/api", "app/worker", "old"});
}

TEST_CASE("diff: added, removed and changed paths, with what changed") {
  const TreeDiff diff = otpd::config::diff(load(kBase), load(R"(tree:
  strategy: one_for_one
  children:
    - name: cache
      command: [redis]
    - name: db
      command: [postgres, -D, /data2]
      env: {PGPORT: "5433"}
    - name: app
      strategy: rest_for_one
      children:
        - name: api
          command: [api]
          restart: transient
          shutdown: 10s
        - name: worker
          command: [worker]
)"));
  CHECK(diff.of(Change::added) == Names{"cache"});
  CHECK(diff.of(Change::removed) == Names{"old"});
  CHECK(diff.of(Change::changed) == Names{"db", "app/api"});
  CHECK(diff.of(Change::unchanged) == Names{"/", "app", "app/worker"});
  CHECK(find(diff, "db", Change::changed)->what == Names{"command", "env"});
  CHECK(find(diff, "app/api", Change::changed)->what == Names{"restart", "shutdown"});
}

TEST_CASE("diff: a supervisor's own settings change apart from its children") {
  const TreeDiff diff = otpd::config::diff(load(kBase), load(R"(tree:
  strategy: one_for_all
  intensity: 10
  children:
    - name: db
      command: [postgres, -D, /data]
      env: {PGPORT: "5432"}
    - name: app
      strategy: rest_for_one
      period: 1m
      backoff: {initial: 1s}
      children:
        - name: api
          command: [api]
        - name: worker
          command: [worker]
    - name: old
      command: [old]
)"));
  const PathChange* root = find(diff, "/", Change::changed);
  REQUIRE(root);
  CHECK(root->supervisor);
  CHECK(root->what == Names{"strategy", "intensity"});
  const PathChange* app = find(diff, "app", Change::changed);
  REQUIRE(app);
  CHECK(app->what == Names{"period", "backoff"});
  CHECK(diff.of(Change::unchanged) == Names{"db", "app/api", "app/worker", "old"});
}

TEST_CASE("diff: a child whose kind changes is removed and added, with its subtree") {
  const TreeDiff diff = otpd::config::diff(load(kBase), load(R"(tree:
  strategy: one_for_one
  children:
    - name: db
      children:
        - name: primary
          command: [postgres]
    - name: app
      command: [monolith]
    - name: old
      command: [old]
)"));
  CHECK(diff.of(Change::removed) == Names{"db", "app", "app/api", "app/worker"});
  CHECK(diff.of(Change::added) == Names{"db", "db/primary", "app"});
  CHECK(diff.of(Change::changed).empty());
}

TEST_CASE("diff: order alone changes nothing; the level diff keeps the new order") {
  const Config before = load(kBase);
  const Config after = load(R"(tree:
  strategy: one_for_one
  children:
    - name: old
      command: [old]
    - name: new
      command: [new]
    - name: app
      strategy: rest_for_one
      children:
        - name: api
          command: [api]
        - name: worker
          command: [worker]
    - name: db
      command: [postgres, -D, /data]
      env: {PGPORT: "5432"}
)");
  const LevelDiff level = diff_level(before.tree, after.tree);
  CHECK(level.added == Names{"new"});
  CHECK(level.removed.empty());
  CHECK(level.changed.empty());
  CHECK(level.nested == Names{"app"});
  CHECK(level.unchanged == Names{"old", "db"});
  CHECK(!level.settings_changed());
}

TEST_CASE("diff: every field of a spec takes part, source locations excepted") {
  Config before = load(kBase);
  Config after = before;
  ChildSpec& db = after.tree.children[0];
  db.where = {"other.yaml", 99, 9};
  CHECK(same_settings(before.tree.children[0], db));
  std::get<ProcessSpec>(db.body).normal_exit_codes = {3};
  CHECK(!same_settings(before.tree.children[0], db));
  CHECK(what_differs(before.tree.children[0], db) == Names{"normal_exit"});
  std::get<ProcessSpec>(db.body).normal_exit_codes = {};
  std::get<ProcessSpec>(db.body).cwd = "/elsewhere";
  CHECK(what_differs(before.tree.children[0], db) == Names{"cwd"});
  std::get<ProcessSpec>(db.body).cwd = std::get<ProcessSpec>(before.tree.children[0].body).cwd;
  std::get<ProcessSpec>(db.body).umask = 027;
  std::get<ProcessSpec>(db.body).stop_signal = 2;
  CHECK(what_differs(before.tree.children[0], db) == Names{"umask", "stop_signal"});
}

TEST_CASE("diff: the control section is reported apart; where it was written does not count") {
  const Config before = load(std::string(kBase) + "control:\n  socket: /run/a.sock\n");
  CHECK(!otpd::config::diff(before,
                            load(std::string("\n") + kBase + "control:\n  socket: /run/a.sock\n"))
             .control_changed);
  const TreeDiff diff =
      otpd::config::diff(before, load(std::string(kBase) + "control:\n  socket: /run/b.sock\n"));
  CHECK(diff.control_changed);
  CHECK(diff.empty());  // nothing that a reload could apply
}

// Live reload in the engine (docs/reload.md), on the hand-driven clock:
// what a reload stops, restarts, starts and leaves alone, and how it fits
// between restarts.
#include <doctest/doctest.h>
#include <signal.h>

#include "engine_world.hpp"
#include "fake_host.hpp"
#include "supervise/process_node.hpp"
#include "supervise/tree.hpp"

using namespace std::chrono_literals;
using otpd::config::ChildSpec;
using otpd::config::Config;
using otpd::config::ProcessSpec;
using otpd::config::RestartType;
using otpd::config::Shutdown;
using otpd::config::Strategy;
using otpd::config::SupervisorSpec;
using otpd::supervise::ChildState;
using otpd::supervise::Done;
using otpd::supervise::EventKind;
using otpd::supervise::ExitStatus;
using otpd::supervise::Failure;
using otpd::supervise::ReloadResult;
using otpd::supervise::Tree;
using Lines = std::vector<std::string>;

namespace {

using otpd::test::config_of;
using otpd::test::supervisor_child;
using otpd::test::supervisor_spec;

// A process whose spec changes with `version`, so that a reload can change it.
ChildSpec proc(const std::string& name, std::string version = "1") {
  ChildSpec c = otpd::test::process_child(name);
  otpd::test::process_of(c).env = {{"VERSION", std::move(version)}};
  return c;
}

const ExitStatus crash = ExitStatus::exited(1);

// Started before the test looks, with the history of the start cleared.
struct World : otpd::test::EngineWorld {
  explicit World(SupervisorSpec root) : EngineWorld(std::move(root)) {
    boot();
    REQUIRE(start_result.succeeded());
    procs.history.clear();
  }
  // Requests a reload; the result once the engine answers.
  std::optional<ReloadResult> reload(SupervisorSpec next) {
    std::optional<ReloadResult> result;
    tree->reload(config_of(std::move(next)), [&](ReloadResult r) { result = std::move(r); });
    host.run();
    return result;
  }
};

}  // namespace

TEST_CASE("reload: unchanged keep their pid, removed stop, changed restart, added start in place") {
  World w(
      supervisor_spec(Strategy::one_for_one, {proc("a"), proc("old1"), proc("b"), proc("old2")}));
  const int a = w.procs.pid_of("a");
  const auto result = w.reload(supervisor_spec(
      Strategy::one_for_one, {proc("new1"), proc("a"), proc("b", "2"), proc("new2")}));
  REQUIRE(result);
  CHECK(!result->failure);
  CHECK(result->failed.empty());
  // Removed first, in reverse start order; then the new order, step by step.
  CHECK(w.take_history() == Lines{"term old2", "exit old2", "term old1", "exit old1", "start new1",
                                  "term b", "exit b", "start b", "start new2"});
  CHECK(w.procs.pid_of("a") == a);
  CHECK(w.sink.count(EventKind::removed, "old1") == 1);
  // The new order is the order from now on: shutdown goes in reverse of it.
  std::vector<std::string> names;
  for (const auto& child : w.tree->root().children()) names.push_back(child.spec.name);
  CHECK(names == Lines{"new1", "a", "b", "new2"});
  CHECK(w.tree->root().intensity_used() == 0);
}

TEST_CASE("reload: one reloaded event lists added, removed and changed paths") {
  World w(supervisor_spec(Strategy::one_for_one, {proc("a"), proc("b")}));
  w.reload(supervisor_spec(Strategy::one_for_one, {proc("a", "2"), proc("c")}));
  REQUIRE(w.sink.count(EventKind::reloaded, "/") == 1);
  const auto& event = w.sink.events.back();
  CHECK(event.kind == EventKind::reloaded);
  CHECK(event.added == Lines{"c"});
  CHECK(event.removed == Lines{"b"});
  CHECK(event.changed == Lines{"a"});
  CHECK(event.reason == "1 added, 1 removed, 1 changed");
}

TEST_CASE("reload: an identical config touches nothing") {
  const auto spec = supervisor_spec(
      Strategy::one_for_all,
      {proc("a"), supervisor_child("s", supervisor_spec(Strategy::one_for_one, {proc("x")}))});
  World w(spec);
  const auto result = w.reload(spec);
  REQUIRE(result);
  CHECK(result->diff.empty());
  CHECK(w.take_history().empty());
  CHECK(w.sink.events.back().reason == "0 added, 0 removed, 0 changed");
}

TEST_CASE("reload: every node moves to the new configuration, so the old one can be freed") {
  const auto spec = supervisor_spec(
      Strategy::one_for_one,
      {proc("a"), supervisor_child("s", supervisor_spec(Strategy::one_for_one, {proc("x")}))});
  World w(spec);
  REQUIRE(w.reload(spec));
  // Nodes point into the spec they run rather than copy it: after a reload
  // that changed nothing, into the new one.
  const SupervisorSpec& now = w.tree->config().tree;
  const auto top = w.tree->root().children();
  REQUIRE(top.size() == 2);
  CHECK(&top[0].spec == &now.children[0]);
  const auto& a = dynamic_cast<const otpd::supervise::ProcessNode&>(top[0].node);
  CHECK(&a.spec() == &now.children[0].process());
  const auto& s = dynamic_cast<const otpd::supervise::Supervisor&>(top[1].node);
  CHECK(&s.spec() == &now.children[1].supervisor());
  const auto below = s.children();
  REQUIRE(below.size() == 1);
  const auto& x = dynamic_cast<const otpd::supervise::ProcessNode&>(below[0].node);
  CHECK(&x.spec() == &now.children[1].supervisor().children[0].process());
}

TEST_CASE("reload: a supervisor's own settings change in place, its children keep running") {
  World w(supervisor_spec(Strategy::one_for_one, {proc("a"), proc("b")}, 3));
  const int a = w.procs.pid_of("a");
  auto next = supervisor_spec(Strategy::one_for_all, {proc("a"), proc("b")}, 0);
  const auto result = w.reload(next);
  REQUIRE(result);
  CHECK(w.take_history().empty());
  CHECK(w.procs.pid_of("a") == a);
  CHECK(w.tree->root().spec().strategy == Strategy::one_for_all);
  REQUIRE(result->diff.paths.front().path == "/");
  CHECK(result->diff.paths.front().what == Lines{"strategy", "intensity"});
  // The new intensity (0) is in force: the first crash makes it give up.
  std::optional<otpd::supervise::ChildExit> gave_up;
  w.tree->on_exit = [&](const otpd::supervise::ChildExit& r) { gave_up = r; };
  w.procs.exit("b", crash);
  CHECK(gave_up);
}

TEST_CASE("reload: nested supervisors are reloaded in place, not restarted") {
  auto inner = supervisor_spec(Strategy::one_for_one, {proc("x"), proc("y")});
  World w(supervisor_spec(Strategy::one_for_one, {proc("a"), supervisor_child("s", inner)}));
  const int x = w.procs.pid_of("x");
  auto changed_inner =
      supervisor_spec(Strategy::rest_for_one, {proc("x"), proc("y", "2"), proc("z")});
  const auto result = w.reload(
      supervisor_spec(Strategy::one_for_one, {proc("a"), supervisor_child("s", changed_inner)}));
  REQUIRE(result);
  CHECK(w.take_history() == Lines{"term y", "exit y", "start y", "start z"});
  CHECK(w.procs.pid_of("x") == x);
  CHECK(w.sink.count(EventKind::stopping, "s") == 0);
  CHECK(result->diff.of(otpd::config::Change::changed) == Lines{"s", "s/y"});
  CHECK(result->diff.of(otpd::config::Change::added) == Lines{"s/z"});
  const auto status = w.tree->status("s");
  REQUIRE(status);
  CHECK(status->strategy == Strategy::rest_for_one);
  CHECK(status->children.size() == 3);
}

TEST_CASE("reload: a child whose kind changes is removed and added") {
  World w(supervisor_spec(Strategy::one_for_one, {proc("a"), proc("b")}));
  const auto result = w.reload(supervisor_spec(
      Strategy::one_for_one,
      {proc("a"), supervisor_child("b", supervisor_spec(Strategy::one_for_one, {proc("x")}))}));
  REQUIRE(result);
  CHECK(w.take_history() == Lines{"term b", "exit b", "start x"});
  CHECK(result->diff.of(otpd::config::Change::removed) == Lines{"b"});
  CHECK(result->diff.of(otpd::config::Change::added) == Lines{"b", "b/x"});
  CHECK(w.tree->status("b/x"));
}

TEST_CASE("reload: one_for_all and rest_for_one siblings are not restarted by a change") {
  for (Strategy strategy : {Strategy::one_for_all, Strategy::rest_for_one}) {
    CAPTURE(otpd::config::to_string(strategy));
    World w(supervisor_spec(strategy, {proc("a"), proc("b"), proc("c")}));
    const int a = w.procs.pid_of("a");
    const int c = w.procs.pid_of("c");
    w.reload(supervisor_spec(strategy, {proc("a"), proc("b", "2"), proc("c")}));
    CHECK(w.take_history() == Lines{"term b", "exit b", "start b"});
    CHECK(w.procs.pid_of("a") == a);
    CHECK(w.procs.pid_of("c") == c);
    // The strategy still holds for crashes afterwards.
    w.procs.exit("b", crash);
    if (strategy == Strategy::one_for_all) {
      CHECK(w.take_history() == Lines{"exit b", "term c", "exit c", "term a", "exit a", "start a",
                                      "start b", "start c"});
    } else {
      CHECK(w.take_history() == Lines{"exit b", "term c", "exit c", "start b", "start c"});
    }
  }
}

TEST_CASE("reload: its own restarts do not count against the intensity") {
  World w(supervisor_spec(Strategy::one_for_one, {proc("a"), proc("b"), proc("c")}, 1));
  w.reload(
      supervisor_spec(Strategy::one_for_one, {proc("a", "2"), proc("b", "2"), proc("c", "2")}, 1));
  CHECK(w.procs.starts_of("a") == 1);
  CHECK(w.tree->running());
  CHECK(w.tree->root().intensity_used() == 0);
}

TEST_CASE("reload: a child an operator stopped stays stopped, and starts with its new spec") {
  World w(supervisor_spec(Strategy::one_for_one, {proc("a"), proc("b")}));
  w.tree->stop_child("b", [](Failure) {});
  w.host.run();
  w.take_history();
  w.reload(supervisor_spec(Strategy::one_for_one, {proc("a"), proc("b", "2")}));
  CHECK(w.take_history().empty());
  auto status = w.tree->status("b");
  REQUIRE(status);
  CHECK(status->held);
  CHECK(status->state == "stopped");
  w.tree->start_child("b", [](Failure) {});
  w.host.run();
  CHECK(w.take_history() == Lines{"start b"});
  // The spec now in force is the new one.
  for (const auto& child : w.tree->root().children()) {
    if (child.spec.name == "b") CHECK(child.spec.process().env.front().second == "2");
  }
}

TEST_CASE("reload: removing a held child forgets the hold") {
  World w(supervisor_spec(Strategy::one_for_one, {proc("a"), proc("b")}));
  w.tree->stop_child("b", [](Failure) {});
  w.host.run();
  w.reload(supervisor_spec(Strategy::one_for_one, {proc("a")}));
  w.take_history();
  w.reload(supervisor_spec(Strategy::one_for_one, {proc("a"), proc("b")}));
  CHECK(w.take_history() == Lines{"start b"});
}

TEST_CASE("reload: waits for a restart in progress, backoff included, then applies") {
  auto root = supervisor_spec(Strategy::one_for_one, {proc("a"), proc("b")}, 10);
  root.backoff = otpd::config::Backoff{1s, 1s, 2.0, 30s};
  World w(root);
  w.procs.exit("b", crash);
  CHECK(w.tree->root().children()[1].record.state == ChildState::backoff);
  auto next = root;
  next.children[1] = proc("b", "2");
  std::optional<ReloadResult> result;
  w.tree->reload(config_of(next), [&](ReloadResult r) { result = std::move(r); });
  w.host.run();
  CHECK(!result);  // waits its turn in the mailbox
  w.host.advance(1s);
  REQUIRE(result);
  CHECK(result->failed.empty());
  // The restart finished first (old spec), then the reload restarted b.
  CHECK(w.take_history() == Lines{"exit b", "start b", "term b", "exit b", "start b"});
  CHECK(w.tree->root().intensity_used() == 1);
}

TEST_CASE("reload: a crash during a reload waits for it, and the stale exit is ignored") {
  World w(supervisor_spec(Strategy::one_for_one, {proc("a"), proc("b")}));
  w.procs.ignore_sigterm("a");
  std::optional<ReloadResult> result;
  w.tree->reload(
      config_of(supervisor_spec(Strategy::one_for_one, {proc("a", "2"), proc("b", "2")})),
      [&](ReloadResult r) { result = std::move(r); });
  w.host.run();
  CHECK(w.take_history() == Lines{"term a"});
  w.procs.exit("b", crash);  // waits in the mailbox while a is being stopped
  w.host.advance(5s);        // a's shutdown time runs out
  REQUIRE(result);
  CHECK(w.take_history() == Lines{"exit b", "kill a", "exit a", "start a", "start b"});
  CHECK(w.procs.running("b"));
  CHECK(w.procs.starts_of("b") == 0);  // history was taken: nothing more happened
  CHECK(w.tree->root().intensity_used() == 0);
}

TEST_CASE("reload: a changed child keeps its record, and its new incarnation is supervised") {
  World w(supervisor_spec(Strategy::one_for_one, {proc("a"), proc("b")}, 5));
  w.procs.exit("b", crash);
  w.host.run();
  REQUIRE(w.tree->root().children()[1].record.restarts == 1);
  const auto result =
      w.reload(supervisor_spec(Strategy::one_for_one, {proc("a"), proc("b", "2")}, 5));
  REQUIRE(result);
  const auto b = w.tree->root().children()[1];
  CHECK(b.record.restarts == 1);
  REQUIRE(b.record.last_exit != nullptr);
  CHECK(b.record.state == ChildState::running);
  w.take_history();
  // Its exits reach the supervisor through the node made from the new spec.
  w.procs.exit("b", crash);
  w.host.run();
  CHECK(w.take_history() == Lines{"exit b", "start b"});
  CHECK(w.tree->root().children()[1].record.restarts == 2);
}

TEST_CASE("reload: an added child that fails to start is reported, then retried as a restart") {
  World w(supervisor_spec(Strategy::one_for_one, {proc("a")}, 2));
  w.procs.fail_starts_of("new", "no such program");
  const auto result = w.reload(supervisor_spec(Strategy::one_for_one, {proc("a"), proc("new")}, 2));
  REQUIRE(result);
  REQUIRE(result->failed.size() == 1);
  CHECK(result->failed[0].path == "new");
  CHECK(result->failed[0].error == "no such program");
  const auto reloaded = std::find_if(w.sink.events.begin(), w.sink.events.end(),
                                     [](const auto& e) { return e.kind == EventKind::reloaded; });
  REQUIRE(reloaded != w.sink.events.end());
  CHECK(reloaded->reason == "1 added, 0 removed, 0 changed; new failed to start: no such program");
  // The retries count against the intensity (2): the third makes it give up.
  CHECK(!w.tree->running());
  CHECK(w.procs.starts_of("new") == 3);
  CHECK(w.sink.count(EventKind::intensity_exceeded, "/") == 1);
}

TEST_CASE("reload: a retried start that succeeds brings the added child up") {
  World w(supervisor_spec(Strategy::one_for_one, {proc("a")}, 5));
  auto root = supervisor_spec(Strategy::one_for_one, {proc("a"), proc("new")}, 5);
  root.backoff = otpd::config::Backoff{1s, 1s, 2.0, 30s};
  w.procs.fail_starts_of("new", "not yet");
  const auto result = w.reload(root);
  REQUIRE(result);
  CHECK(result->failed.size() == 1);
  w.procs.allow_starts_of("new");
  w.host.advance(1s);
  CHECK(w.procs.running("new"));
  CHECK(w.tree->running());
}

TEST_CASE("reload: a stopped nested supervisor takes the new spec for its next start") {
  auto inner = supervisor_spec(Strategy::one_for_one, {proc("x")});
  World w(supervisor_spec(Strategy::one_for_one, {proc("a"), supervisor_child("s", inner)}));
  w.tree->stop_child("s", [](Failure) {});
  w.host.run();
  w.take_history();
  w.reload(supervisor_spec(
      Strategy::one_for_one,
      {proc("a"),
       supervisor_child("s", supervisor_spec(Strategy::one_for_one, {proc("x"), proc("y")}))}));
  CHECK(w.take_history().empty());
  w.tree->start_child("s", [](Failure) {});
  w.host.run();
  CHECK(w.take_history() == Lines{"start x", "start y"});
}

TEST_CASE("reload: a shutdown during a reload stops everything, new children included") {
  World w(supervisor_spec(Strategy::one_for_one, {proc("a")}));
  w.procs.ignore_sigterm("a");
  bool reloaded = false;
  w.tree->reload(config_of(supervisor_spec(Strategy::one_for_one, {proc("a", "2"), proc("b")})),
                 [&](ReloadResult) { reloaded = true; });
  w.host.run();
  w.tree->stop([&](Done) { w.stopped = true; });
  w.host.advance(5s);
  CHECK(reloaded);
  CHECK(w.stopped);
  CHECK(!w.procs.running("a"));
  CHECK(!w.procs.running("b"));
}

TEST_CASE("reload: refused once the tree has stopped") {
  World w(supervisor_spec(Strategy::one_for_one, {proc("a")}));
  w.tree->stop([&](Done) { w.stopped = true; });
  w.host.run();
  const auto result = w.reload(supervisor_spec(Strategy::one_for_one, {proc("b")}));
  REQUIRE(result);
  CHECK(result->failure == "the tree is not running");
}

TEST_CASE("reload: a second reload compares with the first") {
  World w(supervisor_spec(Strategy::one_for_one, {proc("a")}));
  w.reload(supervisor_spec(Strategy::one_for_one, {proc("a"), proc("b")}));
  const auto result = w.reload(supervisor_spec(Strategy::one_for_one, {proc("a"), proc("b")}));
  REQUIRE(result);
  CHECK(result->diff.empty());
  CHECK(w.tree->plan(config_of(supervisor_spec(Strategy::one_for_one, {proc("a")})))
            .of(otpd::config::Change::removed) == Lines{"b"});
}

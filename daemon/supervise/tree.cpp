#include "supervise/tree.hpp"

#include <signal.h>

#include <algorithm>
#include <string_view>

#include "protocol/suggest.hpp"
#include "supervise/process_node.hpp"
#include "supervise/worker_node.hpp"

namespace otpd::supervise {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::string part;
  for (char c : path) {
    if (c == '/') {
      if (!part.empty()) parts.push_back(std::move(part));
      part.clear();
    } else {
      part += c;
    }
  }
  if (!part.empty()) parts.push_back(std::move(part));
  return parts;
}

NodeStatus status_of(const Supervisor& supervisor, TimePoint now);

NodeStatus status_of(const Supervisor::ChildView& child, TimePoint now) {
  const auto* supervisor = dynamic_cast<const Supervisor*>(&child.node);
  NodeStatus status = supervisor != nullptr ? status_of(*supervisor, now) : NodeStatus{};
  // What the parent knows of the child, for either kind.
  status.path = child.node.path();
  status.name = child.node.name();
  const ChildRecord& record = child.record;
  status.state = to_string(record.state);
  status.restart = child.spec.restart;
  status.held = child.held;
  status.significant = child.spec.significant;
  status.restarts = record.restarts;
  if (record.last_exit != nullptr) status.last_exit = *record.last_exit;
  if (record.exited_at) {
    status.since_exit = std::chrono::duration_cast<Duration>(now - *record.exited_at);
  }
  if (record.restart_at && record.state == ChildState::backoff) {
    status.restart_in =
        std::max(Duration{0}, std::chrono::duration_cast<Duration>(*record.restart_at - now));
  }
  if (const auto* worker = dynamic_cast<const WorkerNode*>(&child.node)) {
    status.worker_kind = config::to_string(worker->spec().kind());
    status.worker_id = worker->runtime_pid().id();
    if (status.worker_id != 0) {
      status.uptime = std::chrono::duration_cast<Duration>(now - record.started_at);
    }
  } else if (supervisor == nullptr) {
    status.command = child.spec.process().argv;
    status.pid = child.node.pid();
    if (status.pid != 0) {
      status.uptime = std::chrono::duration_cast<Duration>(now - record.started_at);
    }
    const auto& ready = *child.spec.process().ready;
    if (ready.kind != config::Readiness::Kind::none) status.ready = config::to_string(ready.kind);
    if (const auto* process = dynamic_cast<const ProcessNode*>(&child.node)) {
      status.notify_status = process->notify_status();
      status.main_pid = process->main_pid();
      status.announced_stopping = process->announced_stopping();
    }
  }
  return status;
}

NodeStatus status_of(const Supervisor& supervisor, TimePoint now) {
  NodeStatus status;
  status.path = supervisor.path();
  status.name = supervisor.path();
  status.is_supervisor = true;
  status.state = supervisor.running() ? "running" : "stopped";
  status.strategy = supervisor.spec().strategy;
  status.intensity = supervisor.spec().intensity;
  status.period = supervisor.spec().period;
  status.intensity_used = supervisor.intensity_used();
  status.dynamic = supervisor.spec().dynamic;
  status.max_children = supervisor.spec().max_children;
  supervisor.for_each_child([&](const Supervisor::ChildView& child) {
    status.children.push_back(status_of(child, now));
  });
  return status;
}

void walk_supervisor(const Supervisor& supervisor, TimePoint now, TreeVisitor& visitor) {
  visitor.supervisor({.path = supervisor.path(),
                      .running = supervisor.running(),
                      .intensity = supervisor.spec().intensity,
                      .intensity_used = supervisor.intensity_used(),
                      .period = supervisor.spec().period,
                      .children = supervisor.child_count()});
  supervisor.for_each_child([&](const Supervisor::ChildView& child) {
    const Supervisor* below = nullptr;
    const ChildRecord& record = child.record;
    ChildGlance glance{.path = child.node.path(),
                       .supervisor = supervisor.path(),
                       .state = to_string(record.state),
                       .held = child.held};
    switch (child.node.node_kind()) {
      case NodeKind::supervisor:
        below = static_cast<const Supervisor*>(&child.node);
        glance.kind = ChildGlance::Kind::supervisor;
        glance.up = record.state == ChildState::running;
        break;
      case NodeKind::worker: {
        glance.kind = ChildGlance::Kind::worker;
        const runtime::Process* process =
            static_cast<const WorkerNode&>(child.node).runtime_pid().get();
        glance.up = process != nullptr;
        if (process != nullptr) {
          glance.messages_handled = process->messages_handled();
          glance.mailbox_length = process->mailbox_length();
        }
        break;
      }
      case NodeKind::process:
        glance.up = child.node.pid() != 0;
        glance.gates_readiness = child.spec.is_process() &&
                                 child.spec.process().ready->kind != config::Readiness::Kind::none;
        break;
    }
    glance.gates_readiness = glance.gates_readiness || child.spec.significant;
    glance.restarts = record.restarts;
    if (record.last_exit && record.last_exit->status) glance.last_exit = &*record.last_exit->status;
    if (record.exited_at) {
      glance.since_exit = std::chrono::duration_cast<Duration>(now - *record.exited_at);
    }
    if (glance.up && below == nullptr) {
      glance.uptime = std::chrono::duration_cast<Duration>(now - record.started_at);
    }
    if (record.restart_at && record.state == ChildState::backoff) {
      glance.restart_in =
          std::max(Duration{0}, std::chrono::duration_cast<Duration>(*record.restart_at - now));
    }
    visitor.child(glance);
    if (below != nullptr) walk_supervisor(*below, now, visitor);
  });
}

void collect_paths(const Supervisor& supervisor, std::vector<std::string>& out) {
  supervisor.for_each_child([&](const Supervisor::ChildView& child) {
    out.push_back(child.node.path());
    if (const auto* below = dynamic_cast<const Supervisor*>(&child.node)) {
      collect_paths(*below, out);
    }
  });
}

}  // namespace

Tree::Tree(Host& host, ProcessControl& processes, EventSink& events, config::Config config,
           WorkerStarter* workers)
    : context_{host, processes, events, workers},
      config_(std::make_shared<config::Config>(std::move(config))),
      root_(std::make_unique<Supervisor>(
          context_, "/", std::shared_ptr<const config::SupervisorSpec>(config_, &config_->tree),
          config::Shutdown::infinity())) {
  root_->on_exit = [this](ChildExit reason) {
    if (on_exit) on_exit(reason);
  };
}

void Tree::start(Resume<Failure> done) {
  root_->start(std::move(done));
}

void Tree::stop(Resume<Done> done) {
  root_->stop("shutdown", std::move(done));
}

void Tree::kill() {
  root_->kill();
}

config::TreeDiff Tree::plan(const config::Config& next) const {
  return config::diff(*config_, next);
}

namespace {

std::string summary(const ReloadResult& result) {
  const auto count = [&](config::Change change) { return result.diff.of(change).size(); };
  std::string text = std::to_string(count(config::Change::added)) + " added, " +
                     std::to_string(count(config::Change::removed)) + " removed, " +
                     std::to_string(count(config::Change::changed)) + " changed";
  for (const ReloadFailure& failure : result.failed) {
    text += "; " + failure.path + " failed to start: " + failure.error;
  }
  return text;
}

}  // namespace

void Tree::applied_sections(config::HttpSpec http, std::vector<config::HookSpec> hooks) {
  config_->http = std::move(http);
  config_->hooks = std::move(hooks);
}

void Tree::reload(const config::Config& next, Resume<ReloadResult> done) {
  ReloadResult result;
  if (!root_->running()) {
    result.failure = "the tree is not running";
    context_.host.post([done = std::move(done), result = std::move(result)] { done(result); });
    return;
  }
  result.diff = plan(next);
  // The next reload compares with this one. The other sections stay the
  // ones otpd runs with (http and hooks until applied_sections).
  auto fresh = std::make_shared<config::Config>();
  static_cast<config::ConfigSections&>(*fresh) = *config_;
  fresh->tree = next.tree;
  config_ = fresh;
  root_->reload(
      std::shared_ptr<const config::SupervisorSpec>(config_, &config_->tree),
      config::Shutdown::infinity(),
      [this, done = std::move(done), result = std::move(result)](ReloadFailures failed) mutable {
        result.failed = std::move(failed);
        context_.events.emit({.kind = EventKind::reloaded,
                              .path = "/",
                              .reason = summary(result),
                              .added = result.diff.of(config::Change::added),
                              .removed = result.diff.of(config::Change::removed),
                              .changed = result.diff.of(config::Change::changed)});
        done(std::move(result));
      });
}

Census Tree::census() const {
  CensusTaker taker;
  walk(taker);
  return taker.census;
}

std::vector<std::string> Tree::paths() const {
  std::vector<std::string> out;
  collect_paths(*root_, out);
  return out;
}

// Walks the live tree; a path is found only while every supervisor on the
// way still has the child.
std::optional<Tree::Located> Tree::locate(const std::string& path) const {
  const auto parts = split_path(path);
  if (parts.empty()) return Located{nullptr, "/"};
  Supervisor* parent = root_.get();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto child = parent->child_named(parts[i]);
    if (!child) return std::nullopt;
    const Node* found = &child->node;
    if (i + 1 == parts.size()) return Located{parent, parts[i]};
    // Supervisors are owned by the tree; the const view does not change that.
    auto* below = dynamic_cast<Supervisor*>(const_cast<Node*>(found));
    if (below == nullptr) return std::nullopt;
    parent = below;
  }
  return std::nullopt;
}

namespace {

// The last `count` parts of a path, as a path.
std::string last_parts(const std::string& path, std::size_t count) {
  const auto parts = split_path(path);
  std::string out;
  for (std::size_t i = parts.size() > count ? parts.size() - count : 0; i < parts.size(); ++i) {
    out += (out.empty() ? "" : "/") + parts[i];
  }
  return out;
}

// The paths whose last parts are those of `ending` (parts joined by '/',
// the last of them `last_wanted`), in start order as paths() lists them.
// Each child's own name is compared with the last part, and a path is read
// only for a child so named and copied only for a match: no path of the
// tree is built to be thrown away. A name has no '/'
// (config/tree_reader.cpp), so a path whose last parts are those of
// `ending` is `ending`, or ends with '/' and `ending`.
void collect_ending_with(const Supervisor& supervisor, const std::string& last_wanted,
                         std::string_view ending, std::vector<std::string>& out) {
  supervisor.for_each_child([&](const Supervisor::ChildView& child) {
    if (child.node.name() == last_wanted) {
      const std::string& path = child.node.path();
      if (path == ending || (path.size() > ending.size() && path.ends_with(ending) &&
                             path[path.size() - ending.size() - 1] == '/')) {
        out.push_back(path);
      }
    }
    if (child.node.node_kind() == NodeKind::supervisor) {
      collect_ending_with(static_cast<const Supervisor&>(child.node), last_wanted, ending, out);
    }
  });
}

}  // namespace

ResolvedPath Tree::resolve(const std::string& written) const {
  const auto wanted = split_path(written);
  if (wanted.empty() || locate(written)) return {.path = written};
  std::vector<std::string> matches;
  collect_ending_with(*root_, wanted.back(), last_parts(written, wanted.size()), matches);
  if (matches.size() == 1) return {.path = matches.front()};
  if (matches.empty()) return {.path = written};
  std::string ambiguous =
      "'" + written + "' is the name of " + std::to_string(matches.size()) + " children (";
  for (std::size_t i = 0; i < matches.size(); ++i) ambiguous += (i ? ", " : "") + matches[i];
  ambiguous += "): write the path of one";
  return {.path = written, .failure = std::move(ambiguous)};
}

// The nearest path, or the path whose last parts are nearest to what was
// written: "did you mean 'backend/redis'?" for "rediss".
std::string Tree::not_found(const std::string& path) const {
  const auto all = paths();
  const std::vector<std::string_view> candidates(all.begin(), all.end());
  std::string suggestion = protocol::did_you_mean(path, candidates);
  if (suggestion.empty()) {
    const std::size_t depth = std::max<std::size_t>(1, split_path(path).size());
    std::vector<std::string> ends;
    for (const std::string& p : all) ends.push_back(last_parts(p, depth));
    const std::vector<std::string_view> end_views(ends.begin(), ends.end());
    if (const auto nearest = protocol::nearest(last_parts(path, depth), end_views)) {
      for (std::size_t i = 0; i < ends.size(); ++i) {
        if (ends[i] == *nearest) {
          suggestion = " (did you mean '" + all[i] + "'?)";
          break;
        }
      }
    }
  }
  return "no child '" + path + "' in the tree" + suggestion;
}

std::optional<NodeStatus> Tree::status(const std::string& path) const {
  const TimePoint now = context_.host.now();
  const auto where = locate(path);
  if (!where) return std::nullopt;
  if (where->parent == nullptr) return status_of(*root_, now);
  const auto child = where->parent->child_named(where->name);
  if (!child) return std::nullopt;
  return status_of(*child, now);
}

void Tree::walk(TreeVisitor& visitor) const {
  walk_supervisor(*root_, context_.host.now(), visitor);
}

void Tree::forward(OperatorRequest request, const std::string& path, Resume<Failure> done) {
  const auto where = locate(path);
  Failure refused;
  if (!where) {
    refused = not_found(path);
  } else if (where->parent == nullptr) {
    refused = "the root supervisor cannot be started or stopped by itself; use shutdown";
  }
  if (refused) {
    context_.host.post([done = std::move(done), refused] { done(refused); });
    return;
  }
  (where->parent->*request)(where->name, std::move(done));
}

void Tree::stop_child(const std::string& path, Resume<Failure> done) {
  forward(&Supervisor::stop_child, path, std::move(done));
}

void Tree::start_child(const std::string& path, Resume<Failure> done) {
  forward(&Supervisor::start_child, path, std::move(done));
}

void Tree::restart_child(const std::string& path, Resume<Failure> done) {
  forward(&Supervisor::restart_child, path, std::move(done));
}

Tree::FoundSupervisor Tree::supervisor_at(const std::string& path) {
  const auto where = locate(path);
  if (!where) return {.failure = not_found(path)};
  if (where->parent == nullptr) return {.supervisor = root_.get()};
  const auto child = where->parent->child_named(where->name);
  if (!child) return {.failure = not_found(path)};
  // Supervisors are owned by the tree; the const view does not change that.
  if (auto* found = dynamic_cast<Supervisor*>(const_cast<Node*>(&child->node))) {
    return {.supervisor = found};
  }
  return {.failure = "'" + path + "' is a " + (child->spec.is_worker() ? "worker" : "process") +
                     ", not a dynamic supervisor"};
}

void Tree::add_child(const std::string& supervisor, config::ChildSpec child, Resume<Failure> done) {
  FoundSupervisor found = supervisor_at(supervisor);
  if (found.supervisor != nullptr) {
    found.supervisor->add_child(std::move(child), std::move(done));
    return;
  }
  context_.host.post(
      [done = std::move(done), failure = std::move(found.failure)] { done(failure); });
}

void Tree::terminate_child(const std::string& supervisor, const std::string& name,
                           Resume<Failure> done) {
  FoundSupervisor found = supervisor_at(supervisor);
  if (found.supervisor != nullptr) {
    found.supervisor->terminate_child(name, std::move(done));
    return;
  }
  context_.host.post(
      [done = std::move(done), failure = std::move(found.failure)] { done(failure); });
}

const WorkerNode* Tree::worker(const std::string& path) const {
  const auto where = locate(path);
  if (!where || where->parent == nullptr) return nullptr;
  const auto child = where->parent->child_named(where->name);
  return child ? dynamic_cast<const WorkerNode*>(&child->node) : nullptr;
}

Signalled Tree::signal_child(const std::string& path, int signo) {
  const auto where = locate(path);
  if (!where) return {.failure = not_found(path)};
  if (where->parent == nullptr) return {.failure = "'/' is a supervisor; signals go to processes"};
  const auto found = where->parent->child_named(where->name);
  if (!found) return {.failure = not_found(path)};
  const Supervisor::ChildView& child = *found;
  if (child.spec.is_supervisor()) {
    return {.failure = "'" + path + "' is a supervisor; signals go to processes"};
  }
  if (child.spec.is_worker()) {
    return {.failure = "'" + path +
                       "' is an in-process worker; signals go to processes (stop or restart "
                       "it instead)"};
  }
  const int pid = child.node.pid();
  if (pid == 0) return {.failure = "'" + path + "' is not running"};
  if (signo != SIGKILL && child.spec.process().kill_mode == config::KillMode::process) {
    context_.processes.signal_process(pid, signo);
    return {.pid = pid, .group = false};
  }
  context_.processes.signal_group(pid, signo);
  return {.pid = pid, .group = true};
}

}  // namespace otpd::supervise

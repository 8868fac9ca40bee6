// The whole supervision tree of one config: the root supervisor and the
// services its nodes share.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/diff.hpp"
#include "config/spec.hpp"
#include "supervise/failure.hpp"
#include "supervise/status.hpp"
#include "supervise/status_summary.hpp"
#include "supervise/supervisor.hpp"
#include "supervise/tree_walk.hpp"

namespace otpd::supervise {

class WorkerNode;
class WorkerStarter;

// A signal signal_child sent: to the process `pid` and its process group,
// or (kill_mode: process) to that process alone.
struct Signalled {
  int pid = 0;  // 0: nothing was sent
  bool group = true;
  Failure failure = {};  // why nothing was sent
};

// What a reload did: the plan it followed and the children it could not start.
struct ReloadResult {
  Failure failure = {};  // why the reload was refused; then it changed nothing
  config::TreeDiff diff = {};
  ReloadFailures failed = {};
};

// The path a name written by an operator stands for (Tree::resolve).
struct ResolvedPath {
  std::string path;
  Failure failure = {};  // why it stands for no one path
};

class Tree {
 public:
  // `workers` starts the tree's in-process workers; without it they fail
  // to start.
  // The tree keeps `config` (move it in: a big tree's specs are big) and
  // its supervisors share their parts of it.
  Tree(Host& host, ProcessControl& processes, EventSink& events, config::Config config,
       WorkerStarter* workers = nullptr);

  // `done` gets no failure once every child has started, or the reason the
  // tree could not start (then nothing of it runs).
  void start(Resume<Failure> done);
  // Stops every child in reverse start order with its shutdown policy.
  void stop(Resume<Done> done);
  // Kills every process of the tree at once.
  void kill();
  bool running() const { return root_->running(); }

  // Called when the root supervisor ends on its own: it gave up after too
  // many restarts, or shut down because its significant children ended
  // (reason.auto_shutdown). By then every child has been stopped.
  std::function<void(const ChildExit&)> on_exit;

  Supervisor& root() { return *root_; }
  // The loop the tree runs on, for answers that must come from it.
  Host& host() { return context_.host; }

  // The configuration the tree runs, reloads included. Its `control` stays
  // the one otpd started with: that section cannot change live.
  const config::Config& config() const { return *config_; }
  // The http and hooks sections as a reload applied them beside the tree:
  // what the next reload compares with.
  void applied_sections(config::HttpSpec http, std::vector<config::HookSpec> hooks);
  // What reload(next) would do, without doing it.
  config::TreeDiff plan(const config::Config& next) const;
  // Applies `next` (docs/reload.md) and emits one `reloaded` event when
  // done. A reload requested during another waits for it.
  void reload(const config::Config& next, Resume<ReloadResult> done);

  // The status of the node at `path` ("/" or "" for the whole tree) and
  // everything below it; nothing when there is no such node.
  std::optional<NodeStatus> status(const std::string& path) const;
  // The states of the whole tree, counted without building its status.
  Census census() const;
  // Every node, as a scrape reads them: nothing copied (tree_walk.hpp).
  void walk(TreeVisitor& visitor) const;

  // Operator requests on the node at `path`: `done` gets no failure, or why
  // it failed (no such node — with the nearest existing path — or the
  // supervisor refused).
  void stop_child(const std::string& path, Resume<Failure> done);
  void start_child(const std::string& path, Resume<Failure> done);
  void restart_child(const std::string& path, Resume<Failure> done);
  // A dynamic supervisor's run-time children (Supervisor::add_child and
  // terminate_child); `supervisor` is its path. Refused, through `done`, when
  // no node is there or it is not a dynamic supervisor.
  void add_child(const std::string& supervisor, config::ChildSpec child, Resume<Failure> done);
  void terminate_child(const std::string& supervisor, const std::string& name,
                       Resume<Failure> done);
  // Sends signo to the process at `path` where its stop signal goes: its
  // process group, or with kill_mode: process its main process alone;
  // SIGKILL always to the group, as a stop's SIGKILL (docs/config.md,
  // "Where signals go"). Nothing sent, and the failure says why, when it
  // cannot be.
  Signalled signal_child(const std::string& path, int signo);

  // The in-process worker at `path`, or nullptr when there is none there.
  const WorkerNode* worker(const std::string& path) const;

  // Every node's path, in start order (for suggestions and completion).
  std::vector<std::string> paths() const;
  // Whether a node lives at `path` now ("/" is the root).
  bool contains(const std::string& path) const { return locate(path).has_value(); }
  // The path that `written` stands for: itself when a node lives there,
  // else the one node whose path ends with it ("redis" for
  // "backend/redis"), so that a name unique in the tree is enough. A name
  // several paths end with is refused, through the failure, with those
  // paths; one that names nothing comes back as written.
  ResolvedPath resolve(const std::string& written) const;
  // "no child 'x' in the tree (did you mean 'y'?)": the refusal for a path
  // that names nothing, which the operations above also give.
  std::string not_found(const std::string& path) const;

 private:
  struct Located {
    Supervisor* parent;  // nullptr for the root
    std::string name;
  };
  std::optional<Located> locate(const std::string& path) const;
  // The supervisor at `path`, or no supervisor and why.
  struct FoundSupervisor {
    Supervisor* supervisor = nullptr;
    Failure failure = {};
  };
  FoundSupervisor supervisor_at(const std::string& path);
  using OperatorRequest = void (Supervisor::*)(const std::string&, Resume<Failure>);
  void forward(OperatorRequest request, const std::string& path, Resume<Failure> done);

  Context context_;
  // Not const: a reload replaces its http and hooks sections in place.
  std::shared_ptr<config::Config> config_;
  std::unique_ptr<Supervisor> root_;
};

}  // namespace otpd::supervise

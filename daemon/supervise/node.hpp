// Anything a supervisor can start, stop and be told the exit of: an OS
// process, an in-process worker or a nested supervisor.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/spec.hpp"
#include "supervise/child_record.hpp"
#include "supervise/event.hpp"
#include "supervise/exit_status.hpp"
#include "supervise/failure.hpp"
#include "supervise/host.hpp"
#include "supervise/job.hpp"

namespace otpd::supervise {

class WorkerStarter;

// The services a node uses; owned by the tree, shared by every node in it.
struct Context {
  Host& host;
  ProcessControl& processes;
  EventSink& events;
  // In-process workers; without it a worker child fails to start.
  WorkerStarter* workers = nullptr;
};

// How a child of the tree ended, as its supervisor reads it: `normal` and
// `shutdown` are the exits a transient child is not restarted for. (A
// runtime process ends with a runtime::ExitReason, which a worker node
// turns into one of these.)
struct ChildExit {
  using Kind = config::ExitKind;
  Kind kind = Kind::abnormal;
  std::optional<ExitStatus> status{};  // for an OS process
  // "exited with status 1", "reached maximum restart intensity", "error: boom"
  std::string text{};
  // For a stop: why its supervisor stopped it ("rest_for_one restart after
  // 'redis' killed by SIGKILL", "stopped by operator").
  std::string stopped_for{};
  // A supervisor that shut itself down because its significant children
  // ended (auto_shutdown), and how the significant process behind it ended:
  // otpd exits with that status when the root shuts down this way.
  bool auto_shutdown = false;
  std::optional<ExitStatus> cause{};
};

enum class NodeKind { process, worker, supervisor };

class Node {
 public:
  Node(Context& context, std::string path) : context_(context), path_(std::move(path)) {}
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  virtual ~Node() = default;

  const std::string& path() const { return path_; }
  // Its name under its supervisor, the last part of its path: a child
  // added at run time may share its spec with others (a program's dynamic
  // supervisor), so the name is the node's, not the spec's.
  std::string_view name() const {
    const std::size_t slash = path_.rfind('/');
    return slash == std::string::npos || path_.size() == 1
               ? std::string_view(path_)
               : std::string_view(path_).substr(slash + 1);
  }

  // Starts the node. `done` is called later from the event loop with no
  // failure once it runs, or with the reason it could not start.
  virtual void start(Resume<Failure> done) = 0;
  // A node whose start is over within the call (an in-process worker)
  // also starts through start_at_once(), which returns the start's outcome
  // instead of calling back: its supervisor can then restart it in the
  // call that reported its exit.
  virtual bool starts_at_once() const { return false; }
  virtual Failure start_at_once() { return "starts only through start()"; }
  // Stops a running node with its shutdown policy; `done` is called from the
  // event loop once nothing of it runs. A node being stopped never reports
  // its exit through on_exit.
  virtual void stop(const std::string& why, Resume<Done> done) = 0;
  // Ends everything of the node at once (a shutdown timeout ran out above).
  virtual void kill() = 0;
  // Gives up a start that is still waiting for readiness: `done` of start()
  // gets `why` at once and whatever runs is stopped with its shutdown policy
  // (stop() then waits for that). A no-op when no start is waiting.
  virtual void abort_start(const std::string& why) { (void)why; }
  virtual bool running() const = 0;
  // What the node is, for walks over the whole tree that cannot afford a
  // dynamic_cast per node.
  virtual NodeKind node_kind() const = 0;
  // The OS process id, when the node is one and runs.
  virtual int pid() const { return 0; }
  // A reload left the node's spec as it was, but at a new place, which
  // `owner` keeps alive: a node that points into its spec moves over, so
  // that the old configuration can be freed.
  virtual void respec(const config::ChildSpec& spec, const std::shared_ptr<const void>& owner) {
    (void)spec;
    (void)owner;
  }
  // How the node ended the last time stop() ended it ("killed by SIGTERM"),
  // taken by its supervisor for its record of the last exit; null when no
  // stop ended it since.
  std::unique_ptr<ChildExit> take_stopped_with() { return std::move(stopped_with_); }

  // Set by the parent: called from the event loop when the node ends on its
  // own while running.
  std::function<void(ChildExit)> on_exit;
  // Its parent supervisor's record of it (unused at the root).
  ChildRecord record;

 protected:
  bool heard(EventKind kind) const { return context_.events.hears(kind); }
  void emit(Event event) {
    event.path = path_;
    context_.events.emit(event);
  }

  // Stops the node by `shutdown`, as every node does: ask() it to stop,
  // then kill() it once the timeout runs out, with an event that says so
  // and how it kills (`killing`: "sending SIGKILL"); kill() at once for
  // brutal_kill; ask and wait for infinity. Resetting kill_timer_ (once the
  // node has ended) cancels the kill.
  void escalate_stop(const config::Shutdown& shutdown, const std::function<void()>& ask,
                     const char* killing);

  void record_stop(std::optional<ExitStatus> status, std::string text) {
    stopped_with_ = std::make_unique<ChildExit>(
        ChildExit{.kind = ChildExit::Kind::shutdown, .status = status, .text = std::move(text)});
  }

  Context& context_;
  std::unique_ptr<TimerHandle> kill_timer_;

 private:
  std::string path_;
  std::unique_ptr<ChildExit> stopped_with_;  // on the heap: a big tree has many nodes
};

}  // namespace otpd::supervise

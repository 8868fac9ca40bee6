// What each request does to the tree, and the reply line it earns. The
// connection handling (control/session) decides when; this decides what.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "control/event_hub.hpp"
#include "control/reload_json.hpp"
#include "control/request.hpp"
#include "control/worker_states.hpp"
#include "output/output_hub.hpp"
#include "supervise/tree.hpp"
#include "supervise/tree_health.hpp"
#include "workers/json_calls.hpp"

namespace otpd::supervise {
class WorkerNode;
}

namespace otpd::control {

class Commands {
 public:
  // `shutdown` starts the orderly stop of the whole tree, as SIGTERM does;
  // `reload` reads the config again and applies it, as SIGHUP does.
  // `outputs` serves `logs`; without it every process is "not captured".
  // `calls` serves call and cast; without it workers take no messages.
  Commands(supervise::Tree& tree, const EventHub& events, std::function<void()> shutdown,
           output::OutputHub* outputs = nullptr, ReloadService reload = {},
           workers::JsonCalls* calls = nullptr);

  // start, stop, restart, reload, start_child and terminate_child answer
  // once the tree has done them; call once the worker has replied.
  static bool answers_later(Command cmd);

  // A request's path may be a name unique in the tree, or the last parts
  // of a path (Tree::resolve): it is replaced by the whole path here,
  // before the command runs, so that every command takes one. False, with
  // the error appended to `out`, for a name several children have.
  bool resolve_path(ClientRequest& request, std::string& out) const;

  // Appends the reply of a command that answers at once. For `events` and
  // `logs` with `follow`, that is the stream's first line and the backlog;
  // the caller subscribes the connection to what follows (when `logs`
  // answered without an error: see follows_logs()).
  void answer(const ClientRequest& request, std::string& out);

  // Starts one of those; `done` later gets the complete reply line.
  void answer_later(const ClientRequest& request, std::function<void(std::string)> done);

  output::OutputHub* outputs() const { return outputs_; }
  // Where otpd is in its life, for `health`; without it the tree counts as
  // started once its root runs.
  void report_phase(const supervise::TreePhase* phase) { phase_ = phase; }
  // What workers' events said, added to `status`.
  void report_workers(const WorkerStates* workers) { workers_ = workers; }
  // Whether `logs` with `follow` for request.path starts a stream: the path
  // is a process whose output is captured.
  bool follows_logs(const ClientRequest& request) const;

 private:
  void status(const ClientRequest& request, std::string& out);
  void signal(const ClientRequest& request, std::string& out);
  void events(const ClientRequest& request, std::string& out);
  void logs(const ClientRequest& request, std::string& out);
  void cast(const ClientRequest& request, std::string& out);
  void whereis(const ClientRequest& request, std::string& out);
  void health(const ClientRequest& request, std::string& out);
  void call(const ClientRequest& request, std::function<void(std::string)> done);
  // The worker node at request.path; otherwise the error to answer, a
  // non-worker's ending with `refusal`.
  const supervise::WorkerNode* worker_node(const ClientRequest& request, std::string_view refusal,
                                           ErrorCode& code, std::string& error) const;
  // The running worker at request.path; otherwise the error to answer.
  runtime::Pid running_worker(const ClientRequest& request, ErrorCode& code,
                              std::string& error) const;
  void not_found(const ClientRequest& request, std::string& out) const;
  // What an operation on the node at `path` answers: the node as it is
  // then, or why the engine refused (not_found when request.path is not in
  // the tree).
  std::function<void(supervise::Failure)> node_reply(const ClientRequest& request,
                                                     const std::string& path,
                                                     std::function<void(std::string)> done);
  void start_child(const ClientRequest& request, std::function<void(std::string)> done);
  void terminate_child(const ClientRequest& request, std::function<void(std::string)> done);

  supervise::Tree& tree_;
  const EventHub& events_;
  std::function<void()> shutdown_;
  output::OutputHub* outputs_;
  ReloadService reload_;
  workers::JsonCalls* calls_;
  const supervise::TreePhase* phase_ = nullptr;
  const WorkerStates* workers_ = nullptr;
  std::string scratch_;  // reused for results built before their envelope
};

}  // namespace otpd::control

// OTP's supervisor: starts its children in order, stops them in reverse,
// restarts them by strategy within the restart intensity, and gives up
// (stopping everything, then exiting) when restarts come too fast.
//
// Like an OTP supervisor process it does one thing at a time: exits that
// arrive while it is busy wait in a mailbox and are handled afterwards, and
// an exit of an incarnation that has since been replaced is ignored.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/spec.hpp"
#include "runtime/restart_decision.hpp"
#include "runtime/restart_window.hpp"
#include "supervise/backoff.hpp"
#include "supervise/fifo.hpp"
#include "supervise/job.hpp"
#include "supervise/node.hpp"

namespace otpd::supervise {

// A child that a reload added or changed but could not start.
struct ReloadFailure {
  std::string path;
  std::string error;
};
using ReloadFailures = std::vector<ReloadFailure>;

class Supervisor final : public Node {
 public:
  // `spec` is shared, not copied: a nested supervisor's spec lives inside
  // its parent's, and a big tree's specs exist once (docs/design.md).
  Supervisor(Context& context, std::string path, std::shared_ptr<const config::SupervisorSpec> spec,
             config::Shutdown shutdown);
  ~Supervisor() override;

  void start(Resume<Failure> done) override;
  void stop(const std::string& why, Resume<Done> done) override;
  void kill() override;
  void abort_start(const std::string& why) override;
  bool running() const override { return phase_ != Phase::stopped; }
  NodeKind node_kind() const override { return NodeKind::supervisor; }

  // Operator requests on a direct child, by name. They wait their turn in the
  // mailbox like exits do; `done` gets no failure, or the reason it
  // failed. A child stopped this way stays stopped (also through group
  // restarts and restarts of this supervisor) until started again, and
  // neither stop nor start counts against the intensity.
  void stop_child(const std::string& name, Resume<Failure> done);
  void start_child(const std::string& name, Resume<Failure> done);
  void restart_child(const std::string& name, Resume<Failure> done);

  // A dynamic supervisor's (spec().dynamic) run-time children, as OTP's
  // DynamicSupervisor has them. Both wait their turn in the mailbox, never
  // running beside a restart. add_child starts `child` after the others and
  // gives `done` no failure once it runs, or why it was refused (not
  // dynamic, a duplicate name, max_children reached) or failed to start; a
  // child that fails to start is not kept. terminate_child stops the child
  // with its shutdown policy and removes it. Run-time children follow their
  // restart type like any child, except that one that ends for good
  // (temporary, or transient ending normally) is removed; they are not in
  // the config, so a reload keeps them, and a restart of this supervisor
  // (which starts from its spec again) drops them.
  void add_child(config::ChildSpec child, Resume<Failure> done);
  // The same for a child named `name` whose spec, `shape`, other children
  // may share (its own name is not read): a program's dynamic supervisor
  // of many alike children keeps one spec for them all.
  void add_child(std::string name, std::shared_ptr<const config::ChildSpec> shape,
                 Resume<Failure> done);
  void terminate_child(const std::string& name, Resume<Failure> done);

  // Live reload (docs/reload.md): takes `next` as this supervisor's spec and
  // `shutdown` as its own shutdown policy, as a job in the mailbox, so that
  // it never runs beside a restart. Removed children are stopped, changed
  // processes restarted with their new spec, added children started in
  // their place, nested supervisors reloaded in place, the rest untouched;
  // none of it counts against the intensity. `done` gets the added or
  // changed children that failed to start (each then retried like a failed
  // restart). A supervisor that is not running takes the spec for its next
  // start.
  void reload(std::shared_ptr<const config::SupervisorSpec> next, config::Shutdown shutdown,
              Resume<ReloadFailures> done);
  // An equal spec at another place (a reload that left this supervisor
  // alone): the old one can go.
  void respec(const config::ChildSpec& spec, const std::shared_ptr<const void>& owner) override;

  const config::SupervisorSpec& spec() const { return *spec_; }
  // Restarts that count against the intensity right now.
  int intensity_used() const { return window_.used(context_.host.now()); }

  // A child as its supervisor sees it, read in place: valid until the
  // supervisor next changes its children (a restart, a reload, a removal).
  struct ChildView {
    const config::ChildSpec& spec;
    const Node& node;
    const ChildRecord& record;  // state, restarts, last exit, backoff
    bool held;                  // stopped by an operator
  };
  // Every child, in start order (a list of views: for tests).
  std::vector<ChildView> children() const;
  // The same without a list: walks over a big tree (status, /metrics) make
  // one view at a time.
  template <typename Fn>
  void for_each_child(Fn&& fn) const {
    for (const auto& c : children_) fn(view_of(*c));
  }
  std::optional<ChildView> child_named(const std::string& name) const;
  std::size_t child_count() const { return children_.size(); }

 private:
  enum class Phase { stopped, starting, running, stopping };

  using Child = Node;  // with its record

  struct Message {
    enum class Kind {
      exit,   // a child ended on its own
      retry,  // a new attempt after a failed start during a restart
      stop,   // operator requests
      start,
      restart,
      reload,     // a new spec for this supervisor
      add,        // a dynamic supervisor's run-time child
      terminate,  // stop and remove a run-time child
    };
    Kind kind;
    std::uint64_t child_id;
    std::uint64_t incarnation = 0;  // of the child, for exit and retry
    std::optional<ChildExit> exit{};
    Resume<Failure> reply{};                               // for operator requests
    std::shared_ptr<const config::SupervisorSpec> next{};  // for reload
    config::Shutdown next_shutdown{};
    Resume<ReloadFailures> reloaded{};
    std::shared_ptr<const config::ChildSpec> added{};  // for add: the child's spec
    std::string added_name{};                          // and its name
  };

  ChildView view_of(const Node& child) const;
  void build_children();
  std::string child_path(std::string_view name) const;
  Child* find(std::uint64_t id);
  Child* find(const std::string& name);
  void remove(Child& child, const std::string& why);
  Failure refuse_unless_dynamic() const;
  void child_exited(std::uint64_t id, ChildExit reason);
  bool idle() const;
  bool restart_at_once(Child& child, const ChildExit& reason);
  void done_at_once();
  Failure admit(const std::string& name);
  Child& adopt(const std::string& name, std::shared_ptr<const config::ChildSpec> owned);
  void work_if_idle();
  void request(Message::Kind kind, const std::string& name, Resume<Failure> done);
  void clear_mailbox();
  void post_alive(std::function<void()> fn);
  void take_spec(std::shared_ptr<const config::SupervisorSpec> next);
  std::unique_ptr<Node> make_child(std::string_view name, const config::ChildSpec& spec,
                                   const std::shared_ptr<const void>& owner);
  void watch(Node& child);
  Node* renew(Node& child);

  Job run_init(Resume<Failure> done);
  Job run_work();
  Job run_shutdown();

  Step<Failure> start_child(Child& child);
  void begin_start(Child& child);
  Failure end_start(Child& child, Failure failure);
  Step<void> stop_child(Child& child, std::string why);
  Step<void> stop_running(std::vector<Child*> in_stop_order, std::string why);
  Step<void> stop_all(std::string why);
  Step<void> stop_together(std::string why);
  void record_stopped(Child& child, const std::string& why);
  runtime::RestartDecision decide(const Child& child, std::optional<config::ExitKind> exit) const;
  Step<void> handle_exit(Child& child, ChildExit reason);
  Step<Failure> handle_request(Child& child, Message::Kind kind);
  Step<Failure> handle_add(std::string name, std::shared_ptr<const config::ChildSpec> owned);
  Step<void> handle_terminate(Child& child);
  Step<void> restart(Child& failed, std::string why, runtime::RestartDecision decision);
  void count_restart(Child& child);
  void emit_restarting(const Child& child, const std::string& why, Duration delay);
  void queue_retry(const Child& child);
  Step<ReloadFailures> apply_reload(std::shared_ptr<const config::SupervisorSpec> next);
  Step<void> give_up();
  Step<void> significant_ended(const std::string& name, const ChildExit& reason);
  bool any_significant_active() const;
  Step<void> shut_down_automatically(std::string why, std::optional<ExitStatus> cause);
  Step<void> sleep(Duration delay);
  void wake();
  void finish_stop();

  std::shared_ptr<const config::SupervisorSpec> spec_;
  config::Shutdown shutdown_;
  std::vector<std::unique_ptr<Node>> children_;  // start order
  std::unordered_map<std::uint64_t, Child*> by_id_;
  // Children added at run time, by name (a view of their own spec's): a
  // dynamic supervisor may have a great many, and each add looks its name
  // up. The children of the spec are few and found by a walk.
  std::unordered_map<std::string_view, Child*> added_by_name_;
  std::uint64_t next_child_id_ = 1;
  runtime::RestartWindow window_;
  Fifo<Message> mailbox_;
  std::set<std::string, std::less<>> held_;  // names of children stopped by an operator
  // A reload that arrived while this supervisor was stopping: its next start
  // takes it.
  std::shared_ptr<const config::SupervisorSpec> pending_spec_;

  Phase phase_ = Phase::stopped;
  bool busy_ = false;  // a job owns the children
  bool stop_requested_ = false;
  std::vector<Resume<Done>> stop_waiters_;
  std::unique_ptr<TimerHandle> sleep_timer_;
  Resume<Done> wake_;
  // Posted callbacks check this before touching the supervisor.
  std::shared_ptr<Supervisor*> alive_;
};

}  // namespace otpd::supervise

#include "supervise/supervisor.hpp"

#include <algorithm>
#include <cassert>
#include <span>

#include "config/diff.hpp"
#include "runtime/restart_decision.hpp"
#include "supervise/process_node.hpp"
#include "supervise/worker_node.hpp"

namespace otpd::supervise {

const char* to_string(ChildState state) {
  switch (state) {
    case ChildState::stopped:
      return "stopped";
    case ChildState::starting:
      return "starting";
    case ChildState::running:
      return "running";
    case ChildState::stopping:
      return "stopping";
    case ChildState::exited:
      return "exited";
    case ChildState::backoff:
      return "backoff";
    case ChildState::failed:
      return "failed";
  }
  return "unknown";
}

using runtime::ChildFacts;
using runtime::RestartDecision;

namespace {

// `owner` keeps `spec` alive: a nested supervisor shares it.
std::unique_ptr<Node> make_node(Context& context, std::string path, const config::ChildSpec& spec,
                                const std::shared_ptr<const void>& owner) {
  if (spec.is_supervisor()) {
    return std::make_unique<Supervisor>(
        context, std::move(path),
        std::shared_ptr<const config::SupervisorSpec>(owner, &spec.supervisor()), spec.shutdown);
  }
  if (spec.is_worker()) {
    return std::make_unique<WorkerNode>(context, std::move(path), spec.worker(), spec.shutdown);
  }
  return std::make_unique<ProcessNode>(context, std::move(path), spec.process(), spec.shutdown);
}

ChildFacts facts_of(const Node& child) {
  return {.id = child.record.id,
          .restart = child.record.spec->restart,
          .dynamic = child.record.own_spec != nullptr};
}

// Whether make_node makes a node that starts within the call (a worker).
bool makes_node_starting_at_once(const config::ChildSpec& spec) {
  return spec.is_worker();
}

std::string quoted(std::string_view name) {
  return "'" + std::string(name) + "'";
}

}  // namespace

Supervisor::Supervisor(Context& context, std::string path,
                       std::shared_ptr<const config::SupervisorSpec> spec,
                       config::Shutdown shutdown)
    : Node(context, std::move(path)),
      spec_(std::move(spec)),
      shutdown_(shutdown),
      window_(spec_->intensity, spec_->period),
      alive_(std::make_shared<Supervisor*>(this)) {}

Supervisor::~Supervisor() {
  *alive_ = nullptr;
  // A job suspended here would resume into freed memory.
  assert(!busy_);
}

Supervisor::ChildView Supervisor::view_of(const Node& c) const {
  const ChildRecord& record = c.record;
  return {.spec = *record.spec,
          .node = c,
          .record = record,
          .held = !held_.empty() && held_.contains(c.name())};
}

std::vector<Supervisor::ChildView> Supervisor::children() const {
  std::vector<ChildView> views;
  views.reserve(children_.size());
  for_each_child([&](const ChildView& view) { views.push_back(view); });
  return views;
}

std::optional<Supervisor::ChildView> Supervisor::child_named(const std::string& name) const {
  for (const auto& c : children_) {
    if (c->name() == name) return view_of(*c);
  }
  return std::nullopt;
}

std::string Supervisor::child_path(std::string_view name) const {
  return path() == "/" ? std::string(name) : path() + "/" + std::string(name);
}

// Each start is a fresh supervisor, as a restarted OTP supervisor process is:
// children come from the spec again (children added at run time are gone)
// and the restart history is empty.
void Supervisor::build_children() {
  children_.clear();
  by_id_.clear();
  added_by_name_.clear();
  std::erase_if(held_, [&](const std::string& name) {
    return std::none_of(spec_->children.begin(), spec_->children.end(),
                        [&](const auto& c) { return c.name == name; });
  });
  children_.reserve(spec_->children.size());
  for (const auto& spec : spec_->children) children_.push_back(make_child(spec.name, spec, spec_));
  window_.clear();
  clear_mailbox();
}

std::unique_ptr<Node> Supervisor::make_child(std::string_view name, const config::ChildSpec& spec,
                                             const std::shared_ptr<const void>& owner) {
  std::unique_ptr<Node> child = make_node(context_, child_path(name), spec, owner);
  child->record.id = next_child_id_++;
  child->record.spec = &spec;
  watch(*child);
  return child;
}

// The supervisor learns of the child's exits, and finds it by its id.
void Supervisor::watch(Node& child) {
  child.on_exit = [this, id = child.record.id](ChildExit reason) {
    child_exited(id, std::move(reason));
  };
  by_id_.insert_or_assign(child.record.id, &child);
}

// A child whose spec changed gets a node made from the new one, which
// carries on its record (its id, restarts and last exit).
Node* Supervisor::renew(Node& child) {
  std::unique_ptr<Node> fresh =
      make_node(context_, child_path(child.name()), *child.record.spec, spec_);
  fresh->record = std::move(child.record);
  watch(*fresh);
  Node* renewed = fresh.get();
  *std::find_if(children_.begin(), children_.end(),
                [&](const auto& c) { return c.get() == &child; }) = std::move(fresh);
  return renewed;
}

// A stopped supervisor has no job that could hold pointers into its spec:
// the new one replaces it at once, children and all.
void Supervisor::take_spec(std::shared_ptr<const config::SupervisorSpec> next) {
  spec_ = std::move(next);
  window_.reconfigure(spec_->intensity, spec_->period);
  build_children();
}

void Supervisor::respec(const config::ChildSpec& spec, const std::shared_ptr<const void>& owner) {
  const auto next = std::shared_ptr<const config::SupervisorSpec>(owner, &spec.supervisor());
  if (next.get() == spec_.get()) return;
  // Equal specs: the same children under the same names.
  for (auto& c : children_) {
    if (c->record.own_spec) continue;
    const auto found =
        std::find_if(next->children.begin(), next->children.end(),
                     [&](const config::ChildSpec& s) { return s.name == c->name(); });
    if (found == next->children.end()) continue;
    c->record.spec = &*found;
    c->respec(*found, next);
  }
  if (pending_spec_ == spec_) pending_spec_ = next;
  spec_ = next;
}

Supervisor::Child* Supervisor::find(std::uint64_t id) {
  const auto found = by_id_.find(id);
  return found == by_id_.end() ? nullptr : found->second;
}

Supervisor::Child* Supervisor::find(const std::string& name) {
  if (const auto added = added_by_name_.find(name); added != added_by_name_.end()) {
    return added->second;
  }
  // Every other child is one of the spec's.
  if (spec_->children.empty()) return nullptr;
  const auto found = std::find_if(children_.begin(), children_.end(), [&](const auto& c) {
    return !c->record.own_spec && c->name() == name;
  });
  return found == children_.end() ? nullptr : found->get();
}

void Supervisor::remove(Child& child, const std::string& why) {
  if (heard(EventKind::removed)) {
    Event removed{.kind = EventKind::removed, .reason = why};
    removed.path = child.path();
    context_.events.emit(removed);
  }
  by_id_.erase(child.record.id);
  if (child.record.own_spec) added_by_name_.erase(child.name());
  std::erase_if(children_, [&](const auto& c) { return c.get() == &child; });
}

void Supervisor::post_alive(std::function<void()> fn) {
  context_.host.post([alive = std::weak_ptr<Supervisor*>(alive_), fn = std::move(fn)] {
    if (auto self = alive.lock(); self && *self) fn();
  });
}

// --- entry points -----------------------------------------------------------

void Supervisor::start(Resume<Failure> done) {
  assert(phase_ == Phase::stopped && !busy_);
  stop_requested_ = false;
  clear_mailbox();  // may leave a reload's spec in pending_spec_
  if (pending_spec_) take_spec(std::exchange(pending_spec_, nullptr));
  build_children();
  phase_ = Phase::starting;
  busy_ = true;
  run_init(std::move(done));
}

void Supervisor::stop(const std::string& why, Resume<Done> done) {
  if (phase_ == Phase::stopped && !busy_) {
    context_.host.post([done = std::move(done)] { done({}); });
    return;
  }
  stop_waiters_.push_back(std::move(done));
  if (stop_requested_) return;
  stop_requested_ = true;
  emit({.kind = EventKind::stopping, .reason = why});
  escalate_stop(
      shutdown_, [] {}, "killing every process below");
  // A restart waiting out its backoff, or a start waiting for a child to be
  // ready, gives way to the shutdown at once.
  post_alive([this] { wake(); });
  abort_start(why + " before it was ready");
  if (!busy_) {
    busy_ = true;
    run_shutdown();
  }
}

void Supervisor::kill() {
  for (auto& c : children_) c->kill();
}

void Supervisor::abort_start(const std::string& why) {
  for (auto& c : children_) {
    if (c->record.state == ChildState::starting) c->abort_start(why);
  }
}

void Supervisor::child_exited(std::uint64_t id, ChildExit reason) {
  Child* child = find(id);
  if (child == nullptr) return;
  child->record.state = ChildState::exited;
  // A child that keeps crashing keeps its one record of the last exit.
  if (child->record.last_exit) {
    *child->record.last_exit = reason;
  } else {
    child->record.last_exit = std::make_unique<ChildExit>(reason);
  }
  child->record.exited_at = context_.host.now();
  if (restart_at_once(*child, reason)) return;
  mailbox_.push_back({.kind = Message::Kind::exit,
                      .child_id = id,
                      .incarnation = child->record.incarnation,
                      .exit = std::move(reason)});
  work_if_idle();
}

// Running, with no job and no message waiting: a request handled now comes
// in the same order as through the mailbox.
bool Supervisor::idle() const {
  return !busy_ && phase_ == Phase::running && !stop_requested_ && mailbox_.empty();
}

// The most common exit, a lone child restarted, carried out in the call
// that reported it: what run_work would do with the exit (handle_exit, then
// restart), without a mailbox message, a trip through the loop or a
// coroutine. Only when nothing could tell the two apart: no job or message
// waiting, no sibling to stop, no backoff to wait out, no operator's hold,
// and a node that starts within the call. Anything else waits its turn.
bool Supervisor::restart_at_once(Child& child, const ChildExit& reason) {
  if (!idle() || !child.starts_at_once() || child.record.spec->backoff || spec_->backoff ||
      (!held_.empty() && held_.contains(child.name()))) {
    return false;
  }
  const RestartDecision decision = decide(child, reason.kind);
  if (decision.action != RestartDecision::Action::restart || !decision.stop.empty() ||
      decision.start.size() != 1 || decision.start.front() != child.record.id) {
    return false;
  }
  busy_ = true;  // whatever the start sets off waits in the mailbox
  count_restart(child);
  if (heard(EventKind::restarting)) {
    emit_restarting(child, quoted(child.name()) + " " + reason.text, Duration{0});
  }
  begin_start(child);
  if (end_start(child, child.start_at_once())) queue_retry(child);
  done_at_once();
  return true;
}

// What run_work does once its work is over, for work done in the caller's
// call: a stop asked meanwhile (by a start function or an event sink) found
// the supervisor busy and left its shutdown to whoever was working.
void Supervisor::done_at_once() {
  busy_ = false;
  if (stop_requested_) {
    busy_ = true;
    run_shutdown();
    return;
  }
  work_if_idle();
}

void Supervisor::stop_child(const std::string& name, Resume<Failure> done) {
  request(Message::Kind::stop, name, std::move(done));
}

void Supervisor::start_child(const std::string& name, Resume<Failure> done) {
  request(Message::Kind::start, name, std::move(done));
}

void Supervisor::restart_child(const std::string& name, Resume<Failure> done) {
  request(Message::Kind::restart, name, std::move(done));
}

Failure Supervisor::refuse_unless_dynamic() const {
  if (!spec_->dynamic) {
    return "'" + path() +
           "' is not a dynamic supervisor (only a child with 'worker: {kind: "
           "dynamic_supervisor}' takes children at run time)";
  }
  if (phase_ != Phase::running || stop_requested_)
    return "supervisor " + path() + " is not running";
  return std::nullopt;
}

void Supervisor::add_child(config::ChildSpec child, Resume<Failure> done) {
  std::string name = child.name;
  add_child(std::move(name), std::make_shared<const config::ChildSpec>(std::move(child)),
            std::move(done));
}

void Supervisor::add_child(std::string name, std::shared_ptr<const config::ChildSpec> shape,
                           Resume<Failure> done) {
  if (Failure refused = refuse_unless_dynamic()) {
    context_.host.post([done = std::move(done), refused] { done(refused); });
    return;
  }
  if (idle() && makes_node_starting_at_once(*shape)) {
    // Nothing waits before it, and its start is over within the call: what
    // handle_add would do, done now.
    Failure failure = admit(name);
    if (!failure) {
      busy_ = true;  // whatever the start sets off waits in the mailbox
      Child& added = adopt(name, std::move(shape));
      begin_start(added);
      failure = end_start(added, added.start_at_once());
      if (failure) remove(added, "failed to start: " + *failure);
    }
    context_.host.post([done = std::move(done), failure = std::move(failure)] { done(failure); });
    done_at_once();
    return;
  }
  mailbox_.push_back({.kind = Message::Kind::add,
                      .child_id = 0,
                      .reply = std::move(done),
                      .added = std::move(shape),
                      .added_name = std::move(name)});
  work_if_idle();
}

void Supervisor::terminate_child(const std::string& name, Resume<Failure> done) {
  if (Failure refused = refuse_unless_dynamic()) {
    context_.host.post([done = std::move(done), refused] { done(refused); });
    return;
  }
  request(Message::Kind::terminate, name, std::move(done));
}

void Supervisor::reload(std::shared_ptr<const config::SupervisorSpec> next,
                        config::Shutdown shutdown, Resume<ReloadFailures> done) {
  if ((phase_ == Phase::stopped && !busy_) || phase_ == Phase::stopping || stop_requested_) {
    shutdown_ = shutdown;
    if (phase_ == Phase::stopped && !busy_) {
      take_spec(std::move(next));
    } else {
      pending_spec_ = std::move(next);
    }
    context_.host.post([done = std::move(done)] { done({}); });
    return;
  }
  mailbox_.push_back({.kind = Message::Kind::reload,
                      .child_id = 0,
                      .next = std::move(next),
                      .next_shutdown = shutdown,
                      .reloaded = std::move(done)});
  work_if_idle();
}

void Supervisor::request(Message::Kind kind, const std::string& name, Resume<Failure> done) {
  Failure refused;
  const auto child = std::find_if(children_.begin(), children_.end(),
                                  [&](const auto& c) { return c->name() == name; });
  if (child == children_.end()) {
    refused = "supervisor " + path() + " has no child " + quoted(name);
  } else if (phase_ == Phase::stopped || phase_ == Phase::stopping || stop_requested_) {
    refused = "supervisor " + path() + " is not running";
  }
  if (refused) {
    context_.host.post([done = std::move(done), refused] { done(refused); });
    return;
  }
  const bool stops = kind == Message::Kind::stop || kind == Message::Kind::terminate;
  if (stops && (*child)->record.state == ChildState::starting) {
    // Held now, so that the start given up here does not count as failed;
    // the request itself still waits its turn.
    held_.insert(name);
    (*child)->abort_start("stopped by operator");
  }
  mailbox_.push_back({.kind = kind, .child_id = (*child)->record.id, .reply = std::move(done)});
  work_if_idle();
}

// Operator requests still waiting get an answer rather than silence.
void Supervisor::clear_mailbox() {
  for (auto& message : mailbox_) {
    // A reload that never ran still takes effect: at the next start.
    if (message.kind == Message::Kind::reload) {
      pending_spec_ = message.next;
      shutdown_ = message.next_shutdown;
      context_.host.post([done = std::move(message.reloaded)] { done({}); });
      continue;
    }
    if (message.reply) {
      context_.host.post([reply = std::move(message.reply), path = path()] {
        reply("supervisor " + path + " stopped before handling the request");
      });
    }
  }
  mailbox_.clear();
}

void Supervisor::work_if_idle() {
  if (busy_ || phase_ != Phase::running || mailbox_.empty()) return;
  busy_ = true;
  // Posted, so that a child's exit is never handled inside the call that
  // reported it.
  post_alive([this] { run_work(); });
}

// --- jobs ---------------------------------------------------------------------

Job Supervisor::run_init(Resume<Failure> done) {
  Failure failure;
  for (auto& c : children_) {
    if (stop_requested_) break;
    if (held_.contains(c->name())) continue;
    const Failure child_failure = co_await start_child(*c);
    if (child_failure) {
      failure = "failed to start child " + quoted(c->name()) + ": " + *child_failure;
      break;
    }
  }
  if (!failure && stop_requested_) failure = "stopped before it finished starting";
  if (failure) {
    phase_ = Phase::stopping;
    co_await stop_all(*failure);
    phase_ = Phase::stopped;
    busy_ = false;
    clear_mailbox();
    context_.host.post([done = std::move(done), failure] { done(failure); });
    if (stop_requested_) finish_stop();
    co_return;
  }
  phase_ = Phase::running;
  busy_ = false;
  emit({.kind = EventKind::started});
  context_.host.post([done = std::move(done)] { done(std::nullopt); });
  work_if_idle();
}

Job Supervisor::run_work() {
  while (!mailbox_.empty() && !stop_requested_) {
    Message message = mailbox_.take_front();
    Child* child = find(message.child_id);
    switch (message.kind) {
      case Message::Kind::exit:
      case Message::Kind::retry:
        // A late exit of an incarnation that has been replaced since.
        if (child == nullptr || child->record.incarnation != message.incarnation) break;
        if (held_.contains(child->name())) {
          child->record.state = ChildState::stopped;  // an operator stopped it meanwhile
        } else if (message.kind == Message::Kind::exit) {
          co_await handle_exit(*child, std::move(*message.exit));
        } else {
          co_await restart(*child, "retrying the failed start of " + quoted(child->name()),
                           decide(*child, std::nullopt));
        }
        break;
      case Message::Kind::stop:
      case Message::Kind::start:
      case Message::Kind::restart:
      case Message::Kind::terminate: {
        Failure failure = "the child is no longer in the tree";
        if (child != nullptr && message.kind == Message::Kind::terminate) {
          co_await handle_terminate(*child);
          failure.reset();
        } else if (child != nullptr) {
          failure = co_await handle_request(*child, message.kind);
        }
        context_.host.post([reply = std::move(message.reply), failure] { reply(failure); });
        break;
      }
      case Message::Kind::add: {
        Failure failure =
            co_await handle_add(std::move(message.added_name), std::move(message.added));
        context_.host.post([reply = std::move(message.reply), failure] { reply(failure); });
        break;
      }
      case Message::Kind::reload: {
        shutdown_ = message.next_shutdown;
        ReloadFailures failures = co_await apply_reload(message.next);
        context_.host.post(
            [done = std::move(message.reloaded), failures = std::move(failures)]() mutable {
              done(std::move(failures));
            });
        break;
      }
    }
    if (phase_ == Phase::stopped) co_return;  // gave up
  }
  busy_ = false;
  if (stop_requested_) {
    busy_ = true;
    run_shutdown();
  }
}

Job Supervisor::run_shutdown() {
  phase_ = Phase::stopping;
  co_await stop_all("shutdown");
  for (auto& c : children_) c->record.state = ChildState::stopped;
  phase_ = Phase::stopped;
  busy_ = false;
  clear_mailbox();
  finish_stop();
}

void Supervisor::finish_stop() {
  kill_timer_.reset();
  record_stop(std::nullopt, "shutdown");
  emit({.kind = EventKind::stopped});
  for (auto& done : std::exchange(stop_waiters_, {})) {
    context_.host.post([done = std::move(done)] { done({}); });
  }
}

// --- steps --------------------------------------------------------------------

Step<Failure> Supervisor::start_child(Child& child) {
  begin_start(child);
  Failure failure =
      co_await until<Failure>([&child](Resume<Failure> resume) { child.start(std::move(resume)); });
  co_return end_start(child, std::move(failure));
}

void Supervisor::begin_start(Child& child) {
  child.record.state = ChildState::starting;
  child.record.restart_at.reset();
  ++child.record.incarnation;
  if (heard(EventKind::starting)) {
    Event starting{.kind = EventKind::starting};
    starting.path = child.path();
    context_.events.emit(starting);
  }
  child.record.started_at = context_.host.now();
}

// The start's outcome as the supervisor counts it.
Failure Supervisor::end_start(Child& child, Failure failure) {
  if (failure) {
    Event failed{.kind = EventKind::start_failed, .reason = *failure};
    failed.path = child.path();
    context_.events.emit(failed);
    if (held_.contains(child.name())) {
      // An operator stopped it while it was getting ready: not a failure.
      child.record.state = child.running() ? ChildState::stopping : ChildState::stopped;
      return std::nullopt;
    }
    child.record.state = ChildState::failed;
    return failure;
  }
  // It may have exited already; then its exit waits in the mailbox.
  if (child.record.state == ChildState::starting) child.record.state = ChildState::running;
  return std::nullopt;
}

Step<void> Supervisor::stop_child(Child& child, std::string why) {
  if (!child.running()) co_return;
  child.record.state = ChildState::stopping;
  co_await until<Done>([&child, &why](Resume<Done> resume) { child.stop(why, std::move(resume)); });
  record_stopped(child, why);
}

void Supervisor::record_stopped(Child& child, const std::string& why) {
  child.record.state = ChildState::stopped;
  // What `otpctl status` shows as the last exit: this stop and why it was
  // made, not an older crash.
  if (auto ended = child.take_stopped_with()) {
    child.record.last_exit = std::move(ended);
    child.record.last_exit->stopped_for = why;
  }
}

Step<void> Supervisor::stop_running(std::vector<Child*> in_stop_order, std::string why) {
  for (Child* child : in_stop_order) co_await stop_child(*child, why);
}

// A dynamic supervisor's children have no order among them: as OTP does,
// it asks them all to stop at once and waits for the last one, so that its
// stop takes as long as the slowest child rather than the sum of them all.
Step<void> Supervisor::stop_together(std::string why) {
  std::vector<Child*> running;  // asked newest first, like any stop
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
    if ((*it)->running()) running.push_back(it->get());
  }
  if (running.empty()) co_return;
  for (Child* child : running) child->record.state = ChildState::stopping;
  co_await until<Done>([this, &running, &why](Resume<Done> resume) {
    auto left = std::make_shared<std::size_t>(running.size());
    auto last_stopped = std::make_shared<Resume<Done>>(std::move(resume));
    auto asking = std::make_shared<bool>(true);
    auto one_stopped = [this, left, last_stopped, asking](Done) {
      if (--*left > 0) return;
      // until<> must be resumed from the loop, not while stops are asked.
      if (*asking) {
        context_.host.post([last_stopped] { (*last_stopped)(Done{}); });
      } else {
        (*last_stopped)(Done{});
      }
    };
    for (Child* child : running) child->stop(why, one_stopped);
    *asking = false;
  });
  for (Child* child : running) record_stopped(*child, why);
}

Step<void> Supervisor::stop_all(std::string why) {
  if (spec_->dynamic) {
    co_await stop_together(std::move(why));
    co_return;
  }
  std::vector<Child*> order;
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) order.push_back(it->get());
  co_await stop_running(std::move(order), std::move(why));
}

// The decision about `child`'s exit (`exit`), or about a new attempt at
// its failed start (none). Under one_for_one no sibling is concerned, and
// a dynamic supervisor of many children looks at none of the others.
RestartDecision Supervisor::decide(const Child& child, std::optional<config::ExitKind> exit) const {
  const auto now = context_.host.now();
  auto decide_over = [&](std::span<const ChildFacts> children) {
    return exit ? decide_exit(spec_->strategy, children, child.record.id, *exit, window_, now)
                : decide_retry(spec_->strategy, children, child.record.id, window_, now);
  };
  if (spec_->strategy == config::Strategy::one_for_one) {
    const ChildFacts alone = facts_of(child);
    return decide_over({&alone, 1});
  }
  std::vector<ChildFacts> all;
  all.reserve(children_.size());
  for (const auto& c : children_) all.push_back(facts_of(*c));
  return decide_over(all);
}

Step<void> Supervisor::handle_exit(Child& child, ChildExit reason) {
  const RestartDecision decision = decide(child, reason.kind);
  const bool significant = child.record.spec->significant;
  const bool transient = child.record.spec->restart == config::RestartType::transient;
  const std::string name(child.name());
  switch (decision.action) {
    case RestartDecision::Action::remove:
      remove(child,
             transient ? "transient child ended normally" : "temporary child is not restarted");
      // A dynamic supervisor's transient child that completed is just gone.
      if (significant && !transient) co_await significant_ended(name, reason);
      co_return;
    case RestartDecision::Action::keep_stopped:
      child.record.state = ChildState::stopped;
      if (significant) co_await significant_ended(name, reason);
      co_return;
    case RestartDecision::Action::restart:
    case RestartDecision::Action::give_up:
      break;
  }
  co_await restart(child, quoted(name) + " " + reason.text, decision);
}

Step<Failure> Supervisor::handle_request(Child& child, Message::Kind kind) {
  const std::string name(child.name());
  if (kind == Message::Kind::stop) {
    held_.insert(name);
    co_await stop_child(child, "stopped by operator");
    child.record.state = ChildState::stopped;
    co_return std::nullopt;
  }
  held_.erase(name);
  if (kind == Message::Kind::restart) co_await stop_child(child, "restarted by operator");
  if (child.running()) co_return std::nullopt;
  co_return co_await start_child(child);
}

// Checked when its turn comes, so that two adds of one name queued together
// cannot both pass.
Failure Supervisor::admit(const std::string& name) {
  // The name is the last part of the child's path.
  if (name.empty() || name.find('/') != std::string::npos) {
    return "supervisor " + path() + " cannot have a child named " + quoted(name);
  }
  if (find(name) != nullptr) {
    return "supervisor " + path() + " already has a child " + quoted(name);
  }
  if (spec_->max_children && static_cast<int>(children_.size()) >= *spec_->max_children) {
    return "supervisor " + path() + " already has max_children (" +
           std::to_string(*spec_->max_children) + ") children";
  }
  return std::nullopt;
}

// The request's spec becomes the child's own: no copy.
Supervisor::Child& Supervisor::adopt(const std::string& name,
                                     std::shared_ptr<const config::ChildSpec> owned) {
  std::unique_ptr<Node> child = make_child(name, *owned, owned);
  child->record.own_spec = std::move(owned);
  Child& added = *child;
  children_.push_back(std::move(child));
  added_by_name_.emplace(added.name(), &added);
  return added;
}

Step<Failure> Supervisor::handle_add(std::string name,
                                     std::shared_ptr<const config::ChildSpec> owned) {
  if (Failure refused = admit(name)) co_return refused;
  Child& added = adopt(name, std::move(owned));
  Failure failure = co_await start_child(added);
  // OTP's start_child returns the error and keeps nothing.
  if (failure) remove(added, "failed to start: " + *failure);
  co_return failure;
}

Step<void> Supervisor::handle_terminate(Child& child) {
  held_.erase(std::string(child.name()));
  co_await stop_child(child, "terminated by operator");
  remove(child, "terminated by operator");
}

// Carries out a decision to restart `failed` (or to give up), decided
// before the restart is counted.
Step<void> Supervisor::restart(Child& failed, std::string why, RestartDecision decision) {
  count_restart(failed);
  if (decision.action == RestartDecision::Action::give_up) {
    emit({.kind = EventKind::intensity_exceeded,
          .reason = "more than " + std::to_string(spec_->intensity) + " restarts in " +
                    config::format_duration(spec_->period) + " (last: " + why + ")"});
    co_await give_up();
    co_return;
  }

  if (!decision.stop.empty()) {
    std::vector<Child*> to_stop;
    for (std::uint64_t id : decision.stop) {
      if (Child* c = find(id)) to_stop.push_back(c);
    }
    co_await stop_running(std::move(to_stop), std::string(config::to_string(spec_->strategy)) +
                                                  " restart after " + why);
  }
  for (std::uint64_t id : decision.drop) {
    if (Child* c = find(id)) remove(*c, "temporary child is not restarted");
  }

  Duration delay{0};
  if (const auto& policy =
          failed.record.spec->backoff ? failed.record.spec->backoff : spec_->backoff) {
    delay =
        failed.record.backoff.next_delay(*policy, failed.record.started_at, context_.host.now());
  }
  if (delay.count() > 0) {
    failed.record.state = ChildState::backoff;
    failed.record.restart_at = context_.host.now() + delay;
  }
  emit_restarting(failed, why, delay);
  if (delay.count() > 0) co_await sleep(delay);

  for (std::uint64_t id : decision.start) {
    if (stop_requested_) co_return;
    Child* child = find(id);
    if (child == nullptr || child->running() || held_.contains(child->name())) {
      continue;
    }
    // A sibling brought back by one_for_all or rest_for_one was restarted
    // too (the failed child was counted above).
    if (child != &failed) ++child->record.restarts;
    const Failure failure = co_await start_child(*child);
    if (failure) {
      queue_retry(*child);
      co_return;
    }
  }
}

void Supervisor::count_restart(Child& child) {
  ++child.record.restarts;
  window_.add(context_.host.now());
}

void Supervisor::emit_restarting(const Child& child, const std::string& why, Duration delay) {
  Event restarting{.kind = EventKind::restarting, .reason = why};
  restarting.path = child.path();
  if (delay.count() > 0) restarting.delay = delay;
  context_.events.emit(restarting);
}

// OTP queues a new attempt at a failed start behind whatever else has
// arrived; it counts against the intensity like any restart.
void Supervisor::queue_retry(const Child& child) {
  mailbox_.push_back({.kind = Message::Kind::retry,
                      .child_id = child.record.id,
                      .incarnation = child.record.incarnation});
}

Step<ReloadFailures> Supervisor::apply_reload(std::shared_ptr<const config::SupervisorSpec> next) {
  const config::LevelDiff level = config::diff_level(*spec_, *next);
  auto listed = [](const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  // Every change to the children's bookkeeping happens here, before the
  // first suspension, so that whatever this job is interrupted by sees every
  // child pointing into the new spec. The old spec lives on, held here, for
  // the children that are leaving.
  const std::shared_ptr<const config::SupervisorSpec> old = std::exchange(spec_, std::move(next));
  window_.reconfigure(spec_->intensity, spec_->period);

  std::vector<std::unique_ptr<Node>> leaving;  // old start order
  for (auto& c : children_) {
    if (!listed(level.removed, c->name())) continue;
    by_id_.erase(c->record.id);  // an exit of it from now on is nobody's business
    held_.erase(std::string(c->name()));
    leaving.push_back(std::move(c));
  }
  std::erase(children_, nullptr);

  std::vector<std::unique_ptr<Node>> ordered;
  for (const config::ChildSpec& spec : spec_->children) {
    if (listed(level.added, spec.name)) {
      ordered.push_back(make_child(spec.name, spec, spec_));
      continue;
    }
    const auto found = std::find_if(children_.begin(), children_.end(),
                                    [&](const auto& c) { return c && c->name() == spec.name; });
    // A temporary child that ended was dropped from the tree; it stays so.
    if (found == children_.end()) continue;
    (*found)->record.spec = &spec;
    // Unchanged (or changed, and about to get a new node): either way the
    // old spec must not be needed once the leaving children are gone.
    if (!listed(level.changed, spec.name) && !listed(level.nested, spec.name)) {
      (*found)->respec(spec, spec_);
    }
    ordered.push_back(std::move(*found));
  }
  // Children added at run time are not in any file: a reload keeps them.
  for (auto& c : children_) {
    if (c && c->record.own_spec) ordered.push_back(std::move(c));
  }
  children_ = std::move(ordered);

  ReloadFailures failures;
  for (auto it = leaving.rbegin(); it != leaving.rend(); ++it) {
    Child& child = **it;
    co_await stop_child(child, "removed from the configuration");
    Event removed{.kind = EventKind::removed, .reason = "removed from the configuration"};
    removed.path = child.path();
    context_.events.emit(removed);
  }
  leaving.clear();

  // Then the children in their new order: each step at its place.
  std::vector<std::uint64_t> order;
  for (const auto& c : children_) order.push_back(c->record.id);
  for (std::uint64_t id : order) {
    if (stop_requested_) break;
    Child* child = find(id);
    if (child == nullptr) continue;
    const std::string name(child->name());  // the node goes if renewed
    bool start = false;
    if (listed(level.added, name)) {
      start = !held_.contains(name);
    } else if (listed(level.changed, name)) {
      const bool due = child->record.state != ChildState::stopped;
      co_await stop_child(*child, "changed in the configuration");
      child = renew(*child);
      child->record.state = ChildState::stopped;
      // A child an operator stopped, or a transient one that completed,
      // stays stopped with its new spec.
      start = due && !held_.contains(name);
    } else if (listed(level.nested, name)) {
      auto* below = dynamic_cast<Supervisor*>(child);
      ReloadFailures nested = co_await until<ReloadFailures>([&](Resume<ReloadFailures> resume) {
        below->reload(
            std::shared_ptr<const config::SupervisorSpec>(spec_, &child->record.spec->supervisor()),
            child->record.spec->shutdown, std::move(resume));
      });
      failures.insert(failures.end(), nested.begin(), nested.end());
    }
    if (!start || stop_requested_) continue;
    const Failure failure = co_await start_child(*child);
    if (failure) {
      failures.push_back({child->path(), *failure});
      // Like a failed start during a restart.
      queue_retry(*child);
    }
  }
  co_return failures;
}

Step<void> Supervisor::give_up() {
  phase_ = Phase::stopping;
  co_await stop_all("supervisor " + path() + " gives up");
  phase_ = Phase::stopped;
  busy_ = false;
  clear_mailbox();
  emit({.kind = EventKind::escalated, .reason = "reached maximum restart intensity"});
  if (stop_requested_) {
    finish_stop();
    co_return;
  }
  post_alive([this] {
    if (on_exit) {
      on_exit({ChildExit::Kind::shutdown, std::nullopt, "reached maximum restart intensity"});
    }
  });
}

// OTP's auto_shutdown: only a significant child's own end counts, never one
// the supervisor or an operator caused, and never one followed by a restart.
Step<void> Supervisor::significant_ended(const std::string& name, const ChildExit& reason) {
  const bool shut_down =
      spec_->auto_shutdown == config::AutoShutdown::any_significant ||
      (spec_->auto_shutdown == config::AutoShutdown::all_significant && !any_significant_active());
  if (!shut_down) co_return;
  std::string why = "significant child " + quoted(name) + " " + reason.text;
  if (spec_->auto_shutdown == config::AutoShutdown::all_significant) {
    why = "the last " + why;
  }
  co_await shut_down_automatically(std::move(why),
                                   reason.auto_shutdown ? reason.cause : reason.status);
}

bool Supervisor::any_significant_active() const {
  return std::any_of(children_.begin(), children_.end(), [](const auto& c) {
    return c->record.spec->significant && (c->running() || c->record.state != ChildState::stopped);
  });
}

Step<void> Supervisor::shut_down_automatically(std::string why, std::optional<ExitStatus> cause) {
  emit({.kind = EventKind::auto_shutdown, .reason = why});
  phase_ = Phase::stopping;
  co_await stop_all("auto_shutdown of " + path() + ": " + why);
  phase_ = Phase::stopped;
  busy_ = false;
  clear_mailbox();
  if (stop_requested_) {
    finish_stop();
    co_return;
  }
  post_alive([this, why = std::move(why), cause] {
    if (on_exit) {
      on_exit({.kind = ChildExit::Kind::shutdown,
               .text = "shut down automatically (" + why + ")",
               .auto_shutdown = true,
               .cause = cause});
    }
  });
}

Step<void> Supervisor::sleep(Duration delay) {
  co_await until<Done>([this, delay](Resume<Done> resume) {
    wake_ = std::move(resume);
    sleep_timer_ = context_.host.start_timer(delay, [this] { wake(); });
  });
  sleep_timer_.reset();
}

void Supervisor::wake() {
  if (auto resume = std::exchange(wake_, nullptr)) resume({});
}

}  // namespace otpd::supervise

#include "runtime/supervisor.hpp"

#include <algorithm>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include "runtime/scheduler.hpp"

namespace otpd::runtime {
namespace {

using Kind = SupervisorError::Kind;
using Action = RestartDecision::Action;

class StaticSupervisor final : public SupervisorCore {
 public:
  // `started`, when set, learns how init went (for a start from outside).
  using Started = std::function<void(const std::optional<ExitReason>&)>;

  StaticSupervisor(SupervisorFlags flags, std::vector<ChildSpec> specs, Started started)
      : SupervisorCore(flags.intensity, flags.period, std::move(flags.on_report), false),
        strategy_(flags.strategy),
        started_(std::move(started)) {
    children_.reserve(specs.size());
    for (ChildSpec& spec : specs) children_.push_back({next_id_++, std::move(spec), {}});
  }

  void start_child(ChildSpec spec, const Reply<Pid>& reply) {
    if (!spec.start || spec.name.empty()) {
      reply.fail(Kind::invalid_spec, "a child spec needs a name and a start function");
      return;
    }
    if (const Child* existing = find(spec.name)) {
      if (existing->pid) {
        reply.fail(Kind::already_started, spec.name + " is already started");
      } else {
        reply.fail(Kind::already_present, spec.name + " is already present");
      }
      return;
    }
    children_.push_back({next_id_++, std::move(spec), {}});
    if (auto failed = start(children_.back())) {
      const std::string name = children_.back().spec.name;
      children_.pop_back();
      reply.fail(Kind::start_failed, name + " failed to start: " + failed->text());
      return;
    }
    reply(children_.back().pid);
  }

  void terminate_child(const std::string& name, const Reply<void>& reply) {
    Child* child = find(name);
    if (child == nullptr) {
      reply.fail(Kind::not_found, "no child " + name);
      return;
    }
    if (!child->pid) {
      reply(std::monostate{});
      return;
    }
    stop_children({stop_of(*child)}, false, [this, id = child->id, reply] {
      if (Child* stopped = find(id)) {
        stopped->pid = {};
        if (stopped->spec.restart == RestartType::temporary) erase(id);
      }
      reply(std::monostate{});
    });
  }

  void restart_child(const std::string& name, const Reply<Pid>& reply) {
    Child* child = find(name);
    if (child == nullptr) {
      reply.fail(Kind::not_found, "no child " + name);
      return;
    }
    if (child->pid) {
      reply.fail(Kind::running, name + " is running");
      return;
    }
    if (auto failed = start(*child)) {
      reply.fail(Kind::start_failed, name + " failed to start: " + failed->text());
      return;
    }
    reply(child->pid);
  }

  void delete_child(const std::string& name, const Reply<void>& reply) {
    const Child* child = find(name);
    if (child == nullptr) {
      reply.fail(Kind::not_found, "no child " + name);
      return;
    }
    if (child->pid) {
      reply.fail(Kind::running, name + " is running");
      return;
    }
    erase(child->id);
    reply(std::monostate{});
  }

  std::vector<ChildInfo> which_children() const override {
    std::vector<ChildInfo> all;
    all.reserve(children_.size());
    for (const Child& child : children_)
      all.push_back({child.spec.name, child.pid, child.spec.type});
    return all;
  }

  ChildCounts count_children() const override {
    ChildCounts counts;
    for (const Child& child : children_) {
      ++counts.specs;
      if (child.pid) ++counts.active;
      ++(child.spec.type == ChildType::supervisor ? counts.supervisors : counts.workers);
    }
    return counts;
  }

 protected:
  void on_start() override {
    std::optional<ExitReason> failure;
    try {
      failure = start_all();
    } catch (const std::exception& e) {
      failure = ExitReason::error(e.what());
    }
    if (failure) finish(*failure);
    if (started_) std::exchange(started_, {})(failure);
  }

  void child_exited(const Pid& pid, const ExitReason& reason) override {
    const auto found = std::find_if(children_.begin(), children_.end(),
                                    [&](const Child& c) { return c.pid == pid; });
    if (found == children_.end()) return;  // not a child (any more): as OTP, ignored
    found->pid = {};
    const ChildSpec& spec = found->spec;
    if (spec.restart == RestartType::permanent || !reason.is_normal()) {
      report(SupervisorReport::Kind::child_terminated, spec.name, pid, reason);
    }
    carry_out(decide(strategy_, facts(), found->id, reason.exit_kind()), found->id, reason);
  }

 private:
  struct Child {
    std::uint64_t id;  // for the restart decision: names can be reused
    ChildSpec spec;
    Pid pid;  // empty: not running
  };

  Child* find(const std::string& name) {
    const auto found = std::find_if(children_.begin(), children_.end(),
                                    [&](const Child& c) { return c.spec.name == name; });
    return found == children_.end() ? nullptr : &*found;
  }

  Child* find(std::uint64_t id) {
    const auto found = std::find_if(children_.begin(), children_.end(),
                                    [&](const Child& c) { return c.id == id; });
    return found == children_.end() ? nullptr : &*found;
  }

  void erase(std::uint64_t id) {
    std::erase_if(children_, [&](const Child& c) { return c.id == id; });
  }

  std::vector<ChildFacts> facts() const {
    std::vector<ChildFacts> all;
    all.reserve(children_.size());
    for (const Child& c : children_) all.push_back({.id = c.id, .restart = c.spec.restart});
    return all;
  }

  static Stop stop_of(const Child& child) {
    return {child.pid, child.spec.shutdown_or_default(), child.spec.name,
            child.spec.restart == RestartType::permanent};
  }

  // The running children, last started first.
  std::vector<Stop> running_children() const override {
    std::vector<Stop> stops;
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
      if (it->pid) stops.push_back(stop_of(*it));
    }
    return stops;
  }

  std::optional<ExitReason> start(Child& child) {
    return run_start(child.spec.start, child.spec.name, child.pid);
  }

  std::optional<ExitReason> start_all() {
    for (std::size_t i = 0; i < children_.size(); ++i) {
      const ChildSpec& spec = children_[i].spec;
      std::optional<ExitReason> failed;
      if (!spec.start || spec.name.empty() ||
          std::any_of(children_.begin(), children_.begin() + static_cast<long>(i),
                      [&](const Child& c) { return c.spec.name == spec.name; })) {
        failed = ExitReason::error("invalid child spec (a unique name and a start function)");
      } else {
        failed = start(children_[i]);
      }
      if (!failed) continue;
      report(SupervisorReport::Kind::start_error, spec.name, {}, *failed);
      // As OTP's supervisor does, the children already started are stopped,
      // last first, and have ended before the start reports its failure.
      std::vector<Stop> started;
      for (std::size_t j = i; j > 0; --j) {
        if (children_[j - 1].pid) started.push_back(stop_of(children_[j - 1]));
      }
      stop_before_returning(started);
      return ExitReason::shutdown("failed_to_start_child " + spec.name + ": " + failed->text());
    }
    return std::nullopt;
  }

  // Carries out the decision about child `failed`: stops the siblings in
  // its order, forgets the temporary ones among them, and starts the rest.
  void carry_out(const RestartDecision& decision, std::uint64_t failed, const ExitReason& reason) {
    switch (decision.action) {
      case Action::remove:
        erase(failed);
        return;
      case Action::keep_stopped:
        return;
      case Action::give_up:
        give_up(find(failed) != nullptr ? find(failed)->spec.name : std::string(), reason);
        return;
      case Action::restart:
        break;
    }
    std::vector<Stop> stops;
    for (std::uint64_t id : decision.stop) {
      if (const Child* sibling = find(id); sibling != nullptr && sibling->pid) {
        stops.push_back(stop_of(*sibling));
      }
    }
    stop_children(std::move(stops), false, [this, decision] {
      for (std::uint64_t id : decision.stop) {
        if (Child* sibling = find(id)) sibling->pid = {};
      }
      for (std::uint64_t id : decision.drop) erase(id);
      start_in_order(decision.start);
    });
  }

  // Starts the stopped children among `ids` in that order; a failure is
  // tried again as another restart (OTP's try_again_restart).
  void start_in_order(const ChildIds& ids) {
    for (std::uint64_t id : ids) {
      Child* child = find(id);
      if (child == nullptr || child->pid) continue;
      if (auto failed = start(*child)) {
        report(SupervisorReport::Kind::start_error, child->spec.name, {}, *failed);
        later([this, id, reason = *failed] {
          const Child* again = find(id);
          if (again != nullptr && !again->pid) {
            carry_out(decide(strategy_, facts(), id, std::nullopt), id, reason);
          }
        });
        return;
      }
    }
  }

  Strategy strategy_;
  Started started_;
  std::vector<Child> children_;  // in start order
  std::uint64_t next_id_ = 1;
};

template <typename R, typename Handle>
Request<R> ask(const Pid& supervisor, Handle handle) {
  return SupervisorCore::request<R, StaticSupervisor>(supervisor, std::move(handle));
}

}  // namespace

Supervisor Supervisor::start_link(SupervisorFlags flags, std::vector<ChildSpec> children) {
  return Supervisor(
      runtime::start_link<StaticSupervisor>(std::move(flags), std::move(children), nullptr).pid());
}

Supervisor Supervisor::start(Scheduler& scheduler, SupervisorFlags flags,
                             std::vector<ChildSpec> children) {
  if (Scheduler::current_worker() != nullptr) {
    throw std::logic_error("Supervisor::start on a runtime thread: use Supervisor::start_link");
  }
  auto outcome = std::make_shared<std::promise<std::optional<ExitReason>>>();
  auto started = outcome->get_future();
  auto* supervisor = new StaticSupervisor(
      std::move(flags), std::move(children),
      [outcome](const std::optional<ExitReason>& failure) { outcome->set_value(failure); });
  Supervisor handle(supervisor->self());
  scheduler.start(*supervisor);
  if (auto failed = started.get()) throw StartError(std::move(*failed));
  return handle;
}

ChildSpec Supervisor::child_spec(std::string name, SupervisorFlags flags,
                                 std::vector<ChildSpec> children) {
  return {.name = std::move(name),
          .start =
              [flags = std::move(flags), children = std::move(children)] {
                return Supervisor::start_link(flags, children).pid();
              },
          .type = ChildType::supervisor};
}

Request<Pid> Supervisor::start_child(ChildSpec spec) const {
  return ask<Pid>(pid_, [spec = std::move(spec)](StaticSupervisor& s, const Reply<Pid>& reply) {
    s.start_child(spec, reply);
  });
}

Request<void> Supervisor::terminate_child(std::string name) const {
  return ask<void>(pid_, [name = std::move(name)](StaticSupervisor& s, const Reply<void>& reply) {
    s.terminate_child(name, reply);
  });
}

Request<Pid> Supervisor::restart_child(std::string name) const {
  return ask<Pid>(pid_, [name = std::move(name)](StaticSupervisor& s, const Reply<Pid>& reply) {
    s.restart_child(name, reply);
  });
}

Request<void> Supervisor::delete_child(std::string name) const {
  return ask<void>(pid_, [name = std::move(name)](StaticSupervisor& s, const Reply<void>& reply) {
    s.delete_child(name, reply);
  });
}

}  // namespace otpd::runtime

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

class StaticSupervisor final : public SupervisorCore {
 public:
  // `started`, when set, learns how init went (for a start from outside).
  using Started = std::function<void(const std::optional<ExitReason>&)>;

  StaticSupervisor(SupervisorFlags flags, std::vector<ChildSpec> specs, Started started)
      : SupervisorCore(flags.intensity, flags.period, std::move(flags.on_report)),
        strategy_(flags.strategy),
        started_(std::move(started)) {
    children_.reserve(specs.size());
    for (ChildSpec& spec : specs) children_.push_back({std::move(spec), {}});
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
    children_.push_back({std::move(spec), {}});
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
    stop_children({stop_of(*child)}, false, [this, name, reply] {
      if (Child* stopped = find(name)) {
        stopped->pid = {};
        if (stopped->spec.restart == Restart::temporary) erase(name);
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
    erase(name);
    reply(std::monostate{});
  }

  std::vector<ChildInfo> which_children() const {
    std::vector<ChildInfo> all;
    all.reserve(children_.size());
    for (const Child& child : children_)
      all.push_back({child.spec.name, child.pid, child.spec.type});
    return all;
  }

  ChildCounts count_children() const {
    ChildCounts counts;
    for (const Child& child : children_) {
      ++counts.specs;
      if (child.pid) ++counts.active;
      ++(child.spec.type == ChildType::supervisor ? counts.supervisors : counts.workers);
    }
    return counts;
  }

  void stop(ExitReason reason, const Reply<void>& reply) {
    stop_children(stops_in_reverse(0), false, [this, reason, reply] {
      reply(std::monostate{});
      finish(reason);
    });
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

  void shut_down(ExitReason reason) override {
    stop_children(stops_in_reverse(0), false, [this, reason] { finish(reason); });
  }

  void child_exited(const Pid& pid, const ExitReason& reason) override {
    const auto found = std::find_if(children_.begin(), children_.end(),
                                    [&](const Child& c) { return c.pid == pid; });
    if (found == children_.end()) return;  // not a child (any more): as OTP, ignored
    found->pid = {};
    const ChildSpec& spec = found->spec;
    if (spec.restart == Restart::permanent || !reason.is_normal()) {
      report(SupervisorReport::Kind::child_terminated, spec.name, pid, reason);
    }
    if (spec.restart == Restart::temporary) {
      erase(spec.name);
      return;
    }
    if (spec.restart == Restart::transient && reason.is_normal()) return;
    restart(spec.name, reason);
  }

 private:
  struct Child {
    ChildSpec spec;
    Pid pid;  // empty: not running
  };

  Child* find(const std::string& name) {
    const auto found = std::find_if(children_.begin(), children_.end(),
                                    [&](const Child& c) { return c.spec.name == name; });
    return found == children_.end() ? nullptr : &*found;
  }

  void erase(const std::string& name) {
    std::erase_if(children_, [&](const Child& c) { return c.spec.name == name; });
  }

  std::size_t index_of(const std::string& name) const {
    const auto found = std::find_if(children_.begin(), children_.end(),
                                    [&](const Child& c) { return c.spec.name == name; });
    return static_cast<std::size_t>(found - children_.begin());
  }

  static Stop stop_of(const Child& child) {
    return {child.pid, child.spec.shutdown_or_default(), child.spec.name,
            child.spec.restart == Restart::permanent};
  }

  // The running children from `first` on, last started first.
  std::vector<Stop> stops_in_reverse(std::size_t first) const {
    std::vector<Stop> stops;
    for (std::size_t i = children_.size(); i > first; --i) {
      if (children_[i - 1].pid) stops.push_back(stop_of(children_[i - 1]));
    }
    return stops;
  }

  // The child's start function, in this handler; its failure, if any.
  std::optional<ExitReason> start(Child& child) {
    try {
      child.pid = child.spec.start();
    } catch (const StartError& e) {
      return e.reason();
    } catch (const std::exception& e) {
      return ExitReason::error(e.what());
    }
    if (child.pid)
      report(SupervisorReport::Kind::started, child.spec.name, child.pid, ExitReason::normal());
    return std::nullopt;
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
      // Init cannot wait for them (it runs on the starter's thread): the
      // children already started are told to stop, last first, and end
      // as they get to it.
      for (std::size_t j = i; j > 0; --j) {
        if (children_[j - 1].pid) exit_signal(children_[j - 1].pid, ExitReason::shutdown(), self());
      }
      return ExitReason::shutdown("failed_to_start_child " + spec.name + ": " + failed->text());
    }
    return std::nullopt;
  }

  void restart(const std::string& name, const ExitReason& reason) {
    if (!may_restart()) {
      give_up(name, reason);
      return;
    }
    const std::size_t index = index_of(name);
    if (strategy_ == Strategy::one_for_one) {
      start_from(index, index + 1);
      return;
    }
    const std::size_t first = strategy_ == Strategy::one_for_all ? 0 : index;
    std::vector<Stop> stops = stops_in_reverse(first);
    // Temporary children stopped for a sibling are not started again.
    std::erase_if(children_, [&](const Child& c) {
      return c.pid && c.spec.restart == Restart::temporary &&
             static_cast<std::size_t>(&c - children_.data()) >= first;
    });
    stop_children(std::move(stops), false, [this, name, first] {
      for (std::size_t i = first; i < children_.size(); ++i) children_[i].pid = {};
      start_from(first, children_.size());
    });
  }

  // Starts the stopped children in [first, end) in order; a failure is
  // retried as another restart (OTP's try_again_restart).
  void start_from(std::size_t first, std::size_t end) {
    for (std::size_t i = first; i < end && i < children_.size(); ++i) {
      Child& child = children_[i];
      if (child.pid) continue;
      if (auto failed = start(child)) {
        report(SupervisorReport::Kind::start_error, child.spec.name, {}, *failed);
        later([this, name = child.spec.name, reason = *failed] {
          const Child* again = find(name);
          if (again != nullptr && !again->pid) restart(name, reason);
        });
        return;
      }
    }
  }

  Strategy strategy_;
  Started started_;
  std::vector<Child> children_;  // in start order
};

template <typename R, typename Handle>
Request<R> ask(const Pid& supervisor, Handle handle) {
  return SupervisorCore::request<R, StaticSupervisor>(supervisor, std::move(handle));
}

}  // namespace

Supervisor Supervisor::start_link(SupervisorFlags flags, std::vector<ChildSpec> children) {
  Process* const parent = Process::current();
  if (parent == nullptr) {
    throw std::logic_error("Supervisor::start_link outside a process: use Supervisor::start");
  }
  auto* supervisor = new StaticSupervisor(std::move(flags), std::move(children), {});
  Supervisor handle(supervisor->self());
  if (auto failed = parent->scheduler().start_link(*supervisor)) {
    throw StartError(std::move(*failed));
  }
  return handle;
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

Request<std::vector<ChildInfo>> Supervisor::which_children() const {
  return ask<std::vector<ChildInfo>>(
      pid_, [](StaticSupervisor& s, const Reply<std::vector<ChildInfo>>& reply) {
        reply(s.which_children());
      });
}

Request<ChildCounts> Supervisor::count_children() const {
  return ask<ChildCounts>(pid_, [](StaticSupervisor& s, const Reply<ChildCounts>& reply) {
    reply(s.count_children());
  });
}

Request<void> Supervisor::stop(ExitReason reason) const {
  return ask<void>(pid_,
                   [reason = std::move(reason)](StaticSupervisor& s, const Reply<void>& reply) {
                     s.stop(reason, reply);
                   });
}

}  // namespace otpd::runtime

#include "runtime/dynamic_supervisor.hpp"

#include <future>
#include <memory>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "runtime/scheduler.hpp"

namespace otpd::runtime {
namespace {

using Kind = SupervisorError::Kind;

class DynamicSupervisorProcess final : public SupervisorCore {
 public:
  using Started = std::function<void()>;

  DynamicSupervisorProcess(DynamicSupervisorOptions options, Started started)
      : SupervisorCore(options.max_restarts, options.max_seconds, std::move(options.on_report),
                       true),
        max_children_(options.max_children),
        started_(std::move(started)) {}

  void start_child(ChildSpec spec, const Reply<Pid>& reply) {
    if (!spec.start) {
      reply.fail(Kind::invalid_spec, "a child spec needs a start function");
      return;
    }
    if (max_children_ && children_.size() >= *max_children_) {
      reply.fail(Kind::max_children,
                 "max_children reached (" + std::to_string(*max_children_) + " running)");
      return;
    }
    Child child{std::move(spec.start), spec.shutdown_or_default(), spec.restart, spec.type};
    Pid pid;
    if (auto failed = run_start(child.start, {}, pid)) {
      reply.fail(Kind::start_failed, "the child failed to start: " + failed->text());
      return;
    }
    if (pid) children_.emplace(pid, std::move(child));
    reply(std::move(pid));
  }

  void terminate_child(const Pid& pid, const Reply<void>& reply) {
    const auto found = children_.find(pid);
    if (found == children_.end()) {
      reply.fail(Kind::not_found, "not a child of this supervisor");
      return;
    }
    stop_children({stop_of(*found)}, false, [this, pid, reply] {
      children_.erase(pid);
      reply(std::monostate{});
    });
  }

  std::vector<ChildInfo> which_children() const override {
    std::vector<ChildInfo> all;
    all.reserve(children_.size());
    for (const auto& [pid, child] : children_) all.push_back({{}, pid, child.type});
    return all;
  }

  ChildCounts count_children() const override {
    ChildCounts counts;
    counts.specs = counts.active = children_.size();
    for (const auto& entry : children_) {
      ++(entry.second.type == ChildType::supervisor ? counts.supervisors : counts.workers);
    }
    return counts;
  }

 protected:
  void on_start() override {
    if (started_) std::exchange(started_, {})();
  }

  void child_exited(const Pid& pid, const ExitReason& reason) override {
    const auto found = children_.find(pid);
    if (found == children_.end()) return;
    Child child = std::move(found->second);
    children_.erase(found);
    if (child.restart == RestartType::permanent || !reason.is_normal()) {
      report(SupervisorReport::Kind::child_terminated, {}, pid, reason);
    }
    carry_out(std::move(child), reason, reason.exit_kind());
  }

 private:
  // What a restart needs; no name: a dynamic child is known by its Pid.
  struct Child {
    StartFunction start;
    Shutdown shutdown;
    RestartType restart = RestartType::permanent;
    ChildType type = ChildType::worker;
  };
  struct PidHash {
    std::size_t operator()(const Pid& pid) const { return std::hash<const void*>{}(pid.get()); }
  };

  // The decision core's answer for a child that ended (`exit`) or failed to
  // start again (none), carried out: one_for_one, and a child that ends
  // for good is forgotten.
  void carry_out(Child child, const ExitReason& reason, std::optional<config::ExitKind> exit) {
    const ChildFacts facts{.restart = child.restart, .dynamic = true};
    const RestartDecision decision = decide(Strategy::one_for_one, {&facts, 1}, facts.id, exit);
    if (decision.action == RestartDecision::Action::give_up) give_up({}, reason);
    if (decision.action != RestartDecision::Action::restart) return;
    Pid pid;
    if (auto failed = run_start(child.start, {}, pid)) {
      report(SupervisorReport::Kind::start_error, {}, {}, *failed);
      // Tried again as another restart, as Elixir's DynamicSupervisor does.
      auto retry = std::make_shared<Child>(std::move(child));
      later(
          [this, retry, reason = *failed] { carry_out(std::move(*retry), reason, std::nullopt); });
      return;
    }
    if (pid) children_.emplace(pid, std::move(child));
  }

  static Stop stop_of(const std::pair<const Pid, Child>& entry) {
    return {entry.first, entry.second.shutdown, {}, entry.second.restart == RestartType::permanent};
  }

  std::vector<Stop> running_children() const override {
    std::vector<Stop> stops;
    stops.reserve(children_.size());
    for (const auto& entry : children_) stops.push_back(stop_of(entry));
    return stops;
  }

  std::optional<std::size_t> max_children_;
  Started started_;
  std::unordered_map<Pid, Child, PidHash> children_;
};

template <typename R, typename Handle>
Request<R> ask(const Pid& supervisor, Handle handle) {
  return SupervisorCore::request<R, DynamicSupervisorProcess>(supervisor, std::move(handle));
}

}  // namespace

DynamicSupervisor DynamicSupervisor::start_link(DynamicSupervisorOptions options) {
  return DynamicSupervisor(
      runtime::start_link<DynamicSupervisorProcess>(std::move(options), nullptr).pid());
}

DynamicSupervisor DynamicSupervisor::start(Scheduler& scheduler, DynamicSupervisorOptions options) {
  if (Scheduler::current_worker() != nullptr) {
    throw std::logic_error(
        "DynamicSupervisor::start on a runtime thread: use DynamicSupervisor::start_link");
  }
  auto started = std::make_shared<std::promise<void>>();
  auto ready = started->get_future();
  auto* supervisor =
      new DynamicSupervisorProcess(std::move(options), [started] { started->set_value(); });
  DynamicSupervisor handle(supervisor->self());
  scheduler.start(*supervisor);
  ready.get();
  return handle;
}

ChildSpec DynamicSupervisor::child_spec(std::string name, DynamicSupervisorOptions options) {
  return {.name = std::move(name),
          .start = [options = std::move(
                        options)] { return DynamicSupervisor::start_link(options).pid(); },
          .type = ChildType::supervisor};
}

Request<Pid> DynamicSupervisor::start_child(ChildSpec spec) const {
  return ask<Pid>(pid_,
                  [spec = std::move(spec)](DynamicSupervisorProcess& s, const Reply<Pid>& reply) {
                    s.start_child(spec, reply);
                  });
}

Request<void> DynamicSupervisor::terminate_child(Pid child) const {
  return ask<void>(
      pid_, [child = std::move(child)](DynamicSupervisorProcess& s, const Reply<void>& reply) {
        s.terminate_child(child, reply);
      });
}

}  // namespace otpd::runtime

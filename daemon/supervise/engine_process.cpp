#include "supervise/engine_process.hpp"

#include <exception>
#include <utility>

#include "runtime/child_spec.hpp"

namespace otpd::supervise {

namespace {
constexpr std::size_t kSpareRoutes = 8;
}  // namespace

config::ChildSpec code_child(std::string name, config::RestartType restart) {
  config::ChildSpec child;
  child.name = std::move(name);
  child.restart = restart;
  child.body = config::Boxed<config::WorkerSpec>();  // never written: reads as the default
  return child;
}

EngineProcess::EngineProcess(config::SupervisorSpec spec,
                             std::unordered_map<std::string, CodeStart> starts, EventSink& events)
    : host_(*this),
      context_{host_, no_processes_, *this, this},
      spec_(std::make_shared<const config::SupervisorSpec>(std::move(spec))),
      starts_(std::move(starts)),
      events_(events) {}

void EngineProcess::emit(const Event& event) {
  if (event.kind == EventKind::removed) starts_.erase(event.path);
  if (events_.hears(event.kind)) events_.emit(event);
}

// Its own bookkeeping hears of every removal.
bool EngineProcess::hears(EventKind kind) const {
  return kind == EventKind::removed || events_.hears(kind);
}

void EngineProcess::on_start() {
  trap_exits(true);
  root_ = std::make_unique<Supervisor>(context_, "/", spec_, config::Shutdown::infinity());
  root_->on_exit = [this](ChildExit exit) {
    // It gave up (intensity) or shut down by itself (auto_shutdown): its
    // children are stopped already.
    this->exit(runtime::ExitReason::shutdown(exit.text));
  };
  root_->start([this](Failure failure) {
    if (failure) this->exit(runtime::ExitReason::shutdown(*failure));
  });
}

void EngineProcess::add_child(std::string name, CodeStart start, Resume<Failure> done,
                              config::RestartType restart) {
  // Kept only if the child is: a refused or failed one leaves nothing.
  const bool added = starts_.try_emplace(name, std::move(start)).second;
  root_->add_child(name, shape_of(restart),
                   [this, name, added, done = std::move(done)](Failure failure) {
                     if (failure && added) starts_.erase(name);
                     done(std::move(failure));
                   });
}

// One spec for all the run-time children of a restart type: a spec is
// bigger than the rest of what the engine keeps of such a child.
const std::shared_ptr<const config::ChildSpec>& EngineProcess::shape_of(
    config::RestartType restart) {
  auto& shape = shapes_[static_cast<std::size_t>(restart)];
  if (!shape) shape = std::make_shared<const config::ChildSpec>(code_child("", restart));
  return shape;
}

WorkerStart EngineProcess::start(const std::string& path, const config::WorkerSpec&,
                                 std::function<void(runtime::ExitReason)> ended) {
  const auto code = starts_.find(path);
  if (code == starts_.end()) return {.failure = "no start function for " + path};
  runtime::Pid pid;
  try {
    pid = code->second();
  } catch (const runtime::StartError& error) {
    return {.failure = error.reason().text()};
  } catch (const std::exception& error) {
    return {.failure = error.what()};
  } catch (...) {
    return {.failure = "its start function threw something that is not an exception"};
  }
  if (!pid) return {.failure = "its start function started nothing"};
  // A start function that forgot start_link must not leave its child
  // unsupervised: its end would never come. (A no-op for a linked one.)
  link(pid);
  route_end(pid.get(), std::move(ended));
  return {.pid = std::move(pid)};
}

void EngineProcess::route_end(const runtime::Process* child,
                              std::function<void(runtime::ExitReason)> ended) {
  if (spare_routes_.empty()) {
    ended_.insert_or_assign(child, std::move(ended));
    return;
  }
  Routes::node_type route = std::move(spare_routes_.back());
  spare_routes_.pop_back();
  route.key() = child;
  route.mapped() = std::move(ended);
  if (auto placed = ended_.insert(std::move(route)); !placed.inserted) {
    placed.position->second = std::move(placed.node.mapped());
  }
}

void EngineProcess::on_exit_message(const runtime::Pid& from, const runtime::ExitReason& reason) {
  if (const auto child = ended_.find(from.get()); child != ended_.end()) {
    Routes::node_type route = ended_.extract(child);
    auto ended = std::move(route.mapped());
    if (spare_routes_.size() < kSpareRoutes) spare_routes_.push_back(std::move(route));
    ended(reason);
    return;
  }
  // OTP: a supervisor whose parent ends stops its children and ends too.
  if (from == parent()) shut_down(reason);
}

void EngineProcess::shut_down_soon(runtime::ExitReason reason) {
  host_.post([this, reason = std::move(reason)] { shut_down(reason); });
}

void EngineProcess::shut_down(runtime::ExitReason reason) {
  if (shutting_down_ || !root_) return;
  shutting_down_ = true;
  root_->stop("its supervisor is shutting down",
              [this, reason = std::move(reason)](Done) { exit(reason); });
}

void EngineProcess::on_ended(const runtime::ExitReason& reason) {
  // A kill ends it without a stop: the nodes' destructors kill what runs.
  root_.reset();
  ended_.clear();
  runtime::Process::on_ended(reason);
}

}  // namespace otpd::supervise

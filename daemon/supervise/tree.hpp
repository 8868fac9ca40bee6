// The whole supervision tree of one config: the root supervisor and the
// services its nodes share.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config/spec.hpp"
#include "supervise/supervisor.hpp"

namespace otpd::supervise {

class Tree {
 public:
  Tree(Host& host, ProcessControl& processes, EventSink& events, const config::Config& config);

  // `done` gets an empty string once every child has started, or the reason
  // the tree could not start (then nothing of it runs).
  void start(Resume<std::string> done);
  // Stops every child in reverse start order with its shutdown policy.
  void stop(Resume<Done> done);
  // Kills every process of the tree at once.
  void kill();
  bool running() const { return root_->running(); }

  // Called when the root supervisor gives up after too many restarts; by
  // then every child has been stopped.
  std::function<void(const ExitReason&)> on_gave_up;

  Supervisor& root() { return *root_; }

 private:
  Context context_;
  std::unique_ptr<Supervisor> root_;
};

}  // namespace otpd::supervise

#include "supervise/tree.hpp"

namespace otpd::supervise {

Tree::Tree(Host& host, ProcessControl& processes, EventSink& events, const config::Config& config)
    : context_{host, processes, events},
      root_(
          std::make_unique<Supervisor>(context_, "/", config.tree, config::Shutdown::infinity())) {
  root_->on_exit = [this](ExitReason reason) {
    if (on_gave_up) on_gave_up(reason);
  };
}

void Tree::start(Resume<std::string> done) {
  root_->start(std::move(done));
}

void Tree::stop(Resume<Done> done) {
  root_->stop("shutdown", std::move(done));
}

void Tree::kill() {
  root_->kill();
}

}  // namespace otpd::supervise

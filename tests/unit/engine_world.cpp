#include "engine_world.hpp"

namespace otpd::test {

config::ChildSpec process_child(const std::string& name, config::RestartType restart,
                                config::Shutdown shutdown) {
  config::ChildSpec c;
  c.name = name;
  c.restart = restart;
  c.shutdown = shutdown;
  config::ProcessSpec p;
  p.argv = {name};
  c.body = p;
  return c;
}

config::SupervisorSpec supervisor_spec(config::Strategy strategy,
                                       std::vector<config::ChildSpec> children, int intensity,
                                       config::Duration period) {
  config::SupervisorSpec s;
  s.strategy = strategy;
  s.intensity = intensity;
  s.period = period;
  s.children = std::move(children);
  return s;
}

config::ChildSpec supervisor_child(const std::string& name, config::SupervisorSpec spec,
                                   config::RestartType restart) {
  config::ChildSpec c;
  c.name = name;
  c.restart = restart;
  c.shutdown = config::Shutdown::infinity();
  c.body = std::move(spec);
  return c;
}

config::Config config_of(config::SupervisorSpec tree) {
  config::Config config;
  config.file = "test.yaml";
  config.tree = std::move(tree);
  return config;
}

EngineWorld::EngineWorld(config::SupervisorSpec root, supervise::WorkerStarter* workers) {
  tree = std::make_unique<supervise::Tree>(host, procs, sink, config_of(std::move(root)), workers);
  tree->on_exit = [this](const supervise::ChildExit& r) { gave_up = r; };
}

EngineWorld::~EngineWorld() {
  if (!tree->running()) return;
  shutdown();
  for (int i = 0; i < 100 && !stopped; ++i) host.advance(std::chrono::seconds(1));
}

EngineWorld& EngineWorld::boot() {
  tree->start(start_result.keep());
  host.run();
  return *this;
}

void EngineWorld::shutdown() {
  tree->stop([this](supervise::Done) { stopped = true; });
  host.run();
}

const supervise::Event* EngineWorld::last(supervise::EventKind kind,
                                          const std::string& path) const {
  for (auto it = sink.events.rbegin(); it != sink.events.rend(); ++it) {
    if (it->kind == kind && it->path == path) return &*it;
  }
  return nullptr;
}

}  // namespace otpd::test

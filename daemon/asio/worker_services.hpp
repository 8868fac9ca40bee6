// The loop's side of what in-process workers ask for (workers/loop_services.hpp),
// on the daemon's io_context: commands through ProcessControl (so that the
// reaper reaps them), TCP and HTTP probes on Asio, events to the tree's sink.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "supervise/host.hpp"
#include "workers/loop_services.hpp"

namespace boost::asio {
class io_context;
}

namespace otpd::supervise {
class Tree;
}

namespace otpd::on_asio {

class PathWatch;

class WorkerServices final : public workers::LoopServices {
 public:
  WorkerServices(boost::asio::io_context& io, supervise::Host& host,
                 supervise::ProcessControl& processes, supervise::EventSink& events);
  // Closes the descriptors of the watches still open.
  ~WorkerServices() override;
  WorkerServices(const WorkerServices&) = delete;
  WorkerServices& operator=(const WorkerServices&) = delete;

  workers::CommandId start_command(const std::string& path, const config::ProcessSpec& spec,
                                   std::optional<supervise::Duration> timeout,
                                   std::function<void(int pid)> started,
                                   std::function<void(workers::CommandOutcome)> ended) override;
  void kill_command(workers::CommandId id) override;
  void connect(const std::string& host, int port, supervise::Duration timeout,
               std::function<void(workers::ProbeResult)> done) override;
  void http_get(const std::string& host, int port, const std::string& target,
                supervise::Duration timeout,
                std::function<void(workers::ProbeResult)> done) override;
  void emit(supervise::Event event) override;
  void kill_process(const std::string& path) override;
  workers::WatchId watch_paths(const std::vector<config::FileWatchSettings::Path>& paths,
                               const std::vector<std::string>& ignore,
                               std::function<void(workers::PathChanges)> changed) override;
  void stop_watching(workers::WatchId id) override;
  void restart_child(const std::string& path,
                     std::function<void(workers::ActionResult)> done) override;
  void signal_child(const std::string& path, int signo,
                    std::function<void(workers::ActionResult)> done) override;

  // The tree that kill_process, restart_child and signal_child act on, once
  // it exists; until then the kill does nothing and the others report that
  // there is none.
  void act_on(supervise::Tree* tree) { tree_ = tree; }

 private:
  boost::asio::io_context& io_;
  supervise::Host& host_;
  supervise::ProcessControl& processes_;
  supervise::EventSink& events_;
  struct RunningCommand;
  std::atomic<workers::CommandId> next_command_{1};
  // Commands started and not yet reaped; only the loop touches it.
  std::unordered_map<workers::CommandId, std::shared_ptr<RunningCommand>> commands_;
  supervise::Tree* tree_ = nullptr;
  std::atomic<workers::WatchId> next_watch_{1};
  std::map<workers::WatchId, std::shared_ptr<PathWatch>> watches_;  // on the loop only
};

}  // namespace otpd::on_asio

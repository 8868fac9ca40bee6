// The loop's side of what in-process workers ask for (workers/loop_services.hpp),
// on the daemon's io_context: commands through ProcessControl (so that the
// reaper reaps them), TCP and HTTP probes on Asio, events to the tree's sink.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "supervise/host.hpp"
#include "workers/loop_services.hpp"

namespace boost::asio {
class io_context;
}

namespace otpd::loop {

class WorkerServices final : public workers::LoopServices {
 public:
  // `kill_process(path)` sends SIGKILL to the process child at `path`.
  WorkerServices(boost::asio::io_context& io, supervise::Host& host,
                 supervise::ProcessControl& processes, supervise::EventSink& events,
                 std::function<void(const std::string&)> kill_process);

  void run_command(const std::string& path, const config::ProcessSpec& spec,
                   supervise::Duration timeout,
                   std::function<void(workers::ProbeResult)> done) override;
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

 private:
  boost::asio::io_context& io_;
  supervise::Host& host_;
  supervise::ProcessControl& processes_;
  supervise::EventSink& events_;
  std::function<void(const std::string&)> kill_process_;
  struct RunningCommand;
  std::atomic<workers::CommandId> next_command_{1};
  // Commands started and not yet reaped; only the loop touches it.
  std::unordered_map<workers::CommandId, std::shared_ptr<RunningCommand>> commands_;
};

}  // namespace otpd::loop

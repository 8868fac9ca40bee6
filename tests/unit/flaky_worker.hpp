// For engine tests with in-process workers: a worker that throws when told
// to, and a WorkerStarter that starts one for every worker child.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include "runtime/gen_server.hpp"
#include "runtime/scheduler.hpp"
#include "supervise/worker_starter.hpp"

namespace otpd::test {

// Tells its starter how it ended from on_ended, as otpd's workers do, since
// an exit signal (the tree's `shutdown`, `killed`) ends a gen_server
// without its terminate.
class Flaky : public runtime::GenServer<Flaky> {
 public:
  explicit Flaky(std::function<void(runtime::ExitReason)> ended) : ended_(std::move(ended)) {}
  void crash() { throw std::runtime_error("boom"); }
  void on_ended(const runtime::ExitReason& reason) override { ended_(reason); }

 private:
  std::function<void(runtime::ExitReason)> ended_;
};

// Starts a Flaky for every worker child, on `scheduler`, and finds it by
// its path.
class FlakyStarter final : public supervise::WorkerStarter {
 public:
  explicit FlakyStarter(runtime::Scheduler& scheduler) : scheduler_(scheduler) {}
  supervise::WorkerStart start(const std::string& path, const config::WorkerSpec&,
                               std::function<void(runtime::ExitReason)> ended) override {
    auto server = runtime::start<Flaky>(scheduler_, std::move(ended));
    std::lock_guard lock(mutex_);
    running_[path] = server;
    return {.pid = server.pid()};
  }
  void crash(const std::string& path) {
    std::lock_guard lock(mutex_);
    running_.at(path).cast(&Flaky::crash);
  }
  // Ends the worker at `path` by itself (gen_server:stop), with `reason`.
  void stop(const std::string& path, runtime::ExitReason reason) {
    std::lock_guard lock(mutex_);
    running_.at(path).stop(std::move(reason));
  }

 private:
  runtime::Scheduler& scheduler_;
  std::mutex mutex_;
  std::map<std::string, runtime::Server<Flaky>> running_;
};

}  // namespace otpd::test

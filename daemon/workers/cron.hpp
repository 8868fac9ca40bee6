// The `cron` kind (docs/workers.md#cron): runs a command on a cron schedule
// or at an interval. Each run is a task of this worker, started on the loop
// through LoopServices; when a run comes due while the previous one is still
// going, the overlap policy decides (skip it, queue it, or kill the previous
// one first). A run past its timeout is killed, and so is the run still
// going when the worker ends, whatever ends it: no run outlives its worker.
//
// Calls (otpctl call PATH ...):
//   "status"  the schedule, the next run, the running one, the last outcome
//   "run"     a run now, under the overlap policy; replies what became of it
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "config/cron_next_run.hpp"
#include "config/spec.hpp"
#include "workers/builtin_worker.hpp"
#include "workers/json_interface.hpp"
#include "workers/loop_services.hpp"

namespace otpd::workers {

class Cron final : public BuiltinWorker<Cron>, public JsonInterface {
 public:
  Cron(Ended ended, std::string path, config::CronSettings settings, LoopServices& services);

  void begin();
  void cleanup();
  Json json_call(const Json& message) override;
  void json_cast(const Json& message) override;

  // Any thread (otpctl status asks from the loop): when the next scheduled
  // run is due, in ms since the Unix epoch; nothing when none is.
  std::optional<std::int64_t> next_run_at_ms() const {
    const std::int64_t at = next_run_ms_.load(std::memory_order_relaxed);
    return at == 0 ? std::nullopt : std::optional<std::int64_t>(at);
  }

  // From the loop, as casts; `number` tells the run apart from earlier ones.
  void run_started(std::uint64_t number, int pid);
  void run_ended(std::uint64_t number, CommandOutcome outcome);
  void timer_fired();

 private:
  using WallClock = std::chrono::system_clock;
  using Steady = std::chrono::steady_clock;

  // A run's end, as both sides see it. The worker may end while the run's
  // outcome is on its way to it in a message it will never read: then the
  // worker reports the outcome itself. The run may still be going when the
  // worker ends: then the loop reports it once the run is killed.
  struct RunEnd {
    std::mutex mutex;
    std::optional<CommandOutcome> outcome;  // the run has ended
    bool worker_gone = false;               // the worker has ended first
  };
  struct Run {
    std::uint64_t number = 0;
    std::shared_ptr<RunEnd> end = {};
    CommandId command = 0;
    int pid = 0;  // 0 until the loop says it runs
    std::string trigger = {};
    std::string why = {};  // for its run_started event
    WallClock::time_point started_at{};
    bool killed_for_overlap = false;
  };
  struct Finished {
    Run run;
    CommandOutcome outcome;
    bool succeeded = false;
    std::string reason = {};
  };

  // A run is due (`trigger`: schedule, start, request); what became of it.
  Json due(const std::string& trigger);
  void start_run(const std::string& trigger, const std::string& why);
  void arm_timer();
  WallClock::time_point next_run_time() const;
  // Reports how the current run ended and forgets it; true when it was
  // killed to make way for a new run.
  bool finish_run(CommandOutcome outcome);
  Json status() const;
  void emit(supervise::Event event);

  std::string path_;
  config::CronSettings settings_;
  LoopServices& services_;

  // The next run: by the steady clock for `every`, by the wall clock for a
  // schedule (whose times are local times, and whose plan follows the
  // clock when it is set back).
  Steady::time_point next_every_{};
  config::CronPlan plan_;
  std::optional<Run> running_;
  std::optional<std::string> waiting_;  // the trigger of a run waiting for the current one
  std::optional<Finished> last_;
  std::uint64_t started_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t skipped_ = 0;
  // next_run_time() as the timer was last armed, for other threads; 0: none.
  std::atomic<std::int64_t> next_run_ms_{0};
};

}  // namespace otpd::workers

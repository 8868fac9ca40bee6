#include "supervise/runtime_host.hpp"

#include <utility>

#include "runtime/envelope.hpp"
#include "runtime/scheduler.hpp"

namespace otpd::supervise {

namespace {

// Shared by the handle and the message on its way: the runtime's timers
// cannot be taken back, so a cancelled one arrives and does nothing. Both
// live on the process's thread only, so a plain flag will do.
struct TimerState {
  std::function<void()> fn;
  bool cancelled = false;
};

class RuntimeTimer final : public TimerHandle {
 public:
  explicit RuntimeTimer(std::shared_ptr<TimerState> state) : state_(std::move(state)) {}
  ~RuntimeTimer() override {
    state_->cancelled = true;
    state_->fn = nullptr;  // what it holds goes now, not when the message comes
  }

 private:
  std::shared_ptr<TimerState> state_;
};

struct TimerFired final : runtime::Envelope {
  explicit TimerFired(std::shared_ptr<TimerState> state) : state(std::move(state)) {}
  void deliver(runtime::Process&) override {
    if (state->cancelled) return;
    state->cancelled = true;
    // Moved out first: the callback may destroy its own handle.
    auto fn = std::move(state->fn);
    fn();
  }
  // An idle timeout must not count the engine's own timers as activity.
  bool is_activity() const override { return false; }
  std::shared_ptr<TimerState> state;
};

}  // namespace

// Runs the host's queue before the process's next message.
struct RuntimeHost::RunPosted final : runtime::Envelope {
  explicit RunPosted(RuntimeHost& host) : host(host) {}
  void deliver(runtime::Process&) override { host.run_posted(); }
  bool is_activity() const override { return false; }
  RuntimeHost& host;
};

TimePoint RuntimeHost::now() const {
  return process_.scheduler().now();
}

std::unique_ptr<TimerHandle> RuntimeHost::start_timer(Duration delay, std::function<void()> fn) {
  auto state = std::make_shared<TimerState>(TimerState{.fn = std::move(fn)});
  process_.scheduler().start_timer(process_, delay, new TimerFired(state));
  return std::make_unique<RuntimeTimer>(std::move(state));
}

void RuntimeHost::post(std::function<void()> fn) {
  if (runtime::Process::current() != &process_) {
    process_.self().send(runtime::make_envelope([fn = std::move(fn)](runtime::Process&) { fn(); }));
    return;
  }
  posted_.push_back(std::move(fn));
  if (!run_pending_) {
    run_pending_ = true;
    process_.run_next(new RunPosted(*this));
  }
}

bool RuntimeHost::reports_here() const {
  return runtime::Process::current() == &process_;
}

void RuntimeHost::run_posted() {
  // What the posted work posts runs in this same round.
  while (!posted_.empty()) {
    auto fn = std::move(posted_.front());
    posted_.pop_front();
    fn();
  }
  run_pending_ = false;
}

}  // namespace otpd::supervise

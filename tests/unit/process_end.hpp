// For runtime tests: waiting until a process has ended on the DOWN message
// a monitor of it gets, as an Erlang test would, rather than by looking at
// it again and again.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <utility>

#include "runtime/gen_server.hpp"

namespace otpd::test {

// Monitors one process and fulfils `ended` with the DOWN it gets; a
// process that has ended already is reported at once (noproc, as in OTP).
// `watching`, when set, is fulfilled once the monitor is on its way.
class EndWatch : public runtime::GenServer<EndWatch> {
 public:
  EndWatch(runtime::Pid target, std::shared_ptr<std::promise<void>> ended,
           std::shared_ptr<std::promise<void>> watching = {})
      : target_(std::move(target)), ended_(std::move(ended)), watching_(std::move(watching)) {}

  void init() {
    monitor(std::exchange(target_, {}));
    if (watching_) watching_->set_value();
  }
  void handle_down(runtime::MonitorRef, const runtime::Pid&, const runtime::ExitReason&) {
    ended_->set_value();
    stop();
  }

 private:
  runtime::Pid target_;
  std::shared_ptr<std::promise<void>> ended_;
  std::shared_ptr<std::promise<void>> watching_;
};

// Whether `pid` has ended, or ends within `bound`. When it has, alive() is
// false: a process is marked ended before its monitors are told.
inline bool ends_within(const runtime::Pid& pid,
                        std::chrono::milliseconds bound = std::chrono::seconds(5)) {
  auto ended = std::make_shared<std::promise<void>>();
  std::future<void> told = ended->get_future();
  runtime::start<EndWatch>(pid.get()->scheduler(), pid, ended);
  return told.wait_for(bound) == std::future_status::ready;
}

// Watches a process that the test is about to end. The DOWN of a monitor
// taken while the process lives comes after its exit signals have gone out
// on its links, so once ended() is true a request to its supervisor sees
// the exit. (A monitor taken as it ends may be told noproc a moment before
// that.)
class EndWatcher {
 public:
  explicit EndWatcher(const runtime::Pid& pid)
      : ended_(std::make_shared<std::promise<void>>()), told_(ended_->get_future()) {
    auto watching = std::make_shared<std::promise<void>>();
    auto placed = watching->get_future();
    runtime::start<EndWatch>(pid.get()->scheduler(), pid, ended_, watching);
    placed_ = placed.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  }
  bool ended(std::chrono::milliseconds bound = std::chrono::seconds(5)) {
    return placed_ && told_.wait_for(bound) == std::future_status::ready;
  }

 private:
  bool placed_ = false;
  std::shared_ptr<std::promise<void>> ended_;
  std::future<void> told_;
};

}  // namespace otpd::test

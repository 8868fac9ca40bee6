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
class EndWatch : public runtime::GenServer<EndWatch> {
 public:
  EndWatch(runtime::Pid target, std::shared_ptr<std::promise<void>> ended)
      : target_(std::move(target)), ended_(std::move(ended)) {}

  void init() { monitor(std::exchange(target_, {})); }
  void handle_down(runtime::MonitorRef, const runtime::Pid&, const runtime::ExitReason&) {
    ended_->set_value();
    stop();
  }

 private:
  runtime::Pid target_;
  std::shared_ptr<std::promise<void>> ended_;
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

}  // namespace otpd::test

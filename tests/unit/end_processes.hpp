// For runtime tests: ends the processes a test started before its Scheduler
// goes. A process still alive then may hold another's Pid in a message not
// yet handled while that one holds its own, and the pair is never freed,
// which the leak checker reports.
#pragma once

#include <initializer_list>

#include "process_end.hpp"
#include "runtime/process.hpp"

namespace otpd::test {

inline bool end_processes(std::initializer_list<runtime::Pid> pids) {
  for (const runtime::Pid& pid : pids) {
    runtime::Process::exit_signal(pid, runtime::ExitReason::killed());
  }
  for (const runtime::Pid& pid : pids) {
    if (!ends_within(pid)) return false;
  }
  return true;
}

}  // namespace otpd::test

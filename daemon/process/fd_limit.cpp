#include "process/fd_limit.hpp"

#include <cerrno>
#include <cstring>

namespace otpd::process {
namespace {

// Written at startup before any spawn, read by every spawn afterwards, all on
// the supervision thread.
bool restore_for_children = false;
bool original_known = false;
rlimit original{};

}  // namespace

FdLimitReport raise_fd_limit() {
  FdLimitReport report;
  rlimit now{};
  if (getrlimit(RLIMIT_NOFILE, &now) != 0) {
    report.failure = std::string("getrlimit: ") + std::strerror(errno);
    return report;
  }
  if (!original_known) {
    original = now;
    original_known = true;
  }
  report.original_soft = original.rlim_cur;
  report.soft = now.rlim_cur;
  report.hard = now.rlim_max;
  if (now.rlim_cur == now.rlim_max) return report;

  rlimit raised{now.rlim_max, now.rlim_max};
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    report.failure = std::string(std::strerror(errno)) + " (raising " +
                     std::to_string(now.rlim_cur) + " to the hard limit " +
                     std::to_string(now.rlim_max) + ")";
    return report;
  }
  report.soft = raised.rlim_cur;
  restore_for_children = original.rlim_cur != raised.rlim_cur;
  return report;
}

const rlimit* child_fd_limit() {
  return restore_for_children ? &original : nullptr;
}

}  // namespace otpd::process

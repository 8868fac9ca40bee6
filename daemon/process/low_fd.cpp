#include "process/low_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <utility>

namespace otpd::process {
namespace {

// Spawning happens on the supervision thread only (docs/spawning.md).
int reserved = -1;
// /dev/null, open for otpd's life: the placeholder is put back by dup3 from
// it, which needs no new descriptor, so it works when otpd has none left.
// Reopening /dev/null instead failed then, and the reserved number kept
// the last child's pipe end open until the next spawn.
int placeholder = -1;

}  // namespace

void reserve_low_fd() {
  if (reserved >= 0) return;
  placeholder = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (placeholder < 0) return;
  reserved = fcntl(placeholder, F_DUPFD_CLOEXEC, 0);
  if (reserved > placeholder) {
    // The lower of the two is the one worth reserving.
    std::swap(reserved, placeholder);
  }
}

int place_low_fd(int fd) {
  if (reserved < 0 || fd == reserved) return fd;
  // dup3 replaces the placeholder atomically: the number is never free.
  return dup3(fd, reserved, O_CLOEXEC) == reserved ? reserved : fd;
}

void release_low_fd() {
  if (reserved >= 0) dup3(placeholder, reserved, O_CLOEXEC);
}

}  // namespace otpd::process

#include "process/low_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace otpd::process {
namespace {

// Spawning happens on the supervision thread only (docs/spawning.md).
int reserved = -1;

// /dev/null holds the number while no child needs it.
void fill(int slot) {
  const int placeholder = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (placeholder < 0) return;
  if (placeholder != slot) {
    dup3(placeholder, slot, O_CLOEXEC);
    close(placeholder);
  }
}

}  // namespace

void reserve_low_fd() {
  if (reserved < 0) reserved = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

int place_low_fd(int fd) {
  if (reserved < 0 || fd == reserved) return fd;
  // dup3 replaces the placeholder atomically: the number is never free.
  return dup3(fd, reserved, O_CLOEXEC) == reserved ? reserved : fd;
}

void release_low_fd() {
  if (reserved >= 0) fill(reserved);
}

}  // namespace otpd::process

// A child that crashes on a schedule: incarnation after incarnation, it
// exits 1 at the ticks PERIOD_MS apart on CLOCK_MONOTONIC, so that a child
// restarted at once dies 1000/PERIOD_MS times a second. STATE_FILE holds
// the tick the last incarnation died on: an incarnation whose restart took
// longer than a period exits at once for the tick it missed, so the rate
// holds as long as restarts take less than a period on average; one more
// than ten periods behind starts the schedule again from now (the
// benchmark reports the rate reached, not the one asked for).
//
// Usage: otpd-bench-tick-crasher PERIOD_MS STATE_FILE
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc < 3) _exit(2);
  const long period_ms = strtol(argv[1], NULL, 10);
  if (period_ms <= 0) _exit(2);
  const int64_t period = (int64_t)period_ms * 1000000;
  const int fd = open(argv[2], O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) _exit(3);
  int64_t last = 0;
  if (pread(fd, &last, sizeof last, 0) != (ssize_t)sizeof last) last = 0;
  const int64_t now = now_ns();
  int64_t due = last + period;
  if (last == 0 || due < now - 10 * period) due = (now / period + 1) * period;
  if (pwrite(fd, &due, sizeof due, 0) != (ssize_t)sizeof due) _exit(4);
  const struct timespec at = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) != 0) {
  }
  _exit(1);
}

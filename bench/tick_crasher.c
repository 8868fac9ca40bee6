// A child that crashes on a schedule: it sleeps until the next multiple of
// PERIOD_MS on CLOCK_MONOTONIC, then exits 1. Restarted at once each time,
// it dies 1000/PERIOD_MS times a second as long as otpd restarts it within
// a period; a restart that takes longer skips a tick, and the benchmark
// reports the rate reached rather than the one asked for.
//
// Usage: otpd-bench-tick-crasher PERIOD_MS
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) _exit(2);
  const long period_ms = strtol(argv[1], NULL, 10);
  if (period_ms <= 0) _exit(2);
  const int64_t period_ns = (int64_t)period_ms * 1000000;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  const int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
  const int64_t due_ns = (now_ns / period_ns + 1) * period_ns;
  const struct timespec due = {.tv_sec = due_ns / 1000000000, .tv_nsec = due_ns % 1000000000};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) != 0) {
  }
  _exit(1);
}
